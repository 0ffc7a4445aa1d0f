"""A meeting started three days before its planned date: a styled question first, then the actual time everywhere."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.test_room_live import _setup_meeting, people  # noqa: F401  (a meeting with five people)


def _plan_in_three_days(live_server, meeting_id):
    from minutes.extensions import db
    from minutes.meetings.models import Meeting

    with live_server.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.starts_at += timedelta(days=3)
        meeting.ends_at += timedelta(days=3)
        db.session.commit()


def test_early_start_is_confirmed_on_the_page_then_shown_at_its_actual_time(live_server, new_page, people, shot):
    host, recorder, attendee, product, legal = people
    meeting_id, _items = _setup_meeting(live_server, host, recorder, attendee, others=(product, legal))
    _plan_in_three_days(live_server, meeting_id)
    console = new_page(recorder, viewport=(1366, 768))
    console.goto(f"/meetings/{meeting_id}/room")
    console.get_by_role("button", name="开始会议").click()
    question = console.locator("#start-confirm")
    expect(question).to_contain_text("提前3天")
    expect(question).to_contain_text("确定现在开始吗")
    shot(console, "room-start-early-confirm", full_page=False)
    expect(console.locator("#room-head")).to_have_count(0)  # nothing started yet

    # The room's own stream may show the start before HX-Redirect reloads the page: wait for that reload,
    # or the screenshot below runs in a page being replaced.
    with console.expect_navigation(url=re.compile(rf"/meetings/{meeting_id}/room$")):
        question.get_by_role("button", name="确认，现在开始").click()
    console.wait_for_load_state("load")
    started = console.locator("#room-started")
    expect(started).to_contain_text("开始")
    expect(started).to_contain_text("原定")
    shot(console, "room-started-early-head", full_page=False)

    board = new_page(host, viewport=(1366, 768))
    board.goto("/")
    expect(board.locator("#ongoing")).to_contain_text("解决客户投诉处理流程卡点")
    expect(board.locator("#upcoming")).not_to_contain_text("解决客户投诉处理流程卡点")
    shot(board, "dashboard-ongoing", full_page=False)
