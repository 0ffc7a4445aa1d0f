"""Rules of the formal minutes (会后总结): generation from the record, distribution and sign-off,
revisions, the final lock, corrections.

Every function takes the acting user and plain values, checks permission, changes state, flushes
and returns the object; the caller commits. Emails go through the outbox in the same transaction.

The life of the minutes of one meeting:
  meeting MINUTES_DUE ── draft_from_record ──> Minutes(DRAFT): the recorder edits the Markdown
  ── distribute ──> version 1, meeting DISTRIBUTED: each recipient answers 确认无误 / 提出修改意见
  ── revise ──> version 2 … (asks again only those whose comment it answers, plus people picked)
  ── everyone settled (or the host closes with a reason) ──> the version is final, meeting FINAL
  ── correct ──> a 更正 version pointing at the final one, final at once, everyone told.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, render_template
from flask_babel import gettext
from sqlalchemy import select

from minutes.actions.models import ActionItem
from minutes.admin.service import work_calendar
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.core.timefmt import cn_date, cn_datetime, cn_time, to_local, utcnow
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings.models import Meeting, MeetingStatus, Participant, Role
from minutes.meetings.service import can_view
from minutes.notify import service as notify
from minutes.people.models import Department, User
from minutes.records import render
from minutes.records.models import (Minutes, MinutesRecipient, MinutesRequest, MinutesResponse, MinutesStatus,
                                    MinutesVersion, RecipientReason, ResponseKind, VersionKind)
from minutes.room import service as room_service
from minutes.room import attendance
from minutes.room.models import AttendanceStatus, Decision, PointKind, RoomState

#: Recipients answer within this many working days (收件人在1个工作日内反馈).
ANSWER_WORKDAYS = 1
MAX_BODY = 100_000
MAX_COMMENT = 2000
AFTER_MEETING = (MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)
CN_DIGITS = "零一二三四五六七八九"
SECTION_TITLES = ("一、会议基本信息", "二、会议目标与议程回顾", "三、各议题讨论要点",
                  render.DECISIONS_HEADING, render.ACTIONS_HEADING)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (for 议题 numbering)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    if n < 100:
        return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    return str(n)


# --- permissions and loading -----------------------------------------------------------------

def can_write(user, meeting: Meeting) -> bool:
    """The recorder writes the minutes; the host may step in."""
    return can_view(user, meeting) and meeting.role_of(user) in (Role.RECORDER, Role.HOST)


def is_host(user, meeting: Meeting) -> bool:
    return can_view(user, meeting) and meeting.role_of(user) == Role.HOST


def minutes_of(meeting: Meeting) -> Minutes | None:
    """The minutes of a meeting, or None before the recorder opens them."""
    return db.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))


def get_meeting(user, meeting_id) -> Meeting:
    """Load a meeting the user may see; an invisible one is reported missing."""
    meeting = get_by_id(Meeting, meeting_id)
    if meeting is None or not can_view(user, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    return meeting


def get_version(user, version_id) -> MinutesVersion:
    """Load a distributed version the user may see (the minutes of a meeting they can view)."""
    version = get_by_id(MinutesVersion, version_id)
    if version is None or not can_view(user, version.meeting):
        raise NotFound(gettext("该纪要版本不存在或您无权查看"))
    return version


def version_by_number(user, meeting: Meeting, number) -> MinutesVersion:
    """A version of the meeting's minutes by its number (第N版)."""
    minutes = minutes_of(meeting)
    number = parse_id(number)
    if not can_view(user, meeting) or minutes is None or number is None:
        raise NotFound(gettext("该纪要版本不存在"))
    version = db.session.scalar(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id,
                                                             MinutesVersion.number == number))
    if version is None:
        raise NotFound(gettext("该纪要版本不存在"))
    return version


def _require_write(actor, meeting: Meeting) -> None:
    if not can_write(actor, meeting):
        if not can_view(actor, meeting):
            raise NotFound(gettext("会议不存在或您无权查看"))
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以整理会议纪要"))
    if meeting.status not in AFTER_MEETING:
        raise RuleViolation(gettext("会议结束后才能整理会议纪要") if meeting.status != MeetingStatus.CANCELLED
                            else gettext("会议已取消，没有会议纪要"))


def _require_minutes(meeting: Meeting) -> Minutes:
    minutes = minutes_of(meeting)
    if minutes is None:
        raise RuleViolation(gettext("请先生成纪要初稿"))
    return minutes


def _refuse_if_final(minutes: Minutes) -> None:
    if minutes.status == MinutesStatus.FINAL:
        raise RuleViolation(gettext("纪要已定稿并锁定，不能修改；如需更正，请发布更正版"))


# --- generation from the record --------------------------------------------------------------

def _names(users) -> str:
    return "、".join(u.name for u in users)


def _indent(text: str) -> str:
    """Keep a multi-line recorded text inside its Markdown list item."""
    return "\n  ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def record_tables(meeting: Meeting) -> tuple[list[dict], list[dict]]:
    """The decision and action tables as recorded now, numbered in agenda order."""
    order = {item.id: item.position for item in meeting.agenda_items}
    titles = {item.id: item.title for item in meeting.agenda_items}
    key = lambda row: (order.get(row.agenda_item_id, 10**6), row.position, row.id)  # noqa: E731
    decisions = sorted(db.session.scalars(select(Decision).where(Decision.meeting_id == meeting.id,
                                                                 Decision.deleted_at.is_(None))), key=key)
    actions = sorted(db.session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id,
                                                                 ActionItem.deleted_at.is_(None))), key=key)
    decision_rows = [{
        "no": no, "id": d.id, "item": titles.get(d.agenda_item_id, ""), "item_no": order.get(d.agenda_item_id),
        "text": d.text, "owner_department": d.owner_department.name if d.owner_department else "",
        "owner": d.owner.name if d.owner else "", "cooperating": [c.name for c in d.cooperating_departments],
        "due": d.due_date.isoformat() if d.due_date else None, "due_text": d.due_text or "",
    } for no, d in enumerate(decisions, 1)]
    action_rows = [{
        "no": no, "id": a.id, "item": titles.get(a.agenda_item_id, ""), "item_no": order.get(a.agenda_item_id),
        "text": a.text, "owner_department": a.owner_department.name, "owner": a.owner.name,
        "cooperating": [c.name for c in a.cooperating_departments], "due": a.due_date.isoformat(),
        "status": a.status.label,
    } for no, a in enumerate(actions, 1)]
    return decision_rows, action_rows


