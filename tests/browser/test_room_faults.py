"""A real Chromium tab on the live room keeps every point, once and in order, through repeated network cuts.

The attendee's browser goes offline and online again six times while the recorder adds 40 points
(the reconnects go through static/room.js and the htmx SSE extension, as they do for people).
The server-side version with 200 points, 100 cuts and a killed worker is tests/room/test_faults.py.
"""
import random
import re
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_room_live import _setup_meeting

pytestmark = pytest.mark.browser

POINTS = 40
CUTS = 6


def test_a_tab_cut_off_again_and_again_ends_with_every_point_once_in_order(live_server, new_page, users):
    from minutes.extensions import db
    from minutes.meetings.models import Meeting
    from minutes.people.models import User
    from minutes.room import recording, service
    from minutes.room.models import Point

    host = users("wangzc", "王主持", dept="客服部")
    recorder = users("lijl", "李记录", dept="客服部")
    attendee = users("zhangjs", "张技术", dept="技术部")
    meeting_id, (item_id, _) = _setup_meeting(live_server, host, recorder, attendee)
    with live_server.app.app_context():
        service.start_meeting(db.session.get(User, recorder.id), db.session.get(Meeting, meeting_id))
        db.session.commit()

    page = new_page(attendee)
    page.goto(f"/meetings/{meeting_id}/room")
    expect(page.locator("#room")).to_have_class(re.compile(r"\bis-live\b"), timeout=8000)

    failures = []

    def record():
        """The recorder adds a point about every 80 ms (the service commits and publishes, as the form does)."""
        try:
            for k in range(1, POINTS + 1):
                with live_server.app.app_context():
                    recording.add_point(db.session.get(User, recorder.id), db.session.get(Meeting, meeting_id),
                                        item_id, "consensus", f"第{k:02d}条共识")
                    db.session.commit()
                time.sleep(0.08)
        except Exception as exc:  # shown by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=record, daemon=True)
    writer.start()
    for _ in range(CUTS):
        time.sleep(random.uniform(0.1, 0.4))
        page.context.set_offline(True)
        time.sleep(random.uniform(0.1, 0.4))
        page.context.set_offline(False)
    writer.join(30)
    assert not failures, failures

    with live_server.app.app_context():
        expected = [f"point-{p.id}" for p in db.session.scalars(
            db.select(Point).where(Point.agenda_item_id == item_id).order_by(Point.position, Point.id))]
    assert len(expected) == POINTS
    points = page.locator(f"#points-{item_id} > li.point")
    expect(points).to_have_count(POINTS, timeout=15000)
    assert points.evaluate_all("els => els.map(e => e.id)") == expected
    assert points.locator(".text").all_inner_texts() == [f"第{k:02d}条共识" for k in range(1, POINTS + 1)]
    expect(page.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))
