"""Access matrix: every route of `app.url_map` × every role × a public and a confidential meeting.

The routes come from the URL map itself, so a route added without a line in `EXPECT` fails
`test_every_route_has_expectations`. Each line says, per role, what the request must get:

    ok   allowed: a page or a redirect (a state change may also be refused for its input or the
         meeting's state: 400/409/422 — the permission gate was passed)
    L    not logged in: 302 to /login (pages), 401 (API, htmx)
    403  forbidden, 404  not found (a confidential meeting is invisible: 404, never 403)

Columns are always: anon outsider cc participant recorder host admin head
(outsider: an employee not invited; admin: a system administrator not invited; head: the head of
an invited department, not invited himself). A rule is a pair (public meeting, confidential meeting).

The world is built once for the module through the services; every request of the matrix is rolled
back (a test-only after_request hook runs before the app's commit), and each client's cookies are put
back after a state-changing request, so no request changes what later rows see.

`test_confidential_markers_never_leak` then checks that the confidential meeting's marker appears in
no response any non-invitee got (pages, fragments, search, exports, .ics, API, error pages) nor in
any email sent to someone not invited.
"""
import contextlib
import contextvars
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.policy import default as default_policy
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from flask import g

from minutes.core import timefmt
from minutes.extensions import db
from tests.conftest import PASSWORD, emptied_afterwards

#: one worker builds the world (30–56 s) and runs every test on it (make test distributes with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("access_matrix")
ROLES = ("anon", "outsider", "cc", "participant", "recorder", "host", "admin", "head")
MARKER = "机密标记XYZ"
PUBLIC_MARKER = "公开标记QRS"


def row(text: str) -> tuple:
    codes = tuple(text.split())
    assert len(codes) == len(ROLES), text
    return codes


def rule(public: str, confidential: str | None = None) -> tuple:
    return row(public), row(confidential if confidential is not None else public)


#                 anon outsider cc  part rec host admin head
EVERYONE = rule("L    ok      ok  ok   ok  ok   ok    ok")
NOBODY_LOGGED = rule("ok ok ok  ok   ok  ok   ok    ok")  # public endpoints: login, static, health, feeds
ADMIN = rule("L    403     403 403  403 403  ok    403")
VIEW = rule("L    ok      ok  ok   ok  ok   ok    ok",
            "L    404     ok  ok   ok  ok   404   404")
#: creator/host/recorder plan the meeting; an admin may step in on a public one (meetings.service.can_edit)
EDIT = rule("L    403     403 403  ok  ok   ok    403",
            "L    404     403 403  ok  ok   404   404")
#: host and recorder write in the room and the minutes (room/records.service.can_write)
WRITE = rule("L    403     403 403  ok  ok   403   403",
             "L    404     403 403  ok  ok   404   404")
#: the host alone (records.service.is_host: finalizing)
HOST = rule("L    403     403 403  403 ok   403   403",
            "L    404     403 403  403 ok   404   404")
#: the change history: host, creator and administrators (audit.service.can_view_history)
HISTORY = rule("L    403     403 403  403 ok   ok    403",
               "L    404     403 403  403 ok   404   404")
#: the action's owner (the participant), the meeting's host/recorder, an admin on a public meeting
ACTION_UPDATE = rule("L    403     403 ok   ok  ok   ok    403",
                     "L    404     403 ok   ok  ok   404   404")
#: those asked to sign off the minutes: host, participant, cc, and the invited department's head (public only)
RECIPIENT = rule("L    403     ok  ok   403 ok   403   ok",
                 "L    404     ok  ok   403 ok   404   404")
#: one of the host's own tokens: the host, or an administrator
OWN_TOKEN = rule("L    404     404 404  404 ok   ok    404")
#: a token never makes tokens (the API takes the browser's session for that, tested in tests/api/test_tokens.py)
NO_TOKEN_MAKES_TOKENS = rule("L    403     403 403  403 403  403   403")
#: pages that exist only in `make run`'s local-mailbox mode (MAIL_DEV_MAILBOX=1, off here)
DEV_ONLY = rule("L    404     404 404  404 404  404   404")
#: logging out ends, for everyone, on the login page
LOGOUT = rule("L    L       L   L    L   L    L     L")
#: a sign-in's callback without a sign-in in progress (no state in the session): refused for everyone
SIGN_IN_CALLBACK = rule("400  400     400 400  400 400  400   400")
#: a chat platform's card callback while no chat platform is configured (tests/chat checks the configured ones)
NO_CHAT = rule("404  404     404 404  404 404  404   404")


@dataclass
class Case:
    """Which meeting a route's parameters come from ("plan", "live" or "done"); extra request data."""

    rules: dict  # method -> rule
    stage: str = "plan"
    data: dict = field(default_factory=dict)
    query: str = ""


def E(stage="plan", data=None, query="", **rules):
    return Case(rules=rules, stage=stage, data=data if data is not None else {}, query=query)


