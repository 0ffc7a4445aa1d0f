"""XSS: every payload of tests/security/xss_payloads.txt in every text field, every view, in real Chromium.

The payloads go into the data through the services (fast, and exactly what a form would store):
meeting topic, goal, expected outcome and location, agenda titles, material file names and link
titles, points, decisions, actions, minutes Markdown, sign-off comments, action progress notes,
department, user and robot names. One meeting is walked through its life (planning → live room →
review → minutes draft → sign-off → final) and every view is opened at each stage by the role that
sees it: recorder, attendee and an administrator who hosts. The emails the sink received are
rendered in Chromium too, and one payload travels live: the recorder posts it and the attendee's tab
receives it over SSE.

The contexts bypass the Content-Security-Policy on purpose: the policy would stop an inline script
anyway, and this test is about the layer below it (escaping and the sanitizer). On every page: no
dialog opened, no `window.__xss*` global, no injected element or attribute (tests/security/xss_corpus.py
`DOM_PROBE`), no request to a trap URL (/xssN, /logout, an `src=x`), and the page really shows
payload text (so a view that forgot the data cannot pass). Outputs that are not HTML (email text,
.ics, Markdown export, API JSON, robot messages) are checked raw.
"""
import io
import json
import re
import urllib.parse
from contextlib import contextmanager
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from minutes.archive.indexer import filing_key
from tests.browser.conftest import ACTION_TIMEOUT_MS, login, wait_for_htmx
from tests.conftest import PASSWORD
from tests.security.xss_corpus import DOM_PROBE, MAX_PAYLOAD, pack, payloads, raw_injections

pytestmark = pytest.mark.browser

PAYLOADS = payloads()
#: The word written next to every payload, to search the archive for (snippets then show payloads).
WORD = "渗透"
#: A payload's visible text in the page (escaped markup shows as text).
SHOWN = re.compile(r"alert\(\d+\)|__xss\d+|xss\d+|tpl\d+")
TRAP = re.compile(r"/xss\d|/logout$|/x$")


def test_corpus_is_large_varied_and_fits_every_field():
    assert len(PAYLOADS) >= 50
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    assert max(len(p) for p in PAYLOADS) <= MAX_PAYLOAD
    text = "\n".join(PAYLOADS)
    for kind in ("<script", " on", "javascript:", "<svg", "](", "&#", "hx-", "\u202e", "\u200b", "＜", "{{"):
        assert kind in text, kind


# --- the data --------------------------------------------------------------------------------

