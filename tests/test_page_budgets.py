"""Statement budgets per page (issue 21): how many SQL statements one GET of each main page executes, with
realistic data built through the app's own services, on SQLite and PostgreSQL alike.

Goal: the room ≤ 10 statements, every other page ≤ 15; each page's test asserts its goal.
The count is of the second GET of a page: the first warms whatever the app caches, as a running server's
would be. Every statement the driver is given counts, SQLite's explicit BEGIN included (PostgreSQL's is implicit).
"""
import contextlib
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from minutes.actions.models import ActionItem, ActionStatus
from minutes.core import timefmt
from minutes.extensions import db
from minutes.meetings import materials, service as planning
from minutes.room import attendance, recording, review
from minutes.room import service as room

#: The goals of issue 21.
ROOM_GOAL = 10
PAGE_GOAL = 15


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """Hash the test accounts' passwords with few rounds (login still checks them)."""
    from werkzeug.security import generate_password_hash

    from minutes.people import service as people

    monkeypatch.setattr(people, "generate_password_hash",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))


@contextlib.contextmanager
def _statements():
    """Collect the SQL statements the engine executes inside the block."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


@pytest.fixture
def cost(client):
    """cost(url, expect="…") → the statements of one warm GET of `url` (after a first, warming GET)."""

    def measure(url, expect=None, **kwargs):
        first = client.get(url, **kwargs)
        assert first.status_code == 200, first.get_data(as_text=True)[:800]
        db.session.commit()  # the test's own session has nothing left to write while we count
        with _statements() as seen:
            response = client.get(url, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)[:800]
        if expect is not None:
            assert expect in response.get_data(as_text=True)
        return seen

    return measure


def _report(name, seen) -> str:
    return f"{name}: {len(seen)} statements\n" + "\n".join(f"  {i + 1}. {s[:300]}" for i, s in enumerate(seen))


# --- the data ----------------------------------------------------------------------------------

DEPARTMENTS = ("客服部", "技术部", "法务部", "财务部", "产品部")


@pytest.fixture
def office(app, make_user, clock):
    """Twelve colleagues in five departments (a head in each); the clock on Mon 2026-06-08 09:00."""
    clock(2026, 6, 8, 9, 0)
    people = [make_user(f"u{i:02d}", f"同事{i:02d}", dept=DEPARTMENTS[i % 5]) for i in range(12)]
    for head in people[:5]:
        head.is_department_head = True
    db.session.commit()
    return people


def _meeting(make_meeting, host, people, starts, topic="解决客户投诉处理流程卡点", items=3, recorder=None,
             confidential=False):
    """A planned meeting: a recorder, the people invited, `items` agenda items."""
    meeting = make_meeting(host, starts=starts, topic=topic, confidential=confidential)
    recorder = recorder or next(p for p in people if p is not host)
    planning.invite(host, meeting, [recorder.id], "recorder")
    others = [p.id for p in people if p is not host and p is not recorder]
    if others:
        planning.invite(host, meeting, others, "participant")
    for i in range(items):
        planning.add_agenda_item(host, meeting, f"{topic}·议题{i + 1}", 15, people[i % len(people)].department_id)
    db.session.commit()
    db.session.expire(meeting)  # invite() lists a new participant twice in the loaded collection
    return meeting


def _hold(clock, meeting, recorder, people, points=3, actions=1, finish=True):
    """Start the meeting at its planned time, record in it, walk the review and finish it."""
    at = timefmt.to_local(meeting.starts_at)
    clock(at.year, at.month, at.day, at.hour, at.minute)
    room.start_meeting(recorder, meeting)
    for person in people[:4]:
        attendance.mark_attendance(recorder, meeting, person.id, "present")
    items = list(meeting.agenda_items)
    for i in range(points):
        item = items[i % len(items)]
        recording.add_point(recorder, meeting, item.id, "viewpoint", f"第{i + 1}条观点：客服部需在1小时内补充问题描述",
                            department_id=people[i % len(people)].department_id)
    recording.add_decision(recorder, meeting, items[0].id, "确定客户投诉处理总时效不超过72小时")
    due = (at.date() + timedelta(days=20)).isoformat()
    for i in range(actions):
        owner = people[i % len(people)]
        recording.add_action(recorder, meeting, items[0].id, f"第{i + 1}项待办：优化投诉提报模板", owner_id=owner.id,
                             due=due)
    if finish:
        review.enter_review(recorder, meeting)
        for entry in review.review_entries(meeting):
            review.confirm_entry(recorder, meeting, entry.review_key)
        clock(at.year, at.month, at.day, at.hour + 1, at.minute)
        review.finish_meeting(recorder, meeting)
    db.session.commit()
    return meeting


@pytest.fixture
def history(office, make_meeting, clock):
    """What a colleague's month looks like: four meetings held and finished (two with their minutes out for
    sign-off), one going on, three coming."""
    host, recorder = office[0], office[1]
    held = []
    for n, day in enumerate((1, 2, 3, 4)):
        meeting = _meeting(make_meeting, host, office, (2026, 6, day, 10, 0), topic=f"季度协调会第{n + 1}次")
        held.append(_hold(clock, meeting, recorder, office, points=4, actions=2))
    from minutes.records import drafting, signoff

    for meeting in held[:2]:  # two of them have their minutes out for sign-off
        drafting.draft_from_record(recorder, meeting)
        signoff.distribute(recorder, meeting)
    db.session.commit()
    clock(2026, 6, 8, 9, 0)
    going_on = _meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="预算审批流程")
    _hold(clock, going_on, recorder, office, points=3, actions=1, finish=False)
    coming = [_meeting(make_meeting, host, office, (2026, 6, 15 + n, 14, 0), topic=f"上线验收标准{n + 1}", items=5)
              for n in range(3)]
    for n, item in enumerate(coming[0].agenda_items):  # materials to prepare, as links
        materials.add_material_link(host, item, f"https://wiki.example.com/acceptance/{n}", f"验收清单{n + 1}")
    db.session.commit()
    clock(2026, 6, 8, 9, 30)
    return {"host": host, "recorder": recorder, "held": held, "going_on": going_on, "coming": coming}


# --- the pages ---------------------------------------------------------------------------------

def test_dashboard_budget(history, login_as, cost):
    login_as(history["host"])
    seen = cost("/", expect="预算审批流程")
    # 14 / 13 on SQLite / PostgreSQL (34 / 33 before: two statements per meeting whose minutes were due, five per
    # meeting whose minutes were out; now the same however many)
    assert len(seen) <= PAGE_GOAL, _report("dashboard", seen)


def test_meeting_page_budget(history, login_as, cost):
    meeting = history["coming"][0]
    login_as(history["host"])
    seen = cost(f"/meetings/{meeting.id}", expect="上线验收标准1")
    assert len(seen) <= PAGE_GOAL, _report("meeting page", seen)


@pytest.fixture
def big_room(office, make_meeting, clock):
    """A meeting going on with 30 agenda items and 300 points (ten per item), decisions and actions."""
    host, recorder = office[0], office[1]
    meeting = _meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="年度预算协调会", items=30)
    clock(2026, 6, 8, 9, 0)
    room.start_meeting(recorder, meeting)
    for person in office:
        attendance.mark_attendance(recorder, meeting, person.id, "present")
    items = list(meeting.agenda_items)
    due = date(2026, 6, 30).isoformat()
    kinds = ("viewpoint", "viewpoint", "dispute", "consensus")
    for n, item in enumerate(items):
        room.set_current_item(recorder, meeting, item.id)
        for i in range(10):
            kind = kinds[i % 4]
            dept = office[(n + i) % len(office)].department_id
            other = office[(n + i + 1) % len(office)].department_id
            recording.add_point(recorder, meeting, item.id, kind, f"议题{n + 1}第{i + 1}条：客服部需在1小时内补充问题描述",
                                department_id=dept, speaker_id=office[(n + i) % len(office)].id,
                                party_ids=[dept, other] if kind == "dispute" and dept != other else ())
        if n % 3 == 0:
            recording.add_decision(recorder, meeting, item.id, f"议题{n + 1}：处理总时效不超过72小时",
                                   owner_department_id=host.department_id, owner_id=host.id,
                                   cooperating_department_ids=[office[2].department_id], due=due)
            recording.add_action(recorder, meeting, item.id, f"议题{n + 1}：优化投诉提报模板", owner_id=office[n % 12].id,
                                 cooperating_department_ids=[office[3].department_id], due=due)
    room.set_current_item(recorder, meeting, items[12].id)
    db.session.commit()
    return meeting, host, recorder, office[5]


def test_room_budget(big_room, client, login_as, cost):
    """The room of a meeting with 30 items and 300 points: the recorder's console, an attendee's view, the screen."""
    meeting, _host, recorder, attendee = big_room
    login_as(recorder)
    console = cost(f"/meetings/{meeting.id}/room", expect="议题30第10条")
    client.post("/logout")
    login_as(attendee)
    view = cost(f"/meetings/{meeting.id}/room", expect="议题30第10条")
    screen = cost(f"/meetings/{meeting.id}/screen", expect="议题13")
    assert len(console) <= ROOM_GOAL, _report("room (recorder)", console)
    assert len(view) <= ROOM_GOAL, _report("room (attendee)", view)
    assert len(screen) <= ROOM_GOAL, _report("screen", screen)


def test_room_budget_right_after_the_start(office, make_meeting, clock, client, login_as, cost):
    """A room with nothing recorded yet costs no more: what the record would have brought along (the
    departments of the agenda and of the people) is not asked for one by one."""
    host, recorder = office[0], office[1]
    meeting = _meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="年度预算协调会", items=5)
    clock(2026, 6, 8, 9, 0)
    room.start_meeting(recorder, meeting)
    db.session.commit()
    login_as(recorder)
    console = cost(f"/meetings/{meeting.id}/room", expect="年度预算协调会")
    client.post("/logout")
    login_as(office[5])
    view = cost(f"/meetings/{meeting.id}/room", expect="年度预算协调会")
    assert len(console) <= ROOM_GOAL, _report("fresh room (recorder)", console)
    assert len(view) <= ROOM_GOAL, _report("fresh room (attendee)", view)


def test_minutes_page_with_ten_versions_budget(office, make_meeting, clock, login_as, cost):
    from minutes.records import drafting, signoff

    host, recorder = office[0], office[1]
    meeting = _meeting(make_meeting, host, office, (2026, 6, 1, 10, 0), topic="投诉提报模板优化")
    _hold(clock, meeting, recorder, office, points=6, actions=3)
    clock(2026, 6, 1, 15, 0)
    drafting.draft_from_record(recorder, meeting)
    version = signoff.distribute(recorder, meeting)
    for n in range(2, 11):
        clock(2026, 6, 1, 15, n)
        answer = signoff.respond(office[n % 12], version.id, "change", f"第{n}条修改意见：请注明责任部门")
        version = signoff.revise(recorder, meeting, version.body + f"\n\n修订{n}：已注明责任部门。", answers=[answer.id])
    db.session.commit()
    assert version.number == 10
    login_as(recorder)
    seen = cost(f"/meetings/{meeting.id}/minutes", expect="第10版")
    # 14 / 13 on SQLite / PostgreSQL (63 / 62 before; +1 since issue 20: the meeting's transcripts, for the link
    # to them and the model's summary draft)
    assert len(seen) <= PAGE_GOAL, _report("minutes page", seen)


def test_actions_list_with_two_thousand_actions_budget(history, login_as, cost):
    """2,000 actions over the held meetings (bulk-inserted, as the room would have written them)."""
    held, people = history["held"], [history["host"], history["recorder"]]
    first = held[0]
    rows = []
    statuses = list(ActionStatus)
    for n in range(2000):
        meeting = held[n % len(held)]
        owner = people[n % 2]
        rows.append(dict(meeting_id=meeting.id, agenda_item_id=meeting.agenda_items[0].id,
                         text=f"第{n + 1}项：优化投诉提报模板", owner_department_id=owner.department_id,
                         owner_id=owner.id, due_date=date(2026, 6, 1) + timedelta(days=n % 60), due_text="",
                         status=statuses[n % len(statuses)], position=100 + n, reworded=False,
                         created_by_id=first.host.id, created_at=datetime(2026, 6, 1, 2, 0, tzinfo=timefmt.UTC),
                         version=1))
    db.session.execute(insert(ActionItem), rows)
    db.session.commit()
    login_as(history["host"])
    seen = cost("/actions", expect="优化投诉提报模板")
    assert len(seen) <= PAGE_GOAL, _report("actions list", seen)


def test_archive_page_budget(history, login_as, cost):
    login_as(history["host"])
    seen = cost("/archive", expect="季度协调会")
    assert len(seen) <= PAGE_GOAL, _report("archive", seen)


def test_search_page_budget(history, login_as, cost):
    login_as(history["host"])
    seen = cost("/archive/search?q=投诉", expect="季度协调会")
    assert len(seen) <= PAGE_GOAL, _report("search", seen)


def test_api_room_read_budget(big_room, client, cost):
    """The room's JSON for an integration (30 items, 300 points): read once, not once per agenda item, within the
    room's budget (the token with its user, the meeting, the room, its points, decisions, actions, items, attendance)."""
    from minutes.api import service as api

    meeting, _host, _recorder, attendee = big_room
    _, token = api.create_token(attendee, "读取会议室", read_only=True)
    db.session.commit()
    read = cost(f"/api/v1/meetings/{meeting.id}/room", expect=r"\u8bae\u989830\u7b2c10\u6761",
                headers={"Authorization": f"Bearer {token}"})
    assert len(read) <= ROOM_GOAL, _report("API room", read)