EXPECT: dict[str, Case] = {
    # --- public endpoints ----------------------------------------------------------------------
    "static": E(GET=NOBODY_LOGGED),
    "health": E(GET=NOBODY_LOGGED),
    "favicon": E(GET=NOBODY_LOGGED),
    "people.login": E(GET=NOBODY_LOGGED, POST=NOBODY_LOGGED),
    "actions.calendar_feed": E(GET=NOBODY_LOGGED),
    "api.openapi": E(GET=NOBODY_LOGGED),
    # single sign-on (configured in `world`): the start sends anyone to the IdP / vendor, the callback checks state
    "identity.oidc_login": E(GET=NOBODY_LOGGED),
    "identity.oidc_callback": E(GET=SIGN_IN_CALLBACK, query="?code=x&state=y"),
    "identity.feishu_login": E(GET=NOBODY_LOGGED),
    "identity.feishu_callback": E(GET=SIGN_IN_CALLBACK, query="?code=x&state=y"),
    "identity.dingtalk_login": E(GET=NOBODY_LOGGED),
    "identity.dingtalk_callback": E(GET=SIGN_IN_CALLBACK, query="?authCode=x&state=y"),
    # DingTalk 免登: the page for anyone (signed in: on to the dashboard); a POST without a code is refused (400)
    "identity.dingtalk_in_app": E(GET=NOBODY_LOGGED, POST=NOBODY_LOGGED),
    "identity.wecom_login": E(GET=NOBODY_LOGGED),
    "identity.wecom_callback": E(GET=SIGN_IN_CALLBACK, query="?code=x&state=y"),
    "chat.callback": E(GET=NO_CHAT, POST=NO_CHAT),
    # --- everyone logged in ------------------------------------------------------------------------
    "people.logout": E(POST=LOGOUT),
    "people.profile": E(GET=EVERYONE, POST=EVERYONE),
    "people.create_token": E(POST=EVERYONE),
    "people.revoke_token": E(POST=OWN_TOKEN),
    "meetings.dashboard": E(GET=EVERYONE),
    "meetings.index": E(GET=EVERYONE),
    "meetings.new": E(GET=EVERYONE, POST=EVERYONE),
    "actions.index": E(GET=EVERYONE),
    "actions.mine": E(GET=EVERYONE),
    "actions.follow_up": E(GET=EVERYONE, POST=EVERYONE),
    "actions.calendar": E(GET=EVERYONE, POST=EVERYONE),
    "archive.index": E(GET=EVERYONE),
    "archive.search": E(GET=EVERYONE, query="?q=机密标记"),  # the page repeats the query: not the whole marker
    "archive.topic": E(stage="done", GET=VIEW),
    "records.index": E(GET=EVERYONE),
    # --- administrators ----------------------------------------------------------------------------
    "actions.settings": E(GET=ADMIN, POST=ADMIN),
    "audit.admin_log": E(GET=ADMIN),
    "admin.calendar": E(GET=ADMIN),
    "admin.add_override": E(POST=ADMIN),
    "admin.delete_override": E(POST=ADMIN),
    "admin.departments": E(GET=ADMIN),
    "admin.add_department": E(POST=ADMIN),
    "admin.rename_department": E(POST=ADMIN),
    "admin.outbox": E(GET=ADMIN),
    "dev_mailbox.index": E(GET=DEV_ONLY),
    "dev_mailbox.html_body": E(GET=DEV_ONLY),
    "admin.retry_message": E(POST=ADMIN),
    "directory.directory": E(GET=ADMIN),
    "directory.run": E(POST=ADMIN),
    "admin.users": E(GET=ADMIN),
    "admin.edit_user": E(GET=ADMIN, POST=ADMIN),
    "admin.reset_password": E(POST=ADMIN),
    "admin.import_users": E(GET=ADMIN, POST=ADMIN),
    "admin.import_sample": E(GET=ADMIN),
    "admin.new_user": E(GET=ADMIN, POST=ADMIN),
    "notify.bots": E(GET=ADMIN),
    "notify.create": E(POST=ADMIN),
    "notify.show": E(GET=ADMIN),
    "notify.delete": E(POST=ADMIN),
    "notify.edit": E(GET=ADMIN, POST=ADMIN),
    "notify.test": E(POST=ADMIN),
    "notify.retry": E(POST=ADMIN),
    # --- planning ----------------------------------------------------------------------------------
    "meetings.show": E(GET=VIEW),
    "meetings.edit": E(GET=EDIT, POST=EDIT),
    "meetings.cancel": E(POST=EDIT),
    "meetings.add_item": E(POST=EDIT, data={"title": "新议题", "minutes": "10"}),
    "meetings.order_agenda": E(POST=EDIT),
    "meetings.add_participants": E(POST=EDIT),
    "meetings.send_agenda": E(POST=EDIT),
    "meetings.agenda_delivery": E(GET=EDIT),
    # a helper of the invitation form: the company directory, nothing of the meeting
    "meetings.department_people": E(GET=VIEW),
    "meetings.edit_item": E(POST=EDIT, data={"title": "改过的议题", "minutes": "15"}),
    "meetings.delete_item": E(POST=EDIT),
    "meetings.move_item": E(POST=EDIT),
    "meetings.add_material": E(POST=EDIT, data={"url": "https://intranet.example/doc", "title": "参考"}),
    "meetings.download_material": E(GET=VIEW),
    "meetings.delete_material": E(POST=EDIT),
    "meetings.remove_participant": E(POST=EDIT),
    "meetings.set_role": E(POST=EDIT, data={"role": "cc"}),
    "audit.meeting_history": E(GET=HISTORY),
    # --- series and action tracking ----------------------------------------------------------------
    "actions.start_series": E(stage="live", GET=VIEW, POST=EDIT),
    "actions.series_page": E(stage="done", GET=VIEW),
    "actions.series_next": E(stage="done", POST=EDIT),
    "actions.review": E(stage="next", GET=VIEW),
    "actions.show": E(stage="done", GET=VIEW),
    "actions.update_status": E(stage="done", POST=ACTION_UPDATE, data={"status": "in_progress", "note": "推进中"}),
    # --- the room ----------------------------------------------------------------------------------
    "room.room": E(stage="live", GET=VIEW),
    "room.screen": E(stage="live", GET=VIEW),
    "room.events": E(stage="live", GET=VIEW),
    # helpers of the room's forms: the company directory, the wording advice for typed text
    "room.people_options": E(stage="live", GET=VIEW),
    "room.check": E(stage="live", POST=VIEW),
    "room.mark_attendance": E(stage="live", GET=WRITE, POST=WRITE, query="?user_id={participant_id}&status=late",
                              data={"user_id": "{participant_id}", "status": "present"}),
    "room.add_attendee": E(stage="live", GET=WRITE, POST=WRITE),
    "room.start": E(stage="plan", POST=WRITE),
    "room.set_current": E(stage="live", POST=WRITE),
    "room.add_point": E(stage="live", POST=WRITE),
    "room.add_decision": E(stage="live", POST=WRITE),
    "room.add_action": E(stage="live", POST=WRITE),
    "room.add_agenda_item": E(stage="live", POST=WRITE, data={"title": "临时议题", "minutes": "10"}),
    "room.edit": E(stage="live", GET=WRITE, POST=WRITE),
    "room.delete": E(stage="live", POST=WRITE),
    "room.enter_review": E(stage="live", POST=WRITE),
    "room.leave_review": E(stage="live", POST=WRITE),
    "room.review_confirm": E(stage="live", POST=WRITE),
    "room.review_goto": E(stage="live", POST=WRITE),
    "room.review_reword": E(stage="live", GET=WRITE, POST=WRITE, query="?key={review_key}"),
    "transcripts.show": E(stage="live", GET=VIEW),
    "transcripts.upload": E(stage="live", POST=WRITE),
    "transcripts.accept": E(stage="live", POST=WRITE),
    "transcripts.drop": E(stage="live", POST=WRITE),
    #: with no model configured those who may import are told so (409: past the gate); tests/transcripts/test_model.py
    "transcripts.assist": E(stage="live", POST=WRITE),
    #: without a ticket from `assist` the stream only says the request has expired: nothing is asked or shown
    "transcripts.assist_stream": E(stage="live", GET=VIEW),
    "room.review_step": E(stage="live", POST=WRITE),
    "room.finish": E(stage="live", POST=WRITE),
    "room.carry_over": E(stage="done", POST=WRITE),
    # --- minutes -----------------------------------------------------------------------------------
    "records.show": E(stage="done", GET=VIEW),
    "records.delivery": E(stage="done", GET=WRITE),
    "records.diff": E(stage="done", GET=VIEW, query="?a=1&b=2"),
    "records.version": E(stage="done", GET=VIEW),
    "records.print_view": E(stage="done", GET=VIEW),
    "records.download": E(stage="done", GET=VIEW),
    "records.create": E(stage="done", POST=WRITE),
    "records.save_draft": E(stage="done", POST=WRITE),
    "records.preview": E(stage="done", POST=WRITE),
    "records.regenerate": E(stage="done", POST=WRITE),
    #: with no model summary yet the writers are told so (409: past the gate); tests/transcripts/test_after_meeting.py
    "records.insert_summary": E(stage="done", POST=WRITE),
    "records.distribute": E(stage="done", POST=WRITE),
    "records.revise": E(stage="done", POST=WRITE),
    "records.finalize": E(stage="done", POST=HOST),
    "records.correct": E(stage="done", POST=WRITE),
    "records.respond": E(stage="done", POST=RECIPIENT, data={"response": "confirm"}),
    # --- API (Bearer tokens) -----------------------------------------------------------------------
    "api.get_me": E(GET=EVERYONE),
    "api.list_meetings": E(GET=EVERYONE),
    "api.list_actions": E(GET=EVERYONE),
    "api.search": E(GET=EVERYONE, query="?q=机密标记"),
    "api.create_meeting": E(POST=EVERYONE),
    "api.create_token": E(POST=NO_TOKEN_MAKES_TOKENS, data={"name": "集成"}),
    "api.revoke_token": E(DELETE=OWN_TOKEN),
    "api.get_meeting": E(GET=VIEW),
    "api.patch_meeting": E(PATCH=EDIT, data={"location": "302会议室"}),
    "api.create_agenda_item": E(POST=EDIT, data={"title": "接口议题", "minutes": 10}),
    "api.order_agenda": E(POST=EDIT, data=[]),
    "api.patch_agenda_item": E(PATCH=EDIT, data={"minutes": 12}),
    "api.delete_agenda_item": E(DELETE=EDIT),
    "api.send_agenda": E(POST=EDIT, data={}),
    "api.start_meeting": E(POST=WRITE, data={}),
    "api.get_room": E(stage="live", GET=VIEW),
    "api.post_attendance": E(stage="live", POST=WRITE, data={"username": "participant", "status": "present"}),
    "api.create_point": E(stage="live", POST=WRITE, data={"kind": "viewpoint", "text": "接口观点"}),
    "api.patch_point": E(stage="live", PATCH=WRITE, data={"version": 1}),
    "api.delete_point": E(stage="live", DELETE=WRITE),
    "api.create_decision": E(stage="live", POST=WRITE, data={"text": "接口决定"}),
    "api.create_action": E(stage="live", POST=WRITE, data={"text": "接口待办", "owner": "participant", "due": "2026-07-01"}),
    "api.confirm_decision": E(stage="live", POST=WRITE, data={}),
    "api.confirm_action": E(stage="live", POST=WRITE, data={}),
    "api.enter_review": E(stage="live", POST=WRITE, data={}),
    "api.finish_meeting": E(stage="live", POST=WRITE, data={}),
    "api.patch_action": E(stage="done", PATCH=ACTION_UPDATE, data={"status": "in_progress"}),
    "api.get_minutes": E(stage="done", GET=VIEW),
    "api.create_minutes": E(stage="done", POST=WRITE, data={}),
    "api.distribute_minutes": E(stage="done", POST=WRITE, data={}),
    "api.finalize_minutes": E(stage="done", POST=HOST, data={}),
    "api.respond_to_minutes": E(stage="done", POST=RECIPIENT, data={"response": "confirm"}),
}

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


