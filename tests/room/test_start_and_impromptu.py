"""Starting needs what the room needs (a recorder, an agenda); a 临时议题 can be added during the meeting."""
import time

import pytest

from minutes.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.room import service
from tests.room.conftest import login

HX = {"HX-Request": "true"}


def test_a_meeting_without_recorder_or_agenda_cannot_start_and_says_what_is_missing(app, make_user, make_meeting,
                                                                                    client, login_as, clock):
    clock(2026, 6, 15, 13, 55)
    host = make_user("host", "王主持", dept="客服部")
    recorder = make_user("recorder", "李记录", dept="客服部")
    meeting = make_meeting(host)
    with pytest.raises(RuleViolation) as refused:
        service.start_meeting(host, meeting)
    assert "尚未指定记录人" in refused.value.message and "议程中还没有议题" in refused.value.message
    meetings.invite(host, meeting, [recorder.id], "recorder")
    db.session.commit()
    login_as(host)
    waiting = client.get(f"/meetings/{meeting.id}/room").get_data(as_text=True)
    assert "开始前请完善：议程中还没有议题。" in waiting and f'href="/meetings/{meeting.id}"' in waiting
    response = client.post(f"/meetings/{meeting.id}/room/start", headers=HX)  # the room page's start button
    assert response.status_code == 409 and "议程中还没有议题" in response.get_data(as_text=True)
    assert "尚未指定记录人" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.status.value == "draft" and service.room_of(meeting) is None
    meetings.add_agenda_item(host, meeting, "客户投诉升级后的处理时效", 30)
    db.session.commit()
    response = client.post(f"/meetings/{meeting.id}/room/start", headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/meetings/{meeting.id}/room"


def test_host_or_recorder_adds_an_impromptu_item_during_the_meeting(started):
    item = service.add_agenda_item(started.recorder, started.meeting, "  新增：系统故障应急处理  ", "15",
                                   started.participant.department_id)
    db.session.commit()
    assert [i.title for i in started.meeting.agenda_items][-1] == "新增：系统故障应急处理"
    assert (item.position, item.minutes, item.department_id) == (3, 15, started.participant.department_id)
    assert service.current_revision(started.meeting.id) == 2
    with pytest.raises(ValidationFailed) as bad:
        service.add_agenda_item(started.host, started.meeting, "", "abc")
    assert set(bad.value.fields) == {"title", "minutes"}
    with pytest.raises(PermissionDenied):
        service.add_agenda_item(started.participant, started.meeting, "我也想加一个", 10)
    db.session.rollback()
    assert len(started.meeting.agenda_items) == 3


def test_impromptu_item_from_the_room_form_reaches_every_tab_live(started, broker, client, second_client, login_as,
                                                                 open_stream):
    login_as(started.recorder)
    page = client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    assert 'id="agenda-add"' in page and "添加临时议题" in page
    watcher_client = login(second_client, started.participant)
    assert 'id="agenda-add"' not in watcher_client.get(f"/meetings/{started.meeting.id}/room").get_data(as_text=True)
    watcher = open_stream(watcher_client, started.meeting.id, rev=1)
    time.sleep(0.2)
    response = client.post(f"/meetings/{started.meeting.id}/room/agenda",
                           data={"title": "系统故障应急处理", "minutes": "15", "department_id": ""}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已添加“系统故障应急处理”" in body and 'value="系统故障应急处理"' not in body
    event = watcher.next()
    assert event.event == "update" and event.id == "2"
    assert 'hx-swap-oob="beforeend:#room-items"' in event.data and "系统故障应急处理" in event.data
    assert 'id="room-agenda"' in event.data and "hx-post" not in event.data
    new_id = started.meeting.agenda_items[-1].id
    assert f'id="item-{new_id}"' in event.data and f'data-item-id="{new_id}"' in event.data
    refused = client.post(f"/meetings/{started.meeting.id}/room/agenda", data={"title": "缺时长", "minutes": "0"},
                          headers=HX)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "预计时长须为1–480之间的整数" in text and 'value="缺时长"' in text
    assert len(started.meeting.agenda_items) == 3
