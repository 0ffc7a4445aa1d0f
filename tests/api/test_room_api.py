"""The room through the API: the same rules as the room page, and live delivery to attendee tabs."""
import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.people.models import User


@pytest.fixture
def running(make_user, make_meeting, api_as, clock):
    clock(2026, 6, 15, 14, 5)
    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("chenjing", "陈静", dept="产品部")
    make_user("lihua", "李华", dept="技术部")
    meeting = make_meeting(host, starts=(2026, 6, 15, 14, 0))
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [db.session.scalar(db.select(type(host)).where(type(host).username == "lihua")).id])
    item = meetings.add_agenda_item(host, meeting, "客户投诉升级后的处理时效", 30)
    db.session.commit()
    api = api_as(recorder)
    status, body = api.post(f"/meetings/{meeting.id}/start")
    assert status == 200, body
    return api, meeting.id, item.id


def test_points_decisions_and_actions_through_the_api(running):
    api, meeting_id, item_id = running
    status, point = api.post(f"/agenda/{item_id}/points", {"kind": "viewpoint", "department": "客服部",
                                                           "text": "需缩短技术部响应时间至24小时内"})
    assert status == 201 and point["id"] and point["department"] == "客服部"
    status, dispute = api.post(f"/agenda/{item_id}/points", {"kind": "dispute", "parties": ["客服部", "技术部"],
                                                             "text": "问题描述是否完整"})
    assert status == 201 and dispute["parties"] == ["客服部", "技术部"]
    status, decision = api.post(f"/agenda/{item_id}/decisions", {"text": "投诉处理总时效不超过72小时"})
    assert status == 201 and decision["confirmed"] is False
    status, action = api.post(f"/agenda/{item_id}/actions", {"text": "优化投诉提报模板", "owner": "lihua",
                                                             "departments": ["客服部"], "due": "3个工作日内"})
    assert status == 201
    # Monday 2026-06-15 + 3 working days = Thursday 2026-06-18 (Dragon Boat starts Friday 06-19)
    assert action["due"] == "2026-06-18" and action["due_label"] == "2026年6月18日（周四）"
    assert action["owner"] == "lihua" and action["owner_department"] == "技术部" and action["departments"] == ["客服部"]
    status, room = api.get(f"/meetings/{meeting_id}/room")
    assert [p["text"] for p in room["items"][0]["points"]] == ["需缩短技术部响应时间至24小时内", "问题描述是否完整"]
    assert room["revision"] >= 5


def test_vague_decision_is_422_listing_the_terms(running):
    api, meeting_id, item_id = running
    status, body = api.post(f"/agenda/{item_id}/decisions", {"text": "尽快协调，后续再议"})
    assert status == 422
    terms = body["error"]["fields"]["vague_terms"]
    assert "尽快" in terms and "后续" in terms
    assert "3个工作日" in body["error"]["fields"]["suggestions"]


def test_action_without_owner_or_date_is_refused(running):
    api, meeting_id, item_id = running
    status, body = api.post(f"/agenda/{item_id}/actions", {"text": "优化模板", "due": "2026-06-30"})
    assert status == 422 and "owner" in body["error"]["fields"]
    status, body = api.post(f"/agenda/{item_id}/actions", {"text": "优化模板", "owner": "lihua"})
    assert status == 422 and "due" in body["error"]["fields"]
    assert api.get(f"/meetings/{meeting_id}/room")[1]["items"][0]["actions"] == []


def test_stale_point_edit_is_409_and_changes_nothing(running):
    api, meeting_id, item_id = running
    _, point = api.post(f"/agenda/{item_id}/points", {"kind": "consensus", "text": "客服部1小时内补充问题描述"})
    status, edited = api.patch(f"/points/{point['id']}", {"version": point["version"], "text": "客服部2小时内补充"})
    assert status == 200 and edited["version"] == point["version"] + 1
    status, body = api.patch(f"/points/{point['id']}", {"version": point["version"], "text": "旧版本上的修改"})
    assert status == 409
    assert api.get(f"/meetings/{meeting_id}/room")[1]["items"][0]["points"][0]["text"] == "客服部2小时内补充"
    status, body = api.delete(f"/points/{point['id']}?version={point['version']}")
    assert status == 409
    assert api.delete(f"/points/{point['id']}?version={edited['version']}")[0] == 200
    assert api.get(f"/meetings/{meeting_id}/room")[1]["items"][0]["points"] == []


