"""Formal minutes through the API: draft, distribute, answers by each recipient for themselves, final."""
import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.people.models import User
from minutes.room import service as room
from minutes.room import recording, review


@pytest.fixture
def finished(make_user, make_meeting, api_as, clock):
    clock(2026, 6, 15, 14, 0)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("chenjing", "陈静", dept="产品部")
    lihua = make_user("lihua", "李华", dept="技术部")
    meeting = make_meeting(host, starts=(2026, 6, 15, 14, 0))
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [lihua.id])
    item = meetings.add_agenda_item(host, meeting, "投诉时效", 30)
    db.session.commit()
    room.start_meeting(recorder, meeting)
    recording.add_point(recorder, meeting, item.id, "consensus", "客服部1小时内补充问题描述")
    review.finish_meeting(recorder, meeting)
    db.session.commit()
    clock(2026, 6, 15, 17, 0)
    return {"recorder": api_as(recorder), "host": api_as(host), "lihua": api_as(lihua), "meeting_id": meeting.id}


def test_minutes_from_draft_to_final(finished):
    rec, mid = finished["recorder"], finished["meeting_id"]
    status, body = rec.post(f"/meetings/{mid}/minutes")
    assert status == 201 and body["status"] == "draft" and "客服部1小时内补充问题描述" in body["draft"]
    assert body["due_at"] == "2026-06-16T14:00:00+08:00" and body["overdue"] is False
    status, body = rec.post(f"/meetings/{mid}/minutes/distribute", {})
    assert status == 200 and body["status"] == "distributed"
    version_id = body["current"]["id"]
    assert {r["username"] for r in body["recipients"]} >= {"zhaomin", "lihua"}
    status, answer = finished["lihua"].post(f"/minutes/{version_id}/responses", {"response": "confirm"})
    assert status == 201
    status, answer = finished["host"].post(f"/minutes/{version_id}/responses", {"response": "confirm"})
    assert status == 201
    status, body = rec.get(f"/meetings/{mid}/minutes")
    assert body["status"] == "final" and body["final"]["final"] is True and body["final_intact"] is True
    assert len(body["final"]["content_hash"]) == 64


def test_only_recipients_answer_and_only_for_themselves(finished, make_user, api_as):
    rec, mid = finished["recorder"], finished["meeting_id"]
    rec.post(f"/meetings/{mid}/minutes")
    _, body = rec.post(f"/meetings/{mid}/minutes/distribute", {})
    version_id = body["current"]["id"]
    outsider = api_as(make_user("zhoujie", dept="市场部"))
    status, err = outsider.post(f"/minutes/{version_id}/responses", {"response": "confirm"})
    assert status == 403
    status, err = finished["lihua"].post(f"/minutes/{version_id}/responses", {"response": "confirm",
                                                                               "username": "zhaomin"})
    assert status == 422  # there is no way to name somebody else


def test_host_finalizes_with_reason_for_missing_answers(finished):
    rec, mid = finished["recorder"], finished["meeting_id"]
    rec.post(f"/meetings/{mid}/minutes")
    rec.post(f"/meetings/{mid}/minutes/distribute", {})
    status, body = finished["host"].post(f"/meetings/{mid}/minutes/finalize", {})
    assert status in (409, 422)
    status, body = finished["host"].post(f"/meetings/{mid}/minutes/finalize", {"reason": "李华出差，已电话确认"})
    assert status == 200 and body["status"] == "final"