# --- the world -------------------------------------------------------------------------------

@dataclass
class Meetings:
    """One confidentiality level: a meeting being planned, one in progress and one whose minutes are out."""

    plan: object = None
    live: object = None
    done: object = None
    series: object = None
    next: object = None  # the done meeting's successor in its series


@dataclass
class World:
    users: dict
    public: Meetings
    secret: Meetings
    api_tokens: dict
    host_token_id: int
    calendar_tokens: dict
    bot_id: int
    message_id: int
    override_id: int
    emails: list
    clients: dict = field(default_factory=dict)
    csrf: dict = field(default_factory=dict)

    def of(self, conf: str) -> Meetings:
        return self.secret if conf == "secret" else self.public


def _at(*args) -> None:
    timefmt.freeze(datetime(*args, tzinfo=timefmt.LOCAL_TZ))


def _plan(u: dict, conf: str, what: str, starts: tuple):
    """A meeting of the host's with recorder, participant and cc invited, two agenda items and materials."""
    from minutes.meetings import materials, service as meetings

    mark = MARKER if conf == "secret" else PUBLIC_MARKER
    start = datetime(*starts, tzinfo=timefmt.LOCAL_TZ)
    m = meetings.create_meeting(u["host"], meetings.MeetingInput(
        topic=f"{mark}{what}会", goal=f"{mark}目标", expected_outcome="形成方案", scenario="problem",
        starts_at=start, ends_at=start + timedelta(minutes=90), location="301会议室",
        organizer_department_id=u["host"].department_id, confidential=conf == "secret"))
    meetings.invite(u["host"], m, [u["recorder"].id], "recorder")
    meetings.invite(u["host"], m, [u["participant"].id], "participant")
    meetings.invite(u["host"], m, [u["cc"].id], "cc")
    for n in (1, 2):
        meetings.add_agenda_item(u["host"], m, f"{mark}议题{n}", 30, u["participant"].department_id,
                                 description=f"{mark}说明")
    item = m.agenda_items[0]
    materials.add_material_file(u["host"], item, f"{'jimi' if conf == 'secret' else 'gongkai'}-plan.txt",
                               BytesIO(f"{mark} 材料正文".encode()), "text/plain")
    materials.add_material_link(u["host"], item, "https://intranet.example/a", f"{mark}链接")
    return m