def _time_line(meeting: Meeting) -> str:
    """When the meeting was held (its actual start and end), and the plan when it differed."""
    start, end = meeting.starts_at, meeting.ends_at
    planned_start, planned_end = meeting.planned_start, meeting.planned_end
    text = f"{cn_date(start)} {cn_time(start)}–{cn_time(end)}"
    if (cn_datetime(start), cn_time(end)) != (cn_datetime(planned_start), cn_time(planned_end)):
        day = "" if cn_date(planned_start) == cn_date(start) else f"{cn_date(planned_start)} "
        text += f"（计划 {day}{cn_time(planned_start)}–{cn_time(planned_end)}）"
    return text


def _basic_info(meeting: Meeting) -> list[str]:
    rows = attendance.attendance(meeting)
    here = [r for r in rows if r.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)]
    by_dept: dict[str, list[str]] = {}
    for r in here:
        by_dept.setdefault(r.user.department.name, []).append(r.user.name + ("" if r.invited else "（临时参会）"))
    late = [f"{r.user.name}（{r.user.department.name}，{cn_time(r.arrived_at)}到会）" if r.arrived_at
            else f"{r.user.name}（{r.user.department.name}）" for r in rows if r.status == AttendanceStatus.LATE]
    absent = [f"{r.user.name}（{r.user.department.name}，原因：{r.absence_reason or '未注明'}）"
              for r in rows if r.status == AttendanceStatus.ABSENT]
    unchecked = [f"{r.user.name}（{r.user.department.name}）" for r in rows if r.status == AttendanceStatus.PENDING]
    cc = [p.user for p in meeting.participants if p.role == Role.CC]
    host, recorder = meeting.host, meeting.recorder
    place = meeting.location or "线上会议"
    if meeting.online_link:
        place += f"（线上：{meeting.online_link}）" if meeting.location else f"（{meeting.online_link}）"
    lines = [
        f"## {SECTION_TITLES[0]}", "",
        f"- **会议主题**：{meeting.topic}",
        f"- **会议时间**：{_time_line(meeting)}",
        f"- **会议地点**：{place}",
        f"- **会议类型**：{meeting.scenario.label}",
        f"- **发起部门**：{meeting.organizer_department.name}",
        f"- **主持人**：{host.label if host else '未指定'}",
        f"- **记录人**：{recorder.label if recorder else '未指定'}",
        f"- **参会人员**（实到{len(here)}人）：" + ("；".join(f"{d}：{'、'.join(n)}" for d, n in by_dept.items()) or "无"),
        f"- **迟到人员**：{'；'.join(late) or '无'}",
        f"- **缺席人员**：{'；'.join(absent) or '无'}",
    ]
    if unchecked:
        lines.append(f"- **未核对到会情况**：{'；'.join(unchecked)}")
    if cc:
        lines.append(f"- **抄送**：{'、'.join(u.label for u in cc)}")
    return lines


def _goal_and_agenda(meeting: Meeting, items) -> list[str]:
    lines = [f"## {SECTION_TITLES[1]}", "", f"**核心目标**：{_indent(meeting.goal) or '—'}", ""]
    if meeting.expected_outcome.strip():
        lines += [f"**预期成果**：{_indent(meeting.expected_outcome)}", ""]
    lines += ["**议程回顾**：", ""]
    for view in items:
        item = view.item
        spent = round(view.elapsed_seconds / 60)
        who = f"主讲：{item.department.name}；" if item.department else ""
        actual = f"，实际{spent}分钟" if view.elapsed_seconds else ""
        lines.append(f"{item.position}. {item.title}（{who}预计{item.minutes}分钟{actual}）")
    if not items:
        lines.append("（本次会议未设议程）")
    return lines


def _point_line(point) -> str:
    text = _indent(point.text)
    if point.kind == PointKind.DISPUTE and point.parties:
        return f"- **{' 与 '.join(p.name for p in point.parties)}**：{text}"
    if point.department is not None:
        speaker = f"（{point.speaker.name}）" if point.speaker else ""
        return f"- **{point.department.name}**{speaker}：{text}"
    return f"- {text}"


def _discussion(items, decisions: list[dict], actions: list[dict]) -> list[str]:
    lines = [f"## {SECTION_TITLES[2]}"]
    for view in items:
        item = view.item
        lines += ["", f"### 议题{cn_number(item.position)}：{item.title}"]
        wrote = False
        for kind in (PointKind.VIEWPOINT, PointKind.DISPUTE, PointKind.CONSENSUS):
            points = [p for p in view.points if p.kind == kind]
            if points:
                lines += ["", f"**{kind.label}**", ""] + [_point_line(p) for p in points]
                wrote = True
        d_nos = [str(d["no"]) for d in decisions if d["item_no"] == item.position]
        a_nos = [str(a["no"]) for a in actions if a["item_no"] == item.position]
        if d_nos:
            lines += ["", f"**决议**：见“决议事项汇总”第{'、'.join(d_nos)}项。"]
            wrote = True
        if a_nos:
            lines += ["", f"**待办**：见“待办事项跟踪表”第{'、'.join(a_nos)}项。"]
            wrote = True
        if not wrote:
            lines += ["", "本议题未记录讨论要点。"]
    return lines


def generate_body(meeting: Meeting) -> str:
    """Sections 一 to 三 of the minutes, written from what was recorded in the room."""
    decisions, actions = record_tables(meeting)
    items = room_service.room_items(meeting)
    lines = _basic_info(meeting) + [""] + _goal_and_agenda(meeting, items) + [""] + _discussion(items, decisions, actions)
    return render.normalize_body("\n".join(lines))


def draft_from_record(actor: User, meeting: Meeting, now: datetime | None = None) -> Minutes:
    """Open the minutes of a finished meeting with a draft written from the record (idempotent)."""
    _require_write(actor, meeting)
    existing = minutes_of(meeting)
    if existing is not None:
        return existing
    now = now or utcnow()
    minutes = Minutes(meeting=meeting, status=MinutesStatus.DRAFT, draft_body=generate_body(meeting),
                      draft_revision=1, draft_updated_at=now, draft_updated_by=actor, created_by=actor,
                      created_at=now)
    db.session.add(minutes)
    db.session.flush()
    return minutes


