"""A meeting started three days before its planned date: from the start on, its time is the actual one — in the
room, on the dashboards, in the archive, the exports and the minutes (the plan is noted beside it)."""
import io
from datetime import datetime, timezone

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.meetings.models import MeetingStatus
from minutes.records import drafting, signoff
from minutes.room import service as room
from minutes.room import review

HTMX = {"HX-Request": "true"}


@pytest.fixture
def early(app, clock, make_user, make_meeting):
    """Planned Thu 2026-06-18 14:00–15:30; it is Mon 2026-06-15 10:00. Host 赵敏, recorder 李四, member 孙七."""
    clock(2026, 6, 15, 10, 0)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("lisi", "李四")
    member = make_user("sunqi", "孙七")
    meeting = make_meeting(host, starts=(2026, 6, 18, 14, 0), minutes=90)
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [member.id], "participant")
    meetings.add_agenda_item(host, meeting, "投诉升级后的处理时效", 30, host.department_id)
    db.session.commit()
    return meeting, host, recorder, member


def test_starting_three_days_early_asks_first_and_changes_nothing(early, client, login_as):
    meeting, _host, recorder, _member = early
    login_as(recorder)
    response = client.post(f"/meetings/{meeting.id}/room/start", headers=HTMX)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "现在开始会议？" in html and "提前3天4小时" in html and "2026年6月18日" in html
    assert 'name="confirm" value="1"' in html and "hx-confirm" not in html
    assert meeting.status == MeetingStatus.DRAFT and room.room_of(meeting) is None
    assert client.post(f"/meetings/{meeting.id}/room/start").status_code == 409  # without htmx: the same page


def test_starting_within_two_hours_of_the_plan_needs_no_confirmation(early, clock, client, login_as):
    meeting, _host, recorder, _member = early
    clock(2026, 6, 18, 12, 5)
    login_as(recorder)
    assert client.post(f"/meetings/{meeting.id}/room/start", headers=HTMX).status_code == 200
    assert meeting.status == MeetingStatus.IN_PROGRESS


def test_a_meeting_started_early_is_held_at_its_actual_time_everywhere(early, clock, client, login_as):
    meeting, host, recorder, member = early
    login_as(recorder)
    assert client.post(f"/meetings/{meeting.id}/room/start", data={"confirm": "1"}).status_code == 303
    assert meeting.starts_at == datetime(2026, 6, 15, 2, 0, tzinfo=timezone.utc)
    assert meeting.planned_starts_at == datetime(2026, 6, 18, 6, 0, tzinfo=timezone.utc)

    head = client.get(f"/meetings/{meeting.id}/room").get_data(as_text=True)
    started = head.split('id="room-started">')[1].split("</div>")[0]
    assert "2026年6月15日（周一） 10:00 开始" in started and "原定 2026年6月18日（周四） 14:00" in started

    board = client.get("/").get_data(as_text=True)
    assert meeting.topic in board.split('id="ongoing"')[1].split("</section>")[0]
    assert meeting.topic not in board.split('id="upcoming"')[1].split("</section>")[0]
    listed = client.get("/meetings").get_data(as_text=True)
    assert meeting.topic in listed and "进行中" in listed

    clock(2026, 6, 15, 10, 50)
    review.enter_review(recorder, meeting)
    review.finish_meeting(recorder, meeting)
    db.session.commit()
    assert meeting.ends_at == datetime(2026, 6, 15, 2, 50, tzinfo=timezone.utc)
    board = client.get("/").get_data(as_text=True)
    assert meeting.topic in board.split('id="past"')[1] and 'id="ongoing"' not in board

    clock(2026, 6, 15, 14, 0)
    drafting.draft_from_record(recorder, meeting)
    version = signoff.distribute(recorder, meeting)
    db.session.commit()
    assert "2026年6月15日（周一） 10:00–10:50（计划 2026年6月18日（周四） 14:00–15:30）" in version.body

    login_as(member)
    md = client.get(f"/minutes/versions/{version.id}/export.md")
    assert "-20260615-" in md.headers["Content-Disposition"] or "20260615" in md.headers["Content-Disposition"]
    assert "2026年6月15日" in md.get_data(as_text=True)

    from icalendar import Calendar

    cal = Calendar.from_ical(client.get(f"/minutes/versions/{version.id}/export.ics").get_data())
    event = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("meeting-"))
    assert event.decoded("DTSTART") == datetime(2026, 6, 15, 2, 0, tzinfo=timezone.utc)
    assert event.decoded("DTEND") == datetime(2026, 6, 15, 2, 50, tzinfo=timezone.utc)

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(f"/minutes/versions/{version.id}/export.xlsx").get_data()))
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["会议时间"].startswith("2026年6月15日")

    from docx import Document

    doc = Document(io.BytesIO(client.get(f"/minutes/versions/{version.id}/export.docx").get_data()))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(c.text for t in doc.tables for row in t.rows
                                                               for c in row.cells)
    assert "2026年6月15日（周一） 10:00–10:50" in text

    archive = client.get("/archive?view=date").get_data(as_text=True)
    assert meeting.topic in archive
    topic = client.get(f"/archive/topics/{meeting.topic}").get_data(as_text=True)
    assert "2026年6月15日" in topic and "2026年6月18日" not in topic


def test_the_api_start_records_the_actual_time_and_keeps_the_plan(early, client):
    from minutes.api import service as api

    meeting, _host, recorder, _member = early
    token = api.create_token(recorder, "test")[1]
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/api/v1/meetings/{meeting.id}/start", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["started_at"].startswith("2026-06-15T10:00")
    data = client.get(f"/api/v1/meetings/{meeting.id}", headers=auth).get_json()
    assert data["starts_at"].startswith("2026-06-15T10:00") and data["planned_starts_at"].startswith("2026-06-18T14:00")