def _record(u: dict, conf: str, m) -> None:
    """Start the meeting and record a point, a decision and an action (owned by the participant)."""
    from minutes.room import service as room
    from minutes.room import attendance, recording

    mark = MARKER if conf == "secret" else PUBLIC_MARKER
    item = m.agenda_items[0]
    room.start_meeting(u["recorder"], m)
    attendance.mark_attendance(u["recorder"], m, u["participant"].id, "present")
    recording.add_point(u["recorder"], m, item.id, "viewpoint", f"{mark}观点：需缩短响应时间",
                        department_id=u["participant"].department_id, speaker_id=u["participant"].id)
    recording.add_decision(u["recorder"], m, item.id, f"{mark}决定：投诉处理总时效不超过72小时",
                           owner_department_id=u["host"].department_id, owner_id=u["host"].id,
                           cooperating_department_ids=[u["participant"].department_id], due="2026-07-10")
    recording.add_action(u["recorder"], m, item.id, f"{mark}行动：增配一名值班工程师",
                         owner_id=u["participant"].id, due="2026-06-30")
    from minutes.transcripts import service as transcripts

    transcripts.import_transcript(u["recorder"], m, f"{mark}.txt", (
        f"{u['host'].name} 00:00:05\n{mark}那就定了，投诉处理总时效不超过72小时。\n"
        f"{u['recorder'].name} 00:00:30\n{mark}模板改版我来负责，6月30日前完成。\n").encode())


