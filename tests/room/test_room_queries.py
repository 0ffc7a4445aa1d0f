"""What adding a point costs the database: the same few statements however big the meeting, and the
event leaves before the answer is rendered (the latency every open tab waits for)."""
from sqlalchemy import event

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.room import live, recording, service

HX = {"HX-Request": "true"}
#: Statements until the new point is published (the write, the audit row, the search index, the revision,
#: rendering the event) and in the whole request, for a point added to the last item discussed (the usual
#: case: it is appended to the search index). They do not depend on the meeting's size.
BEFORE_PUBLISH = 12
IN_ALL = 17


def _cost(app, client, meeting, item, monkeypatch) -> tuple[int, int, str]:
    """(statements before the publish, statements in all, the response) of one point added over HTTP."""
    statements, published_after = [], []
    hub = live.broker(app)
    real_publish = hub.publish
    monkeypatch.setattr(hub, "publish", lambda m: (published_after.append(len(statements)), real_publish(m)))

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    url = f"/meetings/{meeting.id}/points"
    form = {"agenda_item_id": item.id, "kind": "viewpoint", "department_id": item.department_id,
            "text": "客服部需在收到投诉后1小时内补充问题描述"}
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.post(url, headers=HX, data=form)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert published_after, "the point was never published"
    return published_after[0], len(statements), response.get_data(as_text=True)


def test_a_point_costs_the_same_statements_in_a_small_and_a_big_meeting(started, app, client, login_as, make_user,
                                                                     make_meeting, monkeypatch):
    login_as(started.recorder)
    recording.add_point(started.recorder, started.meeting, started.items[0].id, "consensus", "已有一条")
    db.session.commit()
    small = _cost(app, client, started.meeting, started.items[1], monkeypatch)

    # A big meeting: 16 invited people from 4 departments, 3 agenda items, 60 points already recorded.
    big = make_meeting(started.host)
    meetings.invite(started.host, big, [started.recorder.id], "recorder")
    people = [make_user(f"p{i}", f"参会{i}", dept=("客服部", "技术部", "法务部", "财务部")[i % 4]) for i in range(15)]
    meetings.invite(started.host, big, [p.id for p in people], "participant")
    items = [meetings.add_agenda_item(started.host, big, f"议题{i}", 20, people[i].department_id) for i in range(3)]
    service.start_meeting(started.recorder, big)
    for i in range(60):
        recording.add_point(started.recorder, big, items[i % 3].id, "viewpoint", f"第{i}条观点",
                            people[i % 15].department_id)
    db.session.commit()
    large = _cost(app, client, big, items[2], monkeypatch)

    assert "✓ 已添加观点" in small[2] and "✓ 已添加观点" in large[2]
    assert large[:2] == small[:2], f"statements (before publish, in all): small meeting {small[:2]}, big {large[:2]}"
    assert small[0] <= BEFORE_PUBLISH and small[1] <= IN_ALL, small[:2]