def test_attendance_and_finish(running):
    api, meeting_id, item_id = running
    status, row = api.post(f"/meetings/{meeting_id}/attendance", {"username": "lihua", "status": "absent"})
    assert status == 422 and "原因" in row["error"]["message"]
    status, row = api.post(f"/meetings/{meeting_id}/attendance", {"username": "lihua", "status": "absent",
                                                                  "reason": "出差"})
    assert status == 200 and row["status"] == "absent" and row["reason"] == "出差"
    _, decision = api.post(f"/agenda/{item_id}/decisions", {"text": "投诉处理总时效不超过72小时"})
    status, body = api.post(f"/meetings/{meeting_id}/finish")
    assert status == 409 and "未逐项确认" in body["error"]["message"]
    assert api.post(f"/meetings/{meeting_id}/review")[0] == 200
    status, confirmed = api.post(f"/decisions/{decision['id']}/confirm", {"version": decision["version"]})
    assert status == 200 and confirmed["confirmed"] is True
    status, room = api.post(f"/meetings/{meeting_id}/finish")
    assert status == 200 and room["status"] == "minutes_due"
    assert room["minutes_due_at"] == "2026-06-16T14:05:00+08:00"


def test_participant_cannot_write_in_the_room(running, api_as):
    api, meeting_id, item_id = running
    from minutes.people.models import User

    lihua = db.session.scalar(db.select(User).where(User.username == "lihua"))
    watcher = api_as(lihua)
    status, body = watcher.post(f"/agenda/{item_id}/points", {"kind": "consensus", "text": "我也想写"})
    assert status == 403
    assert watcher.get(f"/meetings/{meeting_id}/room")[0] == 200


def test_a_month_without_a_day_needs_its_date_confirmed_through_the_api_too(running):
    api, meeting_id, item_id = running
    data = {"text": "优化投诉提报模板", "owner": "lihua", "due": "月底"}
    status, body = api.post(f"/agenda/{item_id}/actions", data)
    assert status == 422 and body["error"]["fields"]["due"] == "将理解为 2026年6月30日（周二），请确认或改为具体日期"
    status, action = api.post(f"/agenda/{item_id}/actions", {**data, "due_confirmed": "2026-06-30"})
    assert status == 201 and action["due"] == "2026-06-30"


def test_a_meeting_without_recorder_or_agenda_cannot_be_started_through_the_api(make_user, api_as, clock):
    clock(2026, 6, 15, 13, 0)
    make_user("zhaomin", "赵敏", dept="客服部")
    host = api_as(db.session.scalar(db.select(User).where(User.username == "zhaomin")))
    status, meeting = host.post("/meetings", {"topic": "投诉处理协调会", "goal": "明确处理时效", "location": "301",
                                              "starts_at": "2026-06-15T14:00:00+08:00",
                                              "ends_at": "2026-06-15T15:00:00+08:00"})
    assert status == 201, meeting
    status, body = host.post(f"/meetings/{meeting['id']}/start")
    assert status == 409 and "尚未指定记录人" in body["error"]["message"] and "议程中还没有议题" in body["error"]["message"]
    assert host.get(f"/meetings/{meeting['id']}")[1]["status"] == "draft"
    # still plannable: the agenda item and the recorder can be added, then it starts
    assert host.post(f"/meetings/{meeting['id']}/agenda", {"title": "处理时效", "minutes": 30})[0] == 201
    make_user("chenjing", "陈静", dept="产品部")
    assert host.patch(f"/meetings/{meeting['id']}", {"recorder": "chenjing"})[0] == 200
    status, body = host.post(f"/meetings/{meeting['id']}/start")
    assert status == 200 and body["status"] == "in_progress"


def test_recorder_adds_an_impromptu_item_during_the_meeting_through_the_api(running, api_as):
    api, meeting_id, item_id = running
    status, item = api.post(f"/meetings/{meeting_id}/agenda", {"title": "系统故障应急处理", "minutes": 15,
                                                               "department": "技术部"})
    assert status == 201 and (item["title"], item["position"], item["department"]) == ("系统故障应急处理", 2, "技术部")
    status, room = api.get(f"/meetings/{meeting_id}/room")
    assert [i["title"] for i in room["items"]] == ["客户投诉升级后的处理时效", "系统故障应急处理"]
    assert api.post(f"/agenda/{item['id']}/points", {"kind": "consensus", "text": "先恢复服务再复盘"})[0] == 201
    watcher = api_as(db.session.scalar(db.select(User).where(User.username == "lihua")))
    assert watcher.post(f"/meetings/{meeting_id}/agenda", {"title": "我也想加", "minutes": 5})[0] == 403