def _hold_and_distribute(u: dict, conf: str, m) -> None:
    """Hold the meeting on 2026-06-15, confirm its outcomes, finish it and send its minutes out."""
    from minutes.records import drafting, signoff
    from minutes.room import service as room
    from minutes.room import review

    mark = MARKER if conf == "secret" else PUBLIC_MARKER
    _at(2026, 6, 15, 14, 0)
    _record(u, conf, m)
    review.enter_review(u["recorder"], m)
    for entry in review.review_entries(m):
        review.confirm_entry(u["recorder"], m, entry.review_key)
    _at(2026, 6, 15, 15, 30)
    review.finish_meeting(u["recorder"], m)
    _at(2026, 6, 16, 10, 0)
    minutes = drafting.draft_from_record(u["recorder"], m)
    drafting.save_draft(u["recorder"], m, minutes.draft_body + f"\n\n{mark}纪要补充说明\n")
    signoff.distribute(u["recorder"], m)
    return minutes


def _build_world(app, smtp_server) -> World:
    from minutes.actions import feeds
    from minutes.calendar.service import set_override
    from minutes.api import service as api_tokens
    from minutes.meetings import series as series_service
    from minutes.meetings import sending, service as meetings
    from minutes.notify.delivery import deliver_pending
    from minutes.people.service import create_user
    from minutes.records import signoff
    from minutes.room import service as room

    _at(2026, 6, 8, 9, 0)
    spec = {"host": ("王主持", "客服部"), "recorder": ("李记录", "客服部"), "participant": ("张技术", "技术部"),
            "cc": ("赵法务", "法务部"), "outsider": ("钱旁人", "财务部"), "admin": ("孙管理", "总经办"),
            "head": ("周总监", "技术部")}
    users = {}
    for role, (name, dept) in spec.items():
        users[role] = create_user(role, name, dept, PASSWORD, email=f"{role}@example.com", is_admin=role == "admin")
    users["head"].is_department_head = True
    db.session.flush()
    u = users

    levels = {}
    for conf in ("public", "secret"):
        levels[conf] = Meetings(plan=_plan(u, conf, "筹备", (2026, 7, 20, 14, 0)),
                                done=_plan(u, conf, "已开", (2026, 6, 15, 14, 0)),
                                live=_plan(u, conf, "进行", (2026, 6, 17, 14, 0)))
        for m in (levels[conf].done, levels[conf].live):
            sending.send_agenda(u["host"], m)
    db.session.commit()

    for conf, level in levels.items():
        mark = MARKER if conf == "secret" else PUBLIC_MARKER
        minutes = _hold_and_distribute(u, conf, level.done)
        _at(2026, 6, 16, 15, 0)
        signoff.revise(u["recorder"], level.done, markdown=minutes.draft_body + f"\n\n{mark}修订\n", note="修订",
                       reask=[u["participant"].id, u["cc"].id])
        level.series = series_service.start_series(u["host"], level.done, f"{mark}系列")
        level.next = series_service.create_next_in_series(u["host"], level.done)
        db.session.commit()
    for conf, level in levels.items():
        _at(2026, 6, 17, 14, 0)
        _record(u, conf, level.live)
        db.session.commit()

    _at(2026, 6, 17, 14, 30)
    api_tokens_by_role = {role: api_tokens.create_token(user, "矩阵")[1] for role, user in u.items()}
    host_token = api_tokens.create_token(u["host"], "可撤销")[0]
    calendar_tokens = {role: feeds.issue_calendar_token(user) for role, user in u.items()}
    from minutes.notify.bots import create_bot

    bot = create_bot(u["admin"], u["participant"].department_id, "dingtalk", "技术部群",
                     "http://127.0.0.1:9/robot/send?access_token=x")  # loopback, nobody listens
    override = set_override(u["admin"], date(2026, 9, 1), False, "公司年会")
    db.session.commit()

    # the daily reminders and escalations to department heads, and the minutes' overdue notices, up to
    # three weeks after the actions were due
    from minutes.actions.reminders import run_reminders

    for day in range(24, 52):
        at = datetime(2026, 6, 1, 10, 0, tzinfo=timefmt.LOCAL_TZ) + timedelta(days=day)
        timefmt.freeze(at)
        run_reminders(at)
        signoff.send_reminders(at)
    db.session.commit()
    smtp_server.clear()
    deliver_pending()  # still on the last day: everything queued is due
    db.session.commit()
    _at(2026, 6, 17, 14, 30)
    from minutes.notify.models import OutboxMessage

    message_id = db.session.scalar(db.select(OutboxMessage.id).order_by(OutboxMessage.id))
    emails = smtp_server.wait_for(1)
    return World(users=users, public=levels["public"], secret=levels["secret"], api_tokens=api_tokens_by_role,
                 host_token_id=host_token.id, calendar_tokens=calendar_tokens, bot_id=bot.id,
                 message_id=message_id, override_id=override.id, emails=emails)