def _seed(live_server, monkeypatch):
    """Everything a user can type, filled with payloads through the services; returns ids and names."""
    from minutes.actions import feeds
    from minutes.api import service as api
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import materials, sending, service as meetings
    from minutes.notify.bots import create_bot
    from minutes.people import service as people
    from minutes.room import service as room
    from minutes.room import attendance, recording

    P = PAYLOADS
    ids = {}
    with _writing(live_server):
        host = people.create_user("zhuchi", "王主持", "客服部", PASSWORD, email="zhuchi@example.com",
                                  is_admin=True, is_department_head=True, title=P[0])
        recorder = people.create_user("jilu", "李记录", "客服部", PASSWORD, email="jilu@example.com")
        attendee = people.create_user("canhui", "张参会", "技术部", PASSWORD, email="canhui@example.com",
                                      is_department_head=True)
        marked = [people.create_user(f"x{i:02d}", p, p, PASSWORD, title=P[-1 - i]) for i, p in enumerate(P)]
        depts = [u.department_id for u in marked]
        # A robot in the attendee's department (its name a payload); it cannot deliver (nothing listens).
        create_bot(host, attendee.department_id, "dingtalk", P[5], "http://127.0.0.1:9/robot")

        def meeting(topic, start, minutes=90, goal="\n".join(f"{WORD} {p}" for p in P)):
            return meetings.create_meeting(host, meetings.MeetingInput(
                topic=topic, goal=goal, expected_outcome="\n".join(P), scenario="problem", starts_at=start,
                ends_at=start + timedelta(minutes=minutes), location=pack(P, 200)[-1],
                organizer_department_id=host.department_id))

        now = timefmt.utcnow().replace(second=0, microsecond=0)
        topics = pack(P, 200)
        # Planning: a meeting in four days; payloads as agenda titles, file names (one each) and link titles.
        plan = meeting(topics[0], now + timedelta(days=4), minutes=600)
        agenda = [meetings.add_agenda_item(host, plan, title, 5, depts[n]) for n, title in enumerate(topics)]
        for i, p in enumerate(P):
            materials.add_material_file(host, agenda[i % len(agenda)], p + " 资料.txt", io.BytesIO(b"x"), "text/plain")
        for item, title in zip(agenda, topics):
            materials.add_material_link(host, item, "https://intranet.example/doc", title=title)
        meetings.invite(host, plan, [recorder.id], "recorder")
        meetings.invite(host, plan, [attendee.id] + [u.id for u in marked], "participant")
        sending.send_agenda(host, plan, reason=f"{P[1]} 临时")
        # The other topics on meetings nobody opens (they show in the lists).
        for n, topic in enumerate(topics[2:], start=1):
            meeting(topic, now + timedelta(days=10 + n), goal=WORD * 2)  # a goal has at least 4 characters
        # The meeting that is held: started 95 minutes ago, recorded with every payload.
        held = meeting(topics[1], now - timedelta(minutes=95))
        items = [meetings.add_agenda_item(host, held, title, 20, attendee.department_id) for title in pack(P, 200)[:4]]
        meetings.invite(host, held, [recorder.id], "recorder")
        meetings.invite(host, held, [attendee.id] + [u.id for u in marked], "participant")
        db.session.commit()
        due = (timefmt.local_today() + timedelta(days=14)).isoformat()
        room.start_meeting(recorder, held)
        for person in (host, attendee, *marked[:10]):
            attendance.mark_attendance(recorder, held, person.id, "present")
        # Each room entry holds many payloads, one a line (an entry re-renders the live room: keep them few).
        texts = pack([f"{WORD} {p}" for p in P], 2000, sep="\n")
        for n, text in enumerate(texts):
            item = items[n % len(items)].id
            recording.add_point(recorder, held, item, "viewpoint", text, department_id=depts[n],
                                speaker_id=marked[n].id)
            recording.add_point(recorder, held, item, "consensus", text)
            recording.add_decision(recorder, held, item, text, owner_department_id=depts[n], owner_id=marked[n].id,
                                   cooperating_department_ids=depts[-3:], due=due)
            recording.add_action(recorder, held, item, text, owner_id=attendee.id, cooperating_department_ids=depts[:3],
                                 due=due)
        recording.add_point(recorder, held, items[0].id, "dispute", f"{WORD} {P[3]}", party_ids=depts[:4])
        # A transcript whose speakers and words are payloads; some lines become suggestions (decisions, actions).
        from minutes.transcripts import service as transcripts

        spoken = "".join(f"{marked[n % len(marked)].name} 00:{n // 60:02d}:{n % 60:02d}\n"
                         f"{('那就定了，' if n % 3 == 0 else '我来负责，6月30日前完成，') if n % 2 == 0 else ''}{WORD} {p}\n"
                         for n, p in enumerate(P[:300]))
        transcripts.import_transcript(recorder, held, f"{P[5]}.txt", spoken.encode())
        db.session.commit()
        ids.update(host=_info(host), recorder=_info(recorder), attendee=_info(attendee), plan=plan.id, held=held.id,
                   marked=[u.id for u in marked], depts=depts, due=due,
                   token=api.create_token(host, P[7])[1], feed=feeds.issue_calendar_token(attendee))
        db.session.commit()
    return ids


@contextmanager
def _writing(live_server):
    """An app context whose transactions take SQLite's write lock up front (as a request that writes)."""
    from minutes.extensions import write_intent

    token = write_intent.set(True)
    try:
        with live_server.app.app_context():
            yield
    finally:
        write_intent.reset(token)


def _info(user):
    return {"id": user.id, "username": user.username, "department_id": user.department_id}