def _check_revision(minutes: Minutes, revision) -> None:
    if revision in (None, ""):
        return
    if parse_id(revision) != minutes.draft_revision:
        who = minutes.draft_updated_by.name if minutes.draft_updated_by else "他人"
        when = f"于{cn_time(minutes.draft_updated_at)}" if minutes.draft_updated_at else ""
        raise StaleEdit(gettext("纪要草稿已被%(who)s%(when)s修改，您的修改未保存。您输入的内容仍在编辑框中：请核对后再次保存（将覆盖对方的修改），或刷新页面查看对方的版本",
                                who=who, when=when))


def _clean_body(markdown: str) -> str:
    body = render.normalize_body(markdown)
    if not body.strip():
        raise ValidationFailed(gettext("纪要正文不能为空"), field="markdown")
    if len(body) > MAX_BODY:
        raise ValidationFailed(gettext("纪要正文不超过%(MAX_BODY)s个字", MAX_BODY=MAX_BODY), field="markdown")
    return body


def save_draft(actor: User, meeting: Meeting, markdown: str, revision=None, now: datetime | None = None) -> Minutes:
    """Save the recorder's Markdown; a save based on an older revision is refused, never merged."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    _check_revision(minutes, revision)
    body = _clean_body(markdown)
    if body != minutes.draft_body:
        minutes.draft_body = body
        minutes.draft_revision += 1
        minutes.draft_updated_at, minutes.draft_updated_by = now or utcnow(), actor
    db.session.flush()
    return minutes


def regenerate(actor: User, meeting: Meeting, revision=None, now: datetime | None = None) -> Minutes:
    """Replace the draft text with a fresh one written from the record (the edits are discarded)."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    _check_revision(minutes, revision)
    minutes.draft_body = generate_body(meeting)
    minutes.draft_revision += 1
    minutes.draft_updated_at, minutes.draft_updated_by = now or utcnow(), actor
    db.session.flush()
    return minutes


@dataclass
class Preview:
    """What the minutes would look like with this text: the rendered text and the live tables."""

    body_html: object
    decisions: list[dict]
    actions: list[dict]


def preview(actor: User, meeting: Meeting, markdown: str) -> Preview:
    """Render typed Markdown with the tables from the record, without saving anything."""
    _require_write(actor, meeting)
    decisions, actions = record_tables(meeting)
    return Preview(render.markdown_html(markdown), decisions, actions)


# --- recipients ------------------------------------------------------------------------------

def involved_departments(meeting: Meeting) -> list[Department]:
    """The organizer, invited and presenting departments, and those owning or helping with outcomes."""
    seen = {d.id: d for d in meeting.departments}
    for model in (Decision, ActionItem):
        for row in db.session.scalars(select(model).where(model.meeting_id == meeting.id,
                                                          model.deleted_at.is_(None))):
            for dept in [row.owner_department, *row.cooperating_departments]:
                if dept is not None:
                    seen.setdefault(dept.id, dept)
    return list(seen.values())


@dataclass
class Candidate:
    """Someone the minutes go to by default, and why."""

    user: User
    reason: RecipientReason


def default_recipients(meeting: Meeting) -> list[Candidate]:
    """Participants (the recorder excepted), heads of the involved departments, and cc."""
    recorder = meeting.recorder
    result: dict[int, Candidate] = {}
    order = {Role.HOST: 0, Role.PARTICIPANT: 1, Role.CC: 3}
    for p in sorted(meeting.participants, key=lambda p: (order.get(p.role, 9), p.user.department_id, p.user.name)):
        if p.role == Role.RECORDER or (recorder is not None and p.user_id == recorder.id) or not p.user.is_enabled:
            continue
        if p.role != Role.CC:
            result[p.user_id] = Candidate(p.user, RecipientReason.PARTICIPANT)
    for dept in involved_departments(meeting):
        for head in dept.heads:
            if head.id in result or (recorder is not None and head.id == recorder.id):
                continue
            if can_view(head, meeting):  # a confidential meeting stays with its invitees
                result[head.id] = Candidate(head, RecipientReason.HEAD)
    for p in meeting.participants:
        if p.role == Role.CC and p.user.is_enabled and p.user_id not in result:
            result[p.user_id] = Candidate(p.user, RecipientReason.CC)
    return list(result.values())


def _add_recipient(minutes: Minutes, user: User, reason: RecipientReason, actor: User, now: datetime) -> MinutesRecipient:
    for r in minutes.recipients:
        if r.user_id == user.id:
            return r
    recipient = MinutesRecipient(minutes=minutes, user=user, reason=reason, added_at=now, added_by_id=actor.id)
    db.session.add(recipient)  # the backref put it in minutes.recipients; the session needs telling
    return recipient


def _check_person(user: User | None, meeting: Meeting, field_name: str) -> User:
    if user is None:
        raise ValidationFailed(gettext("人员不存在"), field=field_name)
    if not user.is_enabled:
        raise ValidationFailed(gettext("%(user)s的账号已停用", user=user.name), field=field_name)
    if not can_view(user, meeting):
        raise ValidationFailed(gettext("本次会议仅限参会人员查看，%(user)s不在邀请名单中，不能接收纪要", user=user.name), field=field_name)
    return user


def answer_due_on(now: datetime, calendar=None) -> date:
    """The working day by the end of which an answer is due: the first working day after today."""
    calendar = calendar or work_calendar()
    return calendar.add_workdays(to_local(now).date(), ANSWER_WORKDAYS)


# --- versions --------------------------------------------------------------------------------

def current_version(minutes: Minutes | None) -> MinutesVersion | None:
    """The newest version, or None before distribution."""
    if minutes is None:
        return None
    return db.session.scalar(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id)
                             .order_by(MinutesVersion.number.desc()).limit(1))


def final_version(minutes: Minutes | None) -> MinutesVersion | None:
    """The newest final version (a correction supersedes what it corrects), or None."""
    if minutes is None:
        return None
    return db.session.scalar(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id,
                                                          MinutesVersion.finalized_at.is_not(None))
                             .order_by(MinutesVersion.number.desc()).limit(1))


def versions(minutes: Minutes | None) -> list[MinutesVersion]:
    if minutes is None:
        return []
    return list(db.session.scalars(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id)
                                   .order_by(MinutesVersion.number)))