def _rollback_everything(response):
    """Test-only: while the matrix runs, nothing a request did is kept (runs before web.finish_request)."""
    if g.get("_matrix_rollback", True) and _MATRIX["on"]:
        db.session.rollback()
    return response


_MATRIX = {"on": False}


@pytest.fixture(scope="module")
def world(_app, smtp_server):
    with emptied_afterwards(_app, smtp_server), _sign_in_methods(_app):
        w = _build_world(_app, smtp_server)
        _app.config["WTF_CSRF_ENABLED"] = True
        for role in ROLES:
            w.clients[role], w.csrf[role] = _logged_in_client(_app, None if role == "anon" else w.users[role])
        _app.after_request_funcs.setdefault(None, []).append(_rollback_everything)
        _MATRIX["on"] = True
        try:
            yield w
        finally:
            _MATRIX["on"] = False
            _app.after_request_funcs[None].remove(_rollback_everything)


@contextlib.contextmanager
def _sign_in_methods(app):
    """Every single sign-on method configured: OIDC against a real IdP on loopback, the vendors at a dead port
    (their start only redirects; a callback without state is refused before any call)."""
    from tests.identity.oidc_provider import OidcProvider

    idp = OidcProvider()
    dead = "http://127.0.0.1:9"
    app.config.update(OIDC_ISSUER=idp.issuer, OIDC_CLIENT_ID="minutes", OIDC_CLIENT_SECRET="s3cret",
                      FEISHU_APP_ID="cli_x", FEISHU_APP_SECRET="x", FEISHU_BASE_URL=dead,
                      FEISHU_AUTHORIZE_URL=dead + "/open-apis/authen/v1/authorize",
                      DINGTALK_CLIENT_ID="ding_x", DINGTALK_CLIENT_SECRET="x", DINGTALK_CORP_ID="ding_corp_x",
                      DINGTALK_LOGIN_URL=dead,
                      DINGTALK_API_URL=dead, DINGTALK_OAPI_URL=dead, WECOM_CORP_ID="ww_x", WECOM_AGENT_ID="1",
                      WECOM_SECRET="x", WECOM_BASE_URL=dead, WECOM_LOGIN_URL=dead, WECOM_OAUTH_URL=dead)
    try:
        yield idp
    finally:
        idp.stop()


def _logged_in_client(app, user):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    if user is not None:
        r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302 and "/login" not in r.headers["Location"], r.get_data(as_text=True)[:300]
        page = client.get("/profile").get_data(as_text=True)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    return client, token


# --- filling in a route's parameters ---------------------------------------------------------

def _params(w: World, rule, conf: str, stage: str) -> dict:
    from minutes.actions.models import ActionItem
    from minutes.archive.models import ArchiveEntry
    from minutes.records.service import current_version, minutes_of
    from minutes.room.models import Decision, Point

    level = w.of(conf)
    m = getattr(level, stage)
    item = m.agenda_items[0]
    values = {}
    for name in rule.arguments:
        if name == "meeting_id":
            values[name] = m.id
        elif name == "item_id":
            values[name] = item.id
        elif name == "material_id":
            values[name] = item.materials[0].id
        elif name == "participant_id":
            values[name] = next(p.id for p in m.participants if p.user_id == w.users["participant"].id)
        elif name == "action_id":
            values[name] = db.session.scalar(db.select(ActionItem.id).where(ActionItem.meeting_id == m.id))
        elif name == "decision_id":
            values[name] = db.session.scalar(db.select(Decision.id).where(Decision.meeting_id == m.id))
        elif name == "point_id":
            values[name] = db.session.scalar(db.select(Point.id).where(Point.meeting_id == m.id))
        elif name == "suggestion_id":
            from minutes.transcripts.models import Suggestion, Transcript

            values[name] = db.session.scalar(db.select(Suggestion.id).join(Transcript)
                                             .where(Transcript.meeting_id == m.id).order_by(Suggestion.id))
        elif name == "version_id":
            values[name] = current_version(minutes_of(level.done)).id
        elif name == "kind":
            values[name] = "points"
        elif name == "obj_id":
            values[name] = db.session.scalar(db.select(Point.id).where(Point.meeting_id == m.id))
        elif name == "series_id":
            values[name] = level.series.id
        elif name == "key":
            values[name] = db.session.scalar(db.select(ArchiveEntry.topic_key)
                                             .where(ArchiveEntry.meeting_id == level.done.id))
        elif name == "fmt":
            values[name] = "md"
        elif name == "platform":
            values[name] = "feishu"
        elif name == "token":
            values[name] = w.calendar_tokens["participant"]
        elif name == "token_id":
            values[name] = w.host_token_id
        elif name == "bot_id":
            values[name] = w.bot_id
        elif name == "message_id":
            values[name] = w.message_id
        elif name == "user_id":
            values[name] = w.users["outsider"].id
        elif name == "dept_id":
            values[name] = w.users["outsider"].department_id
        elif name == "override_id":
            values[name] = w.override_id
        elif name == "filename":
            values[name] = "app.js"
        else:
            raise AssertionError(f"{rule.rule}: no value for parameter <{name}>; add it to _params")
    return values