def _with(live_server, work):
    """Run work(get) in an app context and commit: get(Model, id) loads a row."""
    from minutes.extensions import db

    with _writing(live_server):
        result = work(db.session.get)
        db.session.commit()
        return result


def _to_review(live_server, ids):
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.room import service as room
    from minutes.room import review

    _with(live_server, lambda get: review.enter_review(get(User, ids["recorder"]["id"]), get(Meeting, ids["held"])))


def _to_draft(live_server, ids):
    """Confirm every entry, finish the meeting, generate the draft and add the corpus as Markdown."""
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.records import drafting
    from minutes.room import service as room
    from minutes.room import review

    def work(get):
        recorder, meeting = get(User, ids["recorder"]["id"]), get(Meeting, ids["held"])
        for entry in review.review_entries(meeting):
            review.confirm_entry(recorder, meeting, entry.review_key)
        review.finish_meeting(recorder, meeting)
        minutes = drafting.draft_from_record(recorder, meeting)
        extra = "\n\n".join(f"{WORD}\n\n{p}" for p in PAYLOADS)
        drafting.save_draft(recorder, meeting, minutes.draft_body + "\n\n## 附：测试\n\n" + extra + "\n",
                            revision=minutes.draft_revision)

    _with(live_server, work)


def _to_signoff(live_server, ids):
    """Send version 1; the attendee and two marked participants ask for changes in payload comments."""
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.records import signoff

    def work(get):
        meeting = get(Meeting, ids["held"])
        version = signoff.distribute(get(User, ids["recorder"]["id"]), meeting)
        for user_id in (ids["attendee"]["id"], *ids["marked"][:2]):
            for comment in pack(PAYLOADS, 2000, sep="\n"):
                signoff.respond(get(User, user_id), version.id, "change", comment)
        return version.id

    return _with(live_server, work)


def _to_final(live_server, ids):
    """Version 2 (with a payload note), made final by the host; the attendee reports on two actions."""
    from sqlalchemy import select

    from minutes.actions.models import ActionItem
    from minutes.extensions import db
    from minutes.actions import service as actions
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.records import service as records, signoff

    def work(get):
        meeting, host = get(Meeting, ids["held"]), get(User, ids["host"]["id"])
        recorder, attendee = get(User, ids["recorder"]["id"]), get(User, ids["attendee"]["id"])
        body = records.current_version(records.minutes_of(meeting)).body + "\n" + "\n\n".join(PAYLOADS[::-1]) + "\n"
        signoff.revise(recorder, meeting, markdown=body, note="\n".join(PAYLOADS[:20]), reask=[ids["attendee"]["id"]])
        version = signoff.finalize(host, meeting, reason="\n".join(PAYLOADS[20:40]))
        first, second = db.session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id)
                                           .order_by(ActionItem.id).limit(2))
        actions.update_status(attendee, first, "in_progress", note=pack(PAYLOADS, 2000, sep="\n")[0])
        actions.update_status(attendee, second, "need_support", note="\n".join(PAYLOADS[:30]),
                              support_department_id=ids["attendee"]["department_id"])
        return version.id, first.id

    return _with(live_server, work)


# --- the browser -----------------------------------------------------------------------------

class Watch:
    """One browser context per role (CSP bypassed), with everything a payload could set off recorded."""

    def __init__(self, browser, live_server, user=None):
        self.context = browser.new_context(bypass_csp=True, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           base_url=live_server.url, viewport={"width": 1440, "height": 900})
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.events: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.events.append(f"JavaScript error: {exc}"))
        self.page.on("request", self._request)
        if user:
            login(self.page, live_server.url, user["username"])

    def _dialog(self, dialog):
        self.events.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request):
        path = urllib.parse.urlsplit(request.url).path
        if TRAP.search(path):
            self.events.append(f"request {request.method} {path}")

    def check(self, label, shows=True):
        """After load and after htmx settles: nothing fired, nothing injected, payload text visible."""
        wait_for_htmx(self.page)
        self.page.wait_for_timeout(50)  # handlers that fire a tick later (ontoggle, onbegin, hx-trigger=load)
        found = self.page.evaluate(DOM_PROBE)
        assert not found and not self.events, f"{label}: {found + self.events}"
        if shows:
            text = self.page.locator("body").inner_text()
            assert SHOWN.search(text), f"{label}: no payload text on the page"
        assert "/login" not in self.page.url, f"{label}: logged out"

    def visit(self, url, label=None, shows=True):
        response = self.page.goto(url)
        assert response.status == 200, f"{url}: {response.status}"
        assert raw_injections(response.text()) == [], f"{label or url}: raw HTML"
        self.check(label or url, shows)
        return response

    def raw(self, url, status=200):
        response = self.context.request.get(url)
        assert response.status == status, f"{url}: {response.status}"
        return response

    def close(self):
        self.context.close()