def _new_version(actor: User, minutes: Minutes, body: str, now: datetime, kind=VersionKind.REGULAR,
                 corrects: MinutesVersion | None = None, note: str = "") -> MinutesVersion:
    decisions, actions = record_tables(minutes.meeting)
    digest = render.content_hash(body, decisions, actions)
    previous = current_version(minutes)
    if previous is not None and previous.content_hash == digest:
        raise RuleViolation(gettext("内容与%(previous)s完全相同，无需发布新版本", previous=previous.label), field="markdown")
    version = MinutesVersion(minutes=minutes, meeting_id=minutes.meeting_id,
                             number=(previous.number + 1) if previous else 1, kind=kind, corrects=corrects,
                             body=body, decisions_json=render.canonical_json(decisions),
                             actions_json=render.canonical_json(actions), content_hash=digest, note=note,
                             created_at=now, created_by=actor)
    db.session.add(version)
    db.session.flush()
    return version


def verify(version: MinutesVersion) -> bool:
    """Recompute a version's hash from what is stored; a final one must also match the minutes' copy."""
    try:
        digest = render.content_hash(version.body, version.decisions, version.actions)
    except (ValueError, TypeError):
        return False
    if digest != version.content_hash:
        return False
    minutes = version.minutes
    if version.is_final and minutes.final_number == version.number and minutes.final_hash != version.content_hash:
        return False
    return True


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def version_link(version: MinutesVersion) -> str:
    """The page where a recipient reads a version and answers (the link in the emails)."""
    return f"{_base_url()}/minutes/versions/{version.id}"


def _ask(version: MinutesVersion, user: User, now: datetime, due_on: date, because: MinutesResponse | None,
         revised: bool) -> MinutesRequest:
    request = MinutesRequest(version=version, user=user, asked_at=now, due_on=due_on, because=because)
    db.session.add(request)
    if user.email:
        meeting = version.meeting
        context = dict(meeting=meeting, version=version, recipient=user, due_on=due_on, link=version_link(version),
                       because=because, revised=revised, body_html=render.markdown_html(version.body),
                       decisions=version.decisions, actions=version.actions, render=render)
        subject = ("【会议纪要已修订，请重新确认】" if revised else "【会议纪要待确认】") + \
            f"{meeting.topic}（{version.label}）"
        notify.enqueue_email(user.email, subject, render_template("records/email_ask.txt", **context),
                             render_template("records/email_ask.html", **context),
                             dedupe_key=f"minutes:v{version.id}:ask:{user.id}", confidential=meeting.confidential)
    return request


def version_delivery(actor: User, meeting: Meeting) -> notify.DeliveryReport | None:
    """What became of the emails of the latest version (the asks to confirm, or the final/correction notices),
    per recipient, for the recorder and the host; None when nothing was sent."""
    if not (can_write(actor, meeting) or is_host(actor, meeting)):
        raise PermissionDenied(gettext("只有记录人和主持人可以查看纪要的发送情况"))
    minutes = minutes_of(meeting)
    version = current_version(minutes)
    if version is None:
        return None
    asked = db.session.scalars(select(MinutesRequest).where(MinutesRequest.version_id == version.id)
                               .order_by(MinutesRequest.id)).all()
    recipients = {f"minutes:v{version.id}:ask:{r.user_id}": r.user for r in asked}
    if version.is_final or version.corrects is not None:
        what = "final" if version.corrects is None else "correction"
        people = [r.user for r in minutes.recipients] + [u for u in (meeting.recorder, meeting.host) if u]
        recipients.update({f"minutes:v{version.id}:{what}:{u.id}": u for u in people})
    return notify.delivery_report(recipients) if recipients else None


def distribute(actor: User, meeting: Meeting, recipient_ids=None, extra_ids=(), markdown: str | None = None,
               revision=None, now: datetime | None = None) -> MinutesVersion:
    """Send version 1 to the recipients for sign-off: each answers within 1 working day.

    `recipient_ids` picks among the default recipients (None: all of them); `extra_ids` adds anyone
    else who may see the meeting (a superior in cc, say). `markdown`, when given, is saved first.
    """
    _require_write(actor, meeting)
    now = now or utcnow()
    minutes = minutes_of(meeting) or draft_from_record(actor, meeting, now)
    _refuse_if_final(minutes)
    if minutes.status != MinutesStatus.DRAFT:
        raise RuleViolation(gettext("纪要已发出：如需修改，请发布修订版"))
    if markdown is not None:
        save_draft(actor, meeting, markdown, revision, now)
    body = _clean_body(minutes.draft_body)
    defaults = default_recipients(meeting)
    chosen_ids = None if recipient_ids is None else {parse_id(i) for i in recipient_ids} - {None}
    chosen = [c for c in defaults if chosen_ids is None or c.user.id in chosen_ids]
    known = {c.user.id for c in chosen}
    recorder = meeting.recorder
    for raw in extra_ids or ():
        user = _check_person(get_by_id(User, raw), meeting, "extra_ids")
        if user.id in known or (recorder is not None and user.id == recorder.id):
            continue
        default = next((c for c in defaults if c.user.id == user.id), None)
        chosen.append(Candidate(user, default.reason if default else RecipientReason.ADDED))
        known.add(user.id)
    if not chosen:
        raise ValidationFailed(gettext("请至少选择一位收件人"), field="recipient_ids")
    version = _new_version(actor, minutes, body, now)
    due_on = answer_due_on(now)
    for candidate in chosen:
        _add_recipient(minutes, candidate.user, candidate.reason, actor, now)
        _ask(version, candidate.user, now, due_on, None, revised=False)
    minutes.status = MinutesStatus.DISTRIBUTED
    minutes.first_distributed_at = now
    meeting.status = MeetingStatus.DISTRIBUTED
    db.session.flush()
    return version


# --- answers ---------------------------------------------------------------------------------

def item_options(version: MinutesVersion) -> list[tuple[str, str]]:
    """What a comment can be about in this version: the whole, a section, an agenda item, a table row."""
    options = [("", "整体")]
    options += [(f"section:{i}", title) for i, title in enumerate(SECTION_TITLES[:3], 1)]
    for item in version.meeting.agenda_items:
        options.append((f"agenda:{item.id}", f"议题{cn_number(item.position)}：{_short(item.title)}"))
    options.append(("section:4", SECTION_TITLES[3]))
    options += [(f"decision:{d['id']}", f"决议{d['no']}：{_short(d['text'])}") for d in version.decisions]
    options.append(("section:5", SECTION_TITLES[4]))
    options += [(f"action:{a['id']}", f"待办{a['no']}：{_short(a['text'])}") for a in version.actions]
    return options


def _short(text: str, limit: int = 24) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def recipient_of(minutes: Minutes, user) -> MinutesRecipient | None:
    return next((r for r in minutes.recipients if r.user_id == getattr(user, "id", None)), None)