def _fill(text, w: World, conf: str, stage: str):
    """Placeholders in a case's query string or form values: {review_key}, {participant_id}."""
    from minutes.room.models import Decision

    if not isinstance(text, str) or "{" not in text:
        return text
    m = getattr(w.of(conf), stage)
    decision = db.session.scalar(db.select(Decision).where(Decision.meeting_id == m.id))
    return text.format(review_key=decision.review_key if decision else "", participant_id=w.users["participant"].id)


# --- running the matrix ----------------------------------------------------------------------

@dataclass
class Result:
    endpoint: str
    method: str
    url: str
    role: str
    conf: str
    expected: str
    status: int
    location: str
    body: str

    @property
    def verdict(self) -> str:
        """What the response amounts to, in the table's vocabulary."""
        s, api = self.status, self.url.startswith("/api/")
        if s >= 500:
            return f"{s}"
        if (s == 302 and urlsplit(self.location).path == "/login") or (s == 401):  # this site's login page
            return "L"
        if s in (403, 404, 405):
            return str(s)
        if s < 400:
            return "ok"
        if self.method in STATE_CHANGING and s in (400, 409, 413, 422) and "请刷新页面后重试" not in self.body:
            return "ok"  # past the permission gate, refused for its input or the meeting's state
        return f"{s}"


def _call(w: World, role: str, method: str, url: str, data=None) -> tuple[int, str, str]:
    client = w.clients[role]
    headers = {}
    kwargs = {}
    if url.startswith("/api/") and url != "/api/v1/openapi.json":
        if role != "anon":
            headers["Authorization"] = f"Bearer {w.api_tokens[role]}"
        if method in STATE_CHANGING:
            kwargs["json"] = data
    elif method in STATE_CHANGING:
        kwargs["data"] = {**(data or {}), "csrf_token": w.csrf[role]}
    saved = dict(client._cookies) if method in STATE_CHANGING else None
    try:
        if url.endswith("/events"):
            response = client.open(url, method=method, headers=headers, buffered=False)

            def first_frames():  # like a server thread: the stream runs outside the test's context
                if response.status_code != 200:
                    return [response.get_data()]
                stream = iter(response.response)
                frames = [next(stream, b""), next(stream, b"")]  # "connected", then the first resync frame
                response.close()
                return frames

            chunks = contextvars.Context().run(first_frames)
            body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8", "replace")
        else:
            response = client.open(url, method=method, headers=headers, **kwargs)
            binary = response.mimetype.startswith(("application/vnd", "image/"))  # xlsx/docx, the tab icon
            body = response.get_data().decode("latin-1") if binary else response.get_data(as_text=True)
        return response.status_code, response.headers.get("Location", ""), body
    finally:
        if saved is not None:
            client._cookies.clear()
            client._cookies.update(saved)


