"""Statement budgets per page (issue 21): how many SQL statements one GET of each main page executes, with
realistic data built through the app's own services, on SQLite and PostgreSQL alike.

Goal: the room ≤ 10 statements, every other page ≤ 15; each page's test asserts its goal.
The count is of the second GET of a page: the first warms whatever the app caches, as a running server's
would be. Every statement the driver is given counts, SQLite's explicit BEGIN included (PostgreSQL's is implicit).
"""
import contextlib
import pytest
from sqlalchemy import event

from minutes.extensions import db
from minutes.room import service as room
from tests import page_data

#: The goals of issue 21.
ROOM_GOAL = 10
PAGE_GOAL = 15


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


# --- the data (tests/page_data.py: bench/pages.py times the same pages on the same data) ----------------

@pytest.fixture
def office(app, make_user, clock):
    """Twelve colleagues in five departments (a head in each); the clock on Mon 2026-06-08 09:00."""
    return page_data.office(make_user, clock)


@pytest.fixture
def history(office, make_meeting, clock):
    """Four meetings held and finished (two with their minutes out for sign-off), one going on, three coming."""
    return page_data.history(office, make_meeting, clock)


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
    return page_data.big_room(office, make_meeting, clock)


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
    # The screen shows the item under discussion and no attendance list: it reads that item's points only, and
    # neither the people nor the departments of the rest of the room.
    assert any("point.agenda_item_id = " in s for s in screen), _report("screen", screen)
    assert len(screen) < len(view), _report("screen", screen)


def test_room_budget_right_after_the_start(office, make_meeting, clock, client, login_as, cost):
    """A room with nothing recorded yet costs no more: what the record would have brought along (the
    departments of the agenda and of the people) is not asked for one by one."""
    host, recorder = office[0], office[1]
    meeting = page_data.planned_meeting(make_meeting, host, office, (2026, 6, 8, 9, 0), topic="年度预算协调会", items=5)
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
    meeting, recorder, version = page_data.minutes_with_ten_versions(office, make_meeting, clock)
    assert version.number == 10
    login_as(recorder)
    seen = cost(f"/meetings/{meeting.id}/minutes", expect="第10版")
    # 14 / 13 on SQLite / PostgreSQL (63 / 62 before; +1 since issue 20: the meeting's transcripts, for the link
    # to them and the model's summary draft)
    assert len(seen) <= PAGE_GOAL, _report("minutes page", seen)


def test_actions_list_with_two_thousand_actions_budget(history, login_as, cost):
    """2,000 actions over the held meetings (bulk-inserted, as the room would have written them)."""
    page_data.two_thousand_actions(history)
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