def respond(actor: User, version_id, response: str, comment: str = "", item_ref: str | None = None,
            now: datetime | None = None) -> MinutesResponse:
    """Answer a version for yourself: 'confirm' (确认无误) or 'change' (提出修改意见, with a comment).

    Only a recipient answers, and only for themselves: there is no way to name another person.
    When this answer settles everyone, the version becomes final.
    """
    version = get_version(actor, version_id)
    minutes = version.minutes
    if minutes.status == MinutesStatus.FINAL or version.is_final:
        raise RuleViolation(gettext("纪要已定稿，不能再回复；如发现错误，请联系记录人发布更正"))
    if recipient_of(minutes, actor) is None:
        raise PermissionDenied(gettext("您不是本纪要的收件人：只有收件人本人可以确认或提出修改意见"))
    current = current_version(minutes)
    if current.id != version.id:
        raise RuleViolation(gettext("%(version)s已被%(current)s取代，请阅读最新版本后再回复",
                                    version=version.label, current=current.label))
    try:
        kind = ResponseKind(response)
    except ValueError:
        raise ValidationFailed(gettext("请选择“确认无误”或“提出修改意见”"), field="response") from None
    comment = (comment or "").strip()
    if kind == ResponseKind.CHANGE and not comment:
        raise ValidationFailed(gettext("请写明修改意见"), field="comment")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(gettext("意见不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="comment")
    labels = dict(item_options(version))
    item_ref = (item_ref or "").strip()
    if item_ref not in labels:
        raise ValidationFailed(gettext("所选条目不在该版本中"), field="item_ref")
    now = now or utcnow()
    answer = MinutesResponse(version=version, content_hash=version.content_hash, user=actor, kind=kind,
                             comment=comment, item_ref=item_ref or None,
                             item_label=labels[item_ref] if item_ref else "", created_at=now)
    db.session.add(answer)
    db.session.flush()
    if kind == ResponseKind.CHANGE:
        _tell_writer_about_change(version, answer)
    if all(state.settled for state in recipient_states(minutes, now)):
        _make_final(minutes, version, None, None, [], now)
    return answer


def _tell_writer_about_change(version: MinutesVersion, answer: MinutesResponse) -> None:
    meeting = version.meeting
    recorder = meeting.recorder
    if recorder is None or not recorder.email:
        return
    context = dict(meeting=meeting, version=version, answer=answer, recorder=recorder,
                   link=f"{_base_url()}/meetings/{meeting.id}/minutes")
    notify.enqueue_email(recorder.email, f"【纪要修改意见】{answer.user.name}对“{meeting.topic}”{version.label}提出修改意见",
                         render_template("records/email_change.txt", **context),
                         dedupe_key=f"minutes:response:{answer.id}:recorder", confidential=meeting.confidential)


@dataclass
class RecipientState:
    """Where one recipient stands on the current version."""

    recipient: MinutesRecipient
    #: confirmed, change (both for the current version), confirmed_old, change_open (for an older one),
    #: pending (asked for the current version, no answer yet), no_answer (asked before, never answered)
    state: str
    latest: MinutesResponse | None = None
    request: MinutesRequest | None = None
    overdue: bool = False
    responses: list[MinutesResponse] = field(default_factory=list)

    @property
    def user(self) -> User:
        return self.recipient.user

    @property
    def settled(self) -> bool:
        return self.state in ("confirmed", "confirmed_old")

    @property
    def label(self) -> str:
        old = self.latest.version.label if self.latest else ""
        return {"confirmed": "已确认", "change": "提出修改意见", "confirmed_old": f"已确认（{old}）",
                "change_open": f"修改意见待处理（{old}）", "pending": "已逾期未回复" if self.overdue else "待回复",
                "no_answer": "已逾期未回复" if self.overdue else "未回复"}[self.state]

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn, bad or neutral."""
        if self.state == "confirmed":
            return "ok"
        if self.state in ("change", "change_open") or self.overdue:
            return "bad"
        return "warn" if self.state in ("pending", "no_answer", "confirmed_old") else ""


def recipient_states(minutes: Minutes, now: datetime | None = None) -> list[RecipientState]:
    """Who has answered the current version, who answered an older one, who has not, with every comment."""
    current = current_version(minutes)
    if current is None:
        return []
    today = to_local(now or utcnow()).date()
    version_ids = [v.id for v in versions(minutes)]
    answers = list(db.session.scalars(select(MinutesResponse).where(MinutesResponse.version_id.in_(version_ids))
                                      .order_by(MinutesResponse.created_at, MinutesResponse.id)))
    requests = list(db.session.scalars(select(MinutesRequest).where(MinutesRequest.version_id.in_(version_ids))
                                       .order_by(MinutesRequest.asked_at, MinutesRequest.id)))
    states = []
    for recipient in minutes.recipients:
        mine = [a for a in answers if a.user_id == recipient.user_id]
        asked = [r for r in requests if r.user_id == recipient.user_id]
        latest = mine[-1] if mine else None
        request = next((r for r in asked if r.version_id == current.id), None)
        if latest is not None and latest.version_id == current.id:
            state = "confirmed" if latest.kind == ResponseKind.CONFIRM else "change"
        elif request is not None:
            state = "pending"
        elif latest is not None:
            state = "confirmed_old" if latest.kind == ResponseKind.CONFIRM else "change_open"
        else:
            state = "no_answer"
            request = asked[-1] if asked else None
        overdue = state in ("pending", "no_answer") and request is not None and today > request.due_on
        states.append(RecipientState(recipient, state, latest, request, overdue, list(reversed(mine))))
    order = {"change": 0, "change_open": 1, "pending": 2, "no_answer": 3, "confirmed_old": 4, "confirmed": 5}
    return sorted(states, key=lambda s: (order[s.state], s.user.department_id, s.user.name))


def open_comments(minutes: Minutes, now: datetime | None = None) -> list[MinutesResponse]:
    """Change requests a revision may answer: each recipient's latest answer when it asks for a change."""
    return [s.latest for s in recipient_states(minutes, now) if s.state in ("change", "change_open")]


def all_comments(minutes: Minutes) -> list[MinutesResponse]:
    """Every comment ever made on the minutes, newest first (answers with text)."""
    ids = [v.id for v in versions(minutes)]
    if not ids:
        return []
    return list(db.session.scalars(select(MinutesResponse).where(MinutesResponse.version_id.in_(ids),
                                                                 MinutesResponse.comment != "")
                                   .order_by(MinutesResponse.created_at.desc(), MinutesResponse.id.desc())))


def answered_by(minutes: Minutes) -> dict[int, MinutesVersion]:
    """For each comment a later version answered: that version (response id → version)."""
    ids = [v.id for v in versions(minutes)]
    if not ids:
        return {}
    rows = db.session.scalars(select(MinutesRequest).where(MinutesRequest.version_id.in_(ids),
                                                           MinutesRequest.because_response_id.is_not(None)))
    return {r.because_response_id: r.version for r in rows}


# --- revisions -------------------------------------------------------------------------------

def revise(actor: User, meeting: Meeting, markdown: str | None = None, answers=(), reask=(), note: str = "",
           revision=None, now: datetime | None = None) -> MinutesVersion:
    """Publish a new version: it asks again only the authors of the comments it answers (`answers`,
    response ids) and the people the recorder picks (`reask`, user ids); other answers stand."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    if minutes.status != MinutesStatus.DISTRIBUTED:
        raise RuleViolation(gettext("纪要尚未发出：请先分发第1版"))
    now = now or utcnow()
    if markdown is not None:
        save_draft(actor, meeting, markdown, revision, now)
    body = _clean_body(minutes.draft_body)
    note = (note or "").strip()
    if len(note) > MAX_COMMENT:
        raise ValidationFailed(gettext("修订说明不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="note")
    version_ids = {v.id for v in versions(minutes)}
    answered: list[MinutesResponse] = []
    for raw in answers or ():
        answer = get_by_id(MinutesResponse, raw)
        if answer is None or answer.version_id not in version_ids or answer.kind != ResponseKind.CHANGE:
            raise ValidationFailed(gettext("所选意见不属于本纪要"), field="answers")
        if answer not in answered:
            answered.append(answer)
    people: dict[int, tuple[User, MinutesResponse | None]] = {a.user_id: (a.user, a) for a in answered}
    for raw in reask or ():
        user = _check_person(get_by_id(User, raw), meeting, "reask")
        people.setdefault(user.id, (user, None))
    if not people:
        raise ValidationFailed(gettext("请勾选本版回应的修改意见，或选择需要重新确认的人员（至少一位）"), field="reask")
    version = _new_version(actor, minutes, body, now, note=note)
    due_on = answer_due_on(now)
    for user, because in people.values():
        _add_recipient(minutes, user, RecipientReason.ADDED, actor, now)
        _ask(version, user, now, due_on, because, revised=True)
    db.session.flush()
    return version


# --- the final version -----------------------------------------------------------------------

def _make_final(minutes: Minutes, version: MinutesVersion, actor: User | None, reason: str | None,
                missing: list[dict], now: datetime) -> MinutesVersion:
    if not verify(version):
        raise RuleViolation(gettext("%(version)s的内容与其哈希不符，已拒绝定稿。请联系系统管理员核查", version=version.label))
    version.finalized_at = now
    version.finalized_by = actor
    version.final_reason = reason
    version.final_missing = render.canonical_json(missing) if missing else None
    minutes.status = MinutesStatus.FINAL
    minutes.final_hash, minutes.final_number = version.content_hash, version.number
    minutes.meeting.status = MeetingStatus.FINAL
    db.session.flush()
    _announce(minutes, version, "final")
    return version


def _announce(minutes: Minutes, version: MinutesVersion, what: str) -> None:
    """Tell every recipient, the recorder and the host that a version is final (or a correction is out)."""
    meeting = minutes.meeting
    people = {r.user_id: r.user for r in minutes.recipients}
    for lead in (meeting.recorder, meeting.host):
        if lead is not None:
            people.setdefault(lead.id, lead)
    subject = ("【会议纪要已定稿】" if what == "final" else "【会议纪要更正】") + f"{meeting.topic}（{version.label}）"
    for user in people.values():
        if not user.email:
            continue
        context = dict(meeting=meeting, version=version, recipient=user, link=version_link(version), what=what,
                       diff_link=(f"{_base_url()}/meetings/{meeting.id}/minutes/diff?a={version.corrects.number}"
                                  f"&b={version.number}") if version.corrects else None)
        notify.enqueue_email(user.email, subject, render_template("records/email_final.txt", **context),
                             dedupe_key=f"minutes:v{version.id}:{what}:{user.id}", confidential=meeting.confidential)


def finalize(actor: User, meeting: Meeting, reason: str | None = None, now: datetime | None = None) -> MinutesVersion:
    """Make the current version final: when everyone has confirmed, or by the host with a recorded
    reason for the answers that are missing (or comments left open)."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    minutes = _require_minutes(meeting)
    _refuse_if_final(minutes)
    if minutes.status != MinutesStatus.DISTRIBUTED:
        raise RuleViolation(gettext("纪要尚未发出，不能定稿"))
    now = now or utcnow()
    version = current_version(minutes)
    unsettled = [s for s in recipient_states(minutes, now) if not s.settled]
    if not unsettled:
        _require_write(actor, meeting)
        return _make_final(minutes, version, actor, None, [], now)
    names = "、".join(s.user.name for s in unsettled)
    if not is_host(actor, meeting):
        raise PermissionDenied(gettext("尚有%(count)s人未确认（%(names)s）：只有主持人可以在记录原因后定稿", count=len(unsettled), names=names))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext("尚有%(count)s人未确认（%(names)s）。请填写在缺少这些确认的情况下定稿的原因",
                                       count=len(unsettled), names=names),
                               field="reason")
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed(gettext("原因不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="reason")
    missing = [{"name": s.user.name, "department": s.user.department.name, "state": s.label} for s in unsettled]
    return _make_final(minutes, version, actor, reason, missing, now)


def correct(actor: User, meeting: Meeting, markdown: str, reason: str, now: datetime | None = None) -> MinutesVersion:
    """Publish a correction (更正) of the final minutes: a new version, final at once, that points to the
    version it corrects; the corrected version stays as it was, and everyone is told."""
    _require_write(actor, meeting)
    minutes = _require_minutes(meeting)
    if minutes.status != MinutesStatus.FINAL:
        raise RuleViolation(gettext("纪要尚未定稿：请直接修改草稿并发布修订版"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext("请写明更正原因"), field="reason")
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed(gettext("更正原因不超过%(MAX_COMMENT)s个字", MAX_COMMENT=MAX_COMMENT), field="reason")
    body = _clean_body(markdown)
    now = now or utcnow()
    corrected = final_version(minutes)
    version = _new_version(actor, minutes, body, now, kind=VersionKind.CORRECTION, corrects=corrected, note=reason)
    version.finalized_at, version.finalized_by = now, actor
    minutes.final_hash, minutes.final_number = version.content_hash, version.number
    minutes.draft_body = body
    minutes.draft_revision += 1
    minutes.draft_updated_at, minutes.draft_updated_by = now, actor
    db.session.flush()
    _announce(minutes, version, "correction")
    return version


# --- reading ---------------------------------------------------------------------------------

@dataclass
class MinutesState:
    """Everything the minutes page (and the API) needs about one meeting's minutes, for one user."""

    meeting: Meeting
    minutes: Minutes | None
    current: MinutesVersion | None
    final: MinutesVersion | None
    versions: list[MinutesVersion]
    #: False when a final version's stored content no longer matches its hash (shown as a warning).
    final_intact: bool | None
    due_at: datetime | None
    overdue: bool
    distributed_late: bool
    can_write: bool
    is_host: bool
    recipient: MinutesRecipient | None
    #: Filled for the recorder and the host: who answered, who has not.
    states: list[RecipientState]
    my_state: RecipientState | None

    @property
    def status_label(self) -> str:
        if self.minutes is None:
            return "待整理" if self.meeting.status == MeetingStatus.MINUTES_DUE else "尚无纪要"
        return self.minutes.status.label


def get_current(actor: User, meeting: Meeting, now: datetime | None = None) -> MinutesState:
    """The state of a meeting's minutes as `actor` may see it (the draft only for its writers)."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    now = now or utcnow()
    minutes = minutes_of(meeting)
    all_versions = versions(minutes)
    current = all_versions[-1] if all_versions else None
    final = final_version(minutes)
    room = room_service.room_of(meeting)
    due_at = room.minutes_due_at if room else None
    first_out = minutes.first_distributed_at if minutes else None
    overdue = due_at is not None and first_out is None and now > due_at
    writer = can_write(actor, meeting)
    host = is_host(actor, meeting)
    states = recipient_states(minutes, now) if minutes is not None and current is not None else []
    mine = next((s for s in states if s.user.id == actor.id), None)
    return MinutesState(
        meeting=meeting, minutes=minutes, current=current, final=final, versions=all_versions,
        final_intact=verify(final) if final is not None else None, due_at=due_at, overdue=overdue,
        distributed_late=bool(due_at and first_out and first_out > due_at), can_write=writer, is_host=host,
        recipient=recipient_of(minutes, actor) if minutes else None,
        states=states if (writer or host) else [], my_state=mine,
    )


def archive_copy(actor: User, meeting: Meeting) -> tuple[MinutesVersion | None, bool]:
    """The official (latest final) version and whether it passes the hash check; read it through here."""
    if not can_view(actor, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    final = final_version(minutes_of(meeting))
    return final, (verify(final) if final is not None else False)


@dataclass
class Diff:
    old: MinutesVersion
    new: MinutesVersion
    html: object
    stats: dict


def diff(actor: User, meeting: Meeting, old_number, new_number, full: bool = False) -> Diff:
    """Compare two versions word by word (CJK per character, Latin words whole); unchanged stretches
    fold away unless `full`."""
    old = version_by_number(actor, meeting, old_number)
    new = version_by_number(actor, meeting, new_number)
    html, stats = render.word_diff(render.diff_text(old.body, old.decisions, old.actions),
                                   render.diff_text(new.body, new.decisions, new.actions),
                                   context=None if full else 2)
    return Diff(old, new, html, stats)


def version_for_export(actor: User, version_id) -> MinutesVersion:
    """A version to print or download; a final version that fails the hash check is not handed out."""
    version = get_version(actor, version_id)
    if version.is_final and not verify(version):
        raise RuleViolation(gettext("完整性校验失败：%(version)s的存档内容与定稿哈希不符，已停止导出。请联系系统管理员核查", version=version.label))
    return version


# --- dashboards ------------------------------------------------------------------------------

@dataclass
class DuePanel:
    """The minutes a user must write, is waiting on, or must answer."""

    to_write: list[dict]
    awaiting: list[dict]
    to_answer: list[dict]

    def __bool__(self) -> bool:
        return bool(self.to_write or self.awaiting or self.to_answer)


def dashboard(user: User, now: datetime | None = None) -> DuePanel:
    """Minutes due and overdue for their recorder and host; sign-offs waiting for the user."""
    now = now or utcnow()
    today = to_local(now).date()
    led = db.session.scalars(
        select(Meeting).join(Participant, Participant.meeting_id == Meeting.id)
        .where(Participant.user_id == user.id, Participant.role.in_([Role.RECORDER, Role.HOST]),
               Meeting.status.in_([MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED]))
        .order_by(Meeting.ends_at)).all()
    to_write, awaiting = [], []
    for meeting in led:
        role = meeting.role_of(user)
        if meeting.status == MeetingStatus.MINUTES_DUE:
            room = room_service.room_of(meeting)
            due_at = room.minutes_due_at if room else None
            to_write.append({"meeting": meeting, "role": role, "due_at": due_at, "minutes": minutes_of(meeting),
                             "overdue": bool(due_at and now > due_at)})
        else:
            minutes = minutes_of(meeting)
            states = recipient_states(minutes, now) if minutes else []
            awaiting.append({"meeting": meeting, "role": role, "version": current_version(minutes),
                             "settled": sum(s.settled for s in states), "total": len(states),
                             "changes": sum(s.state in ("change", "change_open") for s in states),
                             "overdue": sum(s.overdue for s in states)})
    to_answer = []
    rows = db.session.execute(
        select(MinutesRequest, MinutesVersion, Minutes)
        .join(MinutesVersion, MinutesVersion.id == MinutesRequest.version_id)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .where(MinutesRequest.user_id == user.id, Minutes.status == MinutesStatus.DISTRIBUTED)
        .order_by(MinutesRequest.due_on)).all()
    for request, version, minutes in rows:
        if current_version(minutes).id != version.id or not can_view(user, version.meeting):
            continue
        answered = db.session.scalar(select(MinutesResponse.id).where(MinutesResponse.version_id == version.id,
                                                                      MinutesResponse.user_id == user.id).limit(1))
        if answered is None:
            to_answer.append({"version": version, "meeting": version.meeting, "due_on": request.due_on,
                              "overdue": today > request.due_on})
    return DuePanel(to_write, awaiting, to_answer)


def send_reminders(now: datetime | None = None) -> int:
    """Queue the overdue notices, once each (idempotent, for `flask minutes tick`): minutes not sent
    24 hours after the meeting (to the recorder and the host), and answers past their working day
    (to the recipient). Returns how many messages were queued."""
    now = now or utcnow()
    today = to_local(now).date()
    queued = 0
    late = db.session.execute(
        select(Meeting, RoomState).join(RoomState, RoomState.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.MINUTES_DUE, RoomState.minutes_due_at < now)).all()
    for meeting, room in late:
        link = f"{_base_url()}/meetings/{meeting.id}/minutes"
        for lead in {u.id: u for u in (meeting.recorder, meeting.host) if u is not None}.values():
            text = (f"{lead.name}，您好：\n\n“{meeting.topic}”的会议纪要应于{cn_datetime(room.minutes_due_at)}前"
                    f"（会后24小时内）发出，目前尚未发出。\n\n{link}\n\n—— 会议纪要系统")
            if lead.email and notify.enqueue_email(lead.email, f"【纪要已逾期】{meeting.topic}", text,
                                                   dedupe_key=f"minutes:m{meeting.id}:overdue:{lead.id}", link=link,
                                                   confidential=meeting.confidential):
                queued += 1
    waiting = db.session.execute(
        select(MinutesRequest, MinutesVersion, Minutes)
        .join(MinutesVersion, MinutesVersion.id == MinutesRequest.version_id)
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .where(Minutes.status == MinutesStatus.DISTRIBUTED, MinutesRequest.due_on < today)).all()
    for request, version, minutes in waiting:
        user = request.user
        if not user.email or current_version(minutes).id != version.id:
            continue
        answered = db.session.scalar(select(MinutesResponse.id).where(MinutesResponse.version_id == version.id,
                                                                      MinutesResponse.user_id == user.id).limit(1))
        if answered is not None:
            continue
        link = version_link(version)
        text = (f"{user.name}，您好：\n\n“{version.meeting.topic}”会议纪要（{version.label}）请您于"
                f"{cn_date(request.due_on)}当天内回复，目前尚未收到您的回复。请确认无误或提出修改意见：\n{link}"
                "\n\n—— 会议纪要系统")
        if notify.enqueue_email(user.email, f"【纪要确认已逾期】{version.meeting.topic}（{version.label}）", text,
                                dedupe_key=f"minutes:v{version.id}:overdue:{user.id}", link=link,
                                confidential=version.meeting.confidential):
            queued += 1
    db.session.flush()
    return queued


@dataclass(frozen=True)
class MinutesDeadline:
    """The minutes' deadline as the process sets it (24 hours after the end), and how it lies in the
    working calendar: the rule stays 24 hours; a deadline on a day off is told, with the working day
    it would move to if the recorder does not work on days off."""

    due_at: datetime
    #: The deadline's local day is a day off (weekend or holiday, after the company's overrides).
    day_off: bool
    #: The next working day at the same time, when `day_off`.
    working_due_at: datetime | None


def minutes_deadline(due_at: datetime | None) -> MinutesDeadline | None:
    """Place the minutes' 24-hour deadline in the working calendar (see MinutesDeadline)."""
    if due_at is None:
        return None
    local = to_local(due_at)
    calendar = work_calendar()
    if calendar.is_workday(local.date()):
        return MinutesDeadline(due_at, False, None)
    workday = calendar.next_workday_on_or_after(local.date())
    return MinutesDeadline(due_at, True, local.replace(year=workday.year, month=workday.month, day=workday.day))


def minutes_link(user, meeting: Meeting) -> dict | None:
    """The button to the minutes on a meeting page: what it says depends on the user and the state."""
    if meeting.status not in AFTER_MEETING or not can_view(user, meeting):
        return None
    minutes = minutes_of(meeting)
    writer = can_write(user, meeting)
    if meeting.status == MeetingStatus.MINUTES_DUE:
        if not writer:
            return None
        return {"label": "编辑会议纪要" if minutes else "整理会议纪要", "primary": True}
    if meeting.status == MeetingStatus.DISTRIBUTED:
        return {"label": "会议纪要（待确认）", "primary": writer or (minutes and recipient_of(minutes, user) is not None)}
    return {"label": "会议纪要（已定稿）", "primary": False}


# --- for the API -----------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def version_json(version: MinutesVersion) -> dict:
    return {
        "id": version.id, "number": version.number, "kind": version.kind.value, "label": version.label,
        "corrects": version.corrects.number if version.corrects else None, "content_hash": version.content_hash,
        "created_at": _iso(version.created_at), "created_by": version.created_by.username, "note": version.note,
        "final": version.is_final, "finalized_at": _iso(version.finalized_at),
        "final_reason": version.final_reason, "markdown": version.body,
        "decisions": version.decisions, "actions": version.actions,
    }


def response_json(answer: MinutesResponse) -> dict:
    return {"id": answer.id, "version": answer.version.number, "version_id": answer.version_id,
            "content_hash": answer.content_hash, "user": answer.user.username, "response": answer.kind.value,
            "comment": answer.comment, "item_ref": answer.item_ref, "item_label": answer.item_label,
            "created_at": _iso(answer.created_at)}


def describe(actor: User, meeting: Meeting, now: datetime | None = None) -> dict:
    """The minutes as JSON-ready data, with what `actor` may see (the API's GET /meetings/<id>/minutes)."""
    state = get_current(actor, meeting, now)
    data = {
        "meeting_id": meeting.id, "status": state.minutes.status.value if state.minutes else None,
        "due_at": _iso(state.due_at), "overdue": state.overdue,
        "current": version_json(state.current) if state.current else None,
        "final": ({**version_json(state.final), "intact": state.final_intact} if state.final else None),
        "versions": [{"id": v.id, "number": v.number, "kind": v.kind.value, "content_hash": v.content_hash,
                      "final": v.is_final} for v in state.versions],
    }
    if state.can_write and state.minutes is not None:
        data["draft"] = {"markdown": state.minutes.draft_body, "revision": state.minutes.draft_revision}
    if state.states:
        data["recipients"] = [{
            "user": s.user.username, "name": s.user.name, "reason": s.recipient.reason.value, "state": s.state,
            "overdue": s.overdue, "due_on": _iso(s.request.due_on) if s.request else None,
            "responses": [response_json(a) for a in s.responses],
        } for s in state.states]
    return data