def _cases(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        case = EXPECT.get(rule.endpoint)
        if case is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, case


@pytest.fixture(scope="module")
def results(world, _app) -> list[Result]:
    out = []
    for rule, method, case in _cases(_app):
        rules = case.rules.get(method)
        if rules is None:
            continue
        urls = {}
        for conf, expected in (("public", rules[0]), ("secret", rules[1])):
            with _app.test_request_context():
                url = rule.build(_params(world, rule, conf, case.stage), append_unknown=False)[1] + \
                    _fill(case.query, world, conf, case.stage)
            data = case.data
            if isinstance(data, dict):
                data = {k: _fill(v, world, conf, case.stage) for k, v in data.items()}
            urls.setdefault(url, []).append((conf, expected, data))
        for url, variants in urls.items():
            for conf, expected, data in variants:
                for role, want in zip(ROLES, expected):
                    status, location, body = _call(world, role, method, url, data)
                    out.append(Result(rule.endpoint, method, url, role, conf, want, status, location, body))
                break  # the same URL for both levels (a route without a meeting): one run is enough
    return out


# --- the tests -------------------------------------------------------------------------------

def test_every_route_has_expectations(_app):
    """A route added later without a line in EXPECT (or a method without a rule) fails here."""
    missing, stale = [], set(EXPECT)
    for rule in _app.url_map.iter_rules():
        stale.discard(rule.endpoint)
        case = EXPECT.get(rule.endpoint)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if case is None or method not in case.rules:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an access expectation:\n" + "\n".join(missing)
    assert not stale, f"expectations for endpoints that no longer exist: {sorted(stale)}"


def test_access_matrix(results):
    wrong = [f"{r.method} {r.url} as {r.role} ({r.conf}): expected {r.expected}, got {r.status} "
             f"{r.location or r.body[:120]!r}"
             for r in results if r.verdict != r.expected]
    assert len(results) > 1000
    assert not wrong, f"{len(wrong)} of {len(results)} requests wrong:\n" + "\n".join(wrong)


def test_matrix_refuses_csrf_less_posts(world):
    """The matrix's POSTs carry a valid token: without one the same request is refused."""
    client = world.clients["host"]
    meeting = world.public.plan
    r = client.post(f"/meetings/{meeting.id}/cancel", data={})
    assert r.status_code == 400 and "请刷新页面后重试" in r.get_data(as_text=True)


def _leaks(text: str) -> bool:
    return MARKER in text or json.dumps(MARKER)[1:-1] in text


NON_INVITEES = ("anon", "outsider", "admin", "head")


def test_confidential_markers_never_leak(results, world, _app):
    # the scanner finds the markers where they belong: the public one for the outsider, the secret one for invitees
    assert any(PUBLIC_MARKER in r.body for r in results if r.role == "outsider" and r.method == "GET")
    assert any(_leaks(r.body) for r in results if r.role == "participant" and r.url.startswith("/api/"))
    assert any(_leaks(r.body) for r in results if r.role == "cc" and r.url.endswith(".md"))
    assert any(_leaks(r.body) for r in results if r.role == "participant" and r.url.endswith("/events"))

    # the matrix reads the participant's own feed (its token is the participant's secret): non-invitees'
    # own feeds are read below
    leaks = sorted({f"{r.method} {r.url} as {r.role} ({r.status})" for r in results
                    if r.role in NON_INVITEES and r.endpoint != "actions.calendar_feed" and _leaks(r.body)})
    extra = []
    for role in NON_INVITEES[1:]:
        for url in ("/archive/search?q=机密标记", "/archive/search?q=XYZ", "/archive?view=date",
                    "/api/v1/search?q=机密标记", "/api/v1/meetings?scope=all", "/api/v1/actions",
                    f"/calendar/{world.calendar_tokens[role]}.ics", "/meetings?scope=past", "/actions?status=all",
                    "/no-such-page", f"/meetings/{world.secret.done.id}/minutes",
                    f"/minutes/versions/999999/export.md"):
            status, _loc, body = _call(world, role, "GET", url)
            if _leaks(body):
                extra.append(f"GET {url} as {role} ({status})")
    assert not leaks + extra, "the confidential marker reached a non-invitee:\n" + "\n".join(leaks + extra)


def _email_text(message) -> str:
    msg = message["msg"]
    parts = [str(msg.get("Subject", ""))]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def test_no_confidential_email_to_non_invitees(world):
    invited = {f"{r}@example.com" for r in ("host", "recorder", "participant", "cc")}
    assert world.emails, "the world's agenda and minutes produced no email"
    assert any(MARKER in _email_text(m) for m in world.emails if set(m["to"]) & invited), \
        "invitees got the confidential meeting's emails (the check can see the marker)"
    assert any(PUBLIC_MARKER in _email_text(m) for m in world.emails if m["to"] == ["head@example.com"]), \
        "the department head hears of the public meeting (so his silence on the confidential one means something)"
    assert any(PUBLIC_MARKER in _email_text(m) and "需协调" in str(m["msg"]["Subject"]) for m in world.emails
               if m["to"] == ["head@example.com"]), "the head is told of the public meeting's overdue action"
    wrong = [(m["to"], str(m["msg"]["Subject"])) for m in world.emails
             if not set(m["to"]) <= invited and MARKER in _email_text(m)]
    assert not wrong, f"confidential content emailed to people not invited: {wrong}"


#: Lists, counts, dashboards and feeds whose content does not depend on one meeting.
AGGREGATES = ("/", "/meetings", "/meetings?scope=past", "/meetings?scope=all", "/actions", "/actions?status=all",
              "/actions/mine", "/actions/follow-up", "/archive", "/archive?view=date", "/archive/search?q=议题",
              "/archive/search?q=行动", "/minutes", "/api/v1/meetings", "/api/v1/meetings?scope=all",
              "/api/v1/actions", "/api/v1/search?q=议题", "/api/v1/me")
VOLATILE = re.compile(r'(csrf[_-]token"?[^>]*?(value|content)="|"X-CSRFToken": ")[^"]+"')


def test_confidential_meetings_change_no_count_a_non_invitee_sees(world):
    """Runs last: another confidential meeting, held and with its minutes out, changes nothing a
    non-invitee sees in lists, counts, dashboards, search, the API and their own calendar feed."""
    def snapshot() -> dict:
        pages = {}
        for role in ("outsider", "admin", "head"):
            for url in AGGREGATES + (f"/calendar/{world.calendar_tokens[role]}.ics",):
                status, _loc, body = _call(world, role, "GET", url)
                pages[(role, url)] = (status, VOLATILE.sub("", body))
        return pages

    before = snapshot()
    assert snapshot() == before, "the pages are not stable between two reads: the comparison would prove nothing"
    from minutes.meetings import sending

    _at(2026, 6, 8, 9, 0)
    extra = _plan(world.users, "secret", "追加", (2026, 6, 15, 14, 0))
    sending.send_agenda(world.users["host"], extra)
    _hold_and_distribute(world.users, "secret", extra)
    _at(2026, 6, 17, 14, 30)
    db.session.commit()
    after = snapshot()
    changed = [f"{role} {url}" for (role, url), page in before.items() if after[(role, url)] != page]
    assert not changed, "a confidential meeting shows in what non-invitees see:\n" + "\n".join(changed)
