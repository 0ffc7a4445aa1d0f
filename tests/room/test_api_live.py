"""A point posted through the API reaches attendee tabs live, exactly like one typed in the room."""
import time

from minutes.api import service as tokens
from minutes.extensions import db
from tests.room.conftest import login


def test_point_posted_through_the_api_reaches_open_streams(started, broker, second_client, open_stream, app):
    _token, plaintext = tokens.create_token(started.recorder, "OA 集成")
    db.session.commit()
    watcher = open_stream(login(second_client, started.participant), started.meeting.id, rev=1)
    time.sleep(0.2)
    api = app.test_client()
    response = api.post(f"/api/v1/agenda/{started.items[0].id}/points",
                        json={"kind": "consensus", "text": "客服部收到投诉后1小时内补充问题描述"},
                        headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 201, response.get_json()
    event = watcher.next()
    assert event.event == "update" and event.id == "2"
    assert f'hx-swap-oob="beforeend:#points-{started.items[0].id}"' in event.data
    assert "客服部收到投诉后1小时内补充问题描述" in event.data