@pytest.fixture
def watch(browser, live_server):
    opened = []

    def open_as(user=None):
        opened.append(Watch(browser, live_server, user))
        return opened[-1]

    yield open_as
    for w in opened:
        w.close()


def _mails_checked(watch, live_server, count):
    """Render the HTML part of every mail in Chromium; the text part never carries live HTML by type."""
    page = watch()
    seen = 0
    for item in live_server.smtp.messages[count:]:
        msg = item["msg"]
        html = msg.get_body(("html",))
        if html is None:
            continue
        content = html.get_content()
        assert raw_injections(content) == [], msg["Subject"]
        page.page.set_content(content)
        page.check(f"email {msg['Subject']}", shows=False)
        seen += 1
    return len(live_server.smtp.messages), seen


def test_the_probes_see_what_a_payload_does(watch):
    """The detectors can fail: the corpus pasted unescaped into a page sets off dialogs, globals and finds."""
    page = watch()
    html = "<body>" + "".join(PAYLOADS) + "</body>"
    assert len(raw_injections(html)) > 50
    page.page.set_content(html)
    page.page.wait_for_timeout(300)
    assert len(page.page.evaluate(DOM_PROBE)) > 20
    assert any(e.startswith("dialog") for e in page.events)


def test_no_payload_runs_or_injects_anywhere(live_server, watch, monkeypatch):
    ids = _seed(live_server, monkeypatch)
    held, plan = ids["held"], ids["plan"]
    live_server.smtp.wait_for(2)  # the agenda went to the recorder and the attendee
    admin, rec, att = watch(ids["host"]), watch(ids["recorder"]), watch(ids["attendee"])

    # Planning views and the lists.
    for url in ("/", "/meetings", f"/meetings/{plan}", f"/meetings/{plan}/edit", "/meetings/new",
                f"/meetings/{held}", "/admin/users", "/admin/departments", f"/admin/users/{ids['marked'][3]}",
                "/admin/audit", f"/meetings/{plan}/history"):
        admin.visit(url)
    admin.visit("/profile", shows=False)

    # The live room: recorder console, attendee view, shared screen.
    room = f"/meetings/{held}/room"
    rec.visit(room)
    att.visit(room)
    for who in ("recorder", "attendee"):  # the imported transcript and its suggestions, in tabs of their own
        watch(ids[who]).visit(f"/meetings/{held}/transcript")
    screen = watch(ids["host"])
    screen.visit(f"/meetings/{held}/screen")
    # One payload travels live: typed by the recorder, received by the attendee and the screen over SSE.
    live = '<img src=x onerror=alert(90)><div hx-get=/xss91 hx-trigger=load>'
    before = att.page.locator(".point").count()
    rec.page.select_option("#entry-point-dept", str(ids["attendee"]["department_id"]))
    text = rec.page.locator("#entry-point-text")
    text.fill(live)
    text.press("Enter")
    wait_for_htmx(rec.page)
    expect(att.page.locator(".point")).to_have_count(before + 1)
    expect(att.page.locator(".point", has_text="alert(90)")).to_have_count(1)
    expect(screen.page.locator("body")).to_contain_text("alert(90)")
    for who in (rec, att, screen):
        who.check("live point")

    # Review mode.
    _to_review(live_server, ids)
    rec.visit(room, "review (recorder)")
    screen.visit(f"/meetings/{held}/screen", "review (screen)")
    att.visit(room, "review (attendee)")

    # Minutes draft: editor, preview (typed into, the live preview path) and the dashboards.
    _to_draft(live_server, ids)
    rec.visit(f"/meetings/{held}/minutes", "minutes draft")
    editor = rec.page.locator("#markdown")
    editor.press("Control+End")
    editor.type("\n\n<img src=x onerror=alert(92)>[x](javascript:alert(93))")
    expect(rec.page.locator("#minutes-preview")).to_contain_text("x")
    rec.page.wait_for_timeout(600)  # the debounced preview request
    rec.check("minutes preview")
    rec.visit("/", "recorder dashboard")
    rec.visit("/minutes", "minutes list")

    # Sign-off: comments with payloads from three recipients.
    count, _ = _mails_checked(watch, live_server, 0)
    version = _to_signoff(live_server, ids)
    live_server.smtp.wait_for(count + 3)
    rec.visit(f"/meetings/{held}/minutes", "minutes sign-off")
    att.visit(f"/minutes/versions/{version}", "version (attendee)")

    # Final minutes, actions and the archive.
    final, action = _to_final(live_server, ids)
    for url in (f"/meetings/{held}/minutes", f"/minutes/versions/{final}", f"/minutes/versions/{final}/print",
                f"/meetings/{held}", f"/meetings/{held}/history"):
        admin.visit(url)
    for url in ("/actions", "/actions/mine", f"/actions/{action}", "/"):
        att.visit(url)
    att.visit("/actions/calendar", shows=False)
    admin.visit("/actions/follow-up")
    admin.visit("/admin/outbox", "outbox with the robot message")
    monkeypatch.setitem(live_server.app.config, "MAIL_DEV_MAILBOX", True)
    admin.visit("/dev/mailbox", "local mailbox (make run)")  # each mail's HTML in a sandboxed srcdoc frame
    monkeypatch.setitem(live_server.app.config, "MAIL_DEV_MAILBOX", False)
    admin.visit("/notify/bots")
    admin.visit(admin.page.locator("a[href^='/notify/bots/']").first.get_attribute("href"), "robot page")
    topic = urllib.parse.quote(filing_key(pack(PAYLOADS, 200)[1], None), safe="")
    for url in ("/archive", "/archive?view=date", f"/archive/topics/{topic}", f"/archive/search?q={WORD}"):
        rec.visit(url)
    assert rec.page.locator("mark").count() > 0, "search showed no highlighted snippet"

    # Every email (agenda, sign-off asks, change notices, final, action status) rendered in Chromium.
    total, rendered = _mails_checked(watch, live_server, 0)
    assert rendered >= 4, f"only {rendered} HTML mails of {total}"

    # Outputs that are not HTML: served with a type that never renders as a page, payload text intact.
    md = rec.raw(f"/minutes/versions/{final}/export.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"].startswith("attachment")
    assert md.headers["x-content-type-options"] == "nosniff"
    ics = att.raw(f"/calendar/{ids['feed']}.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert not re.search(r"^(BEGIN|END):(?!VCALENDAR|VEVENT|VALARM)", ics.text(), re.M)
    api = att.context.request.get(f"/api/v1/meetings/{held}", headers={"Authorization": f"Bearer {ids['token']}"})
    assert api.status == 200 and api.headers["content-type"].startswith("application/json")
    assert "alert(1)" in json.dumps(api.json(), ensure_ascii=False)
    _robot_messages_are_plain(live_server)


def _robot_messages_are_plain(live_server):
    """A group robot renders Markdown: user text in its messages is escaped, so no link, image or tag."""
    from sqlalchemy import select

    from minutes.extensions import db
    from minutes.notify.models import OutboxMessage

    with live_server.app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.channel != "email")).all()
    assert bodies, "no robot message was queued"
    for body in bodies:
        assert not re.search(r"(?<!\\)\]\(|(?<!\\)<[a-zA-Z/]", body), body
