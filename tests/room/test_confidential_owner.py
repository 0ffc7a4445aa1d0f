"""An action of a confidential (仅参会人) meeting goes only to someone who may see the meeting."""
import re
from datetime import date

import pytest

from minutes.actions.models import ActionItem, ActionStatus
from minutes.api import service as tokens
from minutes.core.errors import ValidationFailed
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.room import recording, service

HX = {"HX-Request": "true"}
TOPIC = "预算压缩专题会"


@pytest.fixture
def secret(cast):
    """The cast's meeting made confidential and started by the recorder."""
    cast.meeting.confidential = True
    cast.meeting.topic = TOPIC
    db.session.commit()
    service.start_meeting(cast.recorder, cast.meeting)
    db.session.commit()
    return cast


def test_an_action_of_a_confidential_meeting_cannot_go_to_someone_not_invited(secret):
    item = secret.items[0].id
    with pytest.raises(ValidationFailed) as refused:
        recording.add_action(secret.recorder, secret.meeting, item, "整理预算明细", owner_id=secret.outsider.id,
                             due="2026-06-30")
    assert set(refused.value.fields) == {"owner_id"}
    assert "钱旁人未受邀参会" in refused.value.message and "请记录人先邀请钱旁人参会" in refused.value.message
    db.session.rollback()
    action = recording.add_action(secret.recorder, secret.meeting, item, "整理预算明细", owner_id=secret.participant.id,
                                  due="2026-06-30")
    db.session.commit()
    with pytest.raises(ValidationFailed):
        recording.update_action(secret.recorder, action, action.version, "整理预算明细", owner_id=secret.outsider.id,
                                due="2026-06-30")
    db.session.rollback()
    meetings.invite(secret.host, secret.meeting, [secret.outsider.id])  # invited first: then it may go to them
    db.session.commit()
    recording.update_action(secret.recorder, action, action.version, "整理预算明细", owner_id=secret.outsider.id,
                            due="2026-06-30")
    db.session.commit()
    assert action.owner_id == secret.outsider.id


def test_the_room_form_says_so_beside_the_owner_and_keeps_what_was_typed(secret, client, login_as):
    login_as(secret.recorder)
    response = client.post(f"/meetings/{secret.meeting.id}/actions", headers=HX, data={
        "agenda_item_id": secret.items[0].id, "text": "整理预算明细", "owner_department_id": secret.outsider.department_id,
        "owner_id": secret.outsider.id, "due": "2026-06-30"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="err-owner_id">[^<]*请记录人先邀请钱旁人参会', html)
    assert "整理预算明细" in html and 'value="2026-06-30"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(ActionItem)) == 0


def test_the_api_refuses_it_with_422_on_the_owner_field(secret):
    from flask import current_app

    _token, plaintext = tokens.create_token(secret.recorder, "OA")
    db.session.commit()
    response = current_app.test_client().post(
        f"/api/v1/agenda/{secret.items[0].id}/actions", headers={"Authorization": f"Bearer {plaintext}"},
        json={"text": "整理预算明细", "owner": "outsider", "due": "2026-06-30"})
    body = response.get_json()
    assert response.status_code == 422 and "请记录人先邀请钱旁人参会" in body["error"]["fields"]["owner"]


def test_an_old_action_of_a_confidential_meeting_shows_its_owner_the_action_but_not_the_topic(secret, client,
                                                                                            login_as):
    """Actions assigned before the rule: the uninvited owner still sees and reports on it, without the topic."""
    old = ActionItem(meeting_id=secret.meeting.id, agenda_item=secret.items[0], text="整理预算明细",
                     owner_department=secret.outsider.department, owner=secret.outsider, due_date=date(2026, 6, 30),
                     due_text="", status=ActionStatus.NOT_STARTED, position=1, created_by=secret.recorder)
    db.session.add(old)
    db.session.commit()
    login_as(secret.outsider)
    for url in ("/actions", "/actions/mine", f"/actions/{old.id}", "/"):
        html = client.get(url).get_data(as_text=True)
        assert TOPIC not in html, url
    assert "整理预算明细" in client.get("/actions").get_data(as_text=True)
    assert "仅参会人可见的会议" in client.get(f"/actions/{old.id}").get_data(as_text=True)
    page = client.post("/actions/calendar").get_data(as_text=True)
    feed = client.get(re.search(r'id="feed-url">([^<]+)<', page).group(1).replace("http://localhost", ""))
    text = feed.get_data(as_text=True).replace("\r\n ", "")  # unfold the 75-octet lines
    assert feed.status_code == 200 and "整理预算明细" in text and TOPIC not in text and "仅参会人可见的会议" in text
    from minutes.actions import service as tracking

    assert tracking.meeting_topic(secret.participant, old) == TOPIC  # invited people still see it
