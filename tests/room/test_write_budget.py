"""The statement budget of the room's write path: the recorder's point POST (the room's form endpoint, htmx)
into a meeting half-way through, on each database. Every open tab waits for the statements before the
publish; a new one there (a lazy load, a second flush, a SELECT a RETURNING could give) fails this test.

`bench/write_path.py` times the same POST on both databases (docs/BENCHMARKS.md, "Room write path").
"""
from sqlalchemy import event, func, select

from minutes.archive.models import CODE_POINT, SearchBlock
from minutes.audit.models import AuditEntry
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.room import attendance, live, recording, service
from minutes.room.models import Point

HX = {"HX-Request": "true"}

#: (statements until the point is handed to the broker, statements in the whole request), per database, for a
#: point added to the item under discussion after its last point (the usual case: appended to the search block).
#: SQLite counts the BEGIN of the answer's read transaction, which PostgreSQL's driver sends unseen; PostgreSQL
#: writes a block's grams beside its text in the same statement.
BUDGET = {"sqlite": (12, 17), "postgresql": (12, 16)}
#: The same for a point added to an earlier item: the point block is rebuilt from the meeting's points (4 more).
BUDGET_EARLIER_ITEM = {"sqlite": (16, 21), "postgresql": (16, 20)}


def _half_way(cast):
    """The cast's meeting with 10 agenda items, started, someone who came uninvited, 100 points recorded under
    the first five, the fifth one under discussion."""
    for i in range(8):
        meetings.add_agenda_item(cast.host, cast.meeting, f"议题{i + 3}", 10, cast.participant.department_id)
    db.session.commit()
    service.start_meeting(cast.recorder, cast.meeting)
    attendance.add_attendee(cast.recorder, cast.meeting, cast.outsider.id)
    items = list(cast.meeting.agenda_items)
    for i in range(100):
        item = items[i // 20]
        if service.room_of(cast.meeting).current_item_id != item.id:
            service.set_current_item(cast.recorder, cast.meeting, item.id)
        recording.add_point(cast.recorder, cast.meeting, item.id, "viewpoint", f"第{i + 1}条：投诉升级后2小时内回访客户",
                            cast.participant.department_id)
    db.session.commit()
    return items


def _post_point(app, client, meeting, item, text) -> tuple[int, int, str]:
    """(statements before the publish, statements in all, the answer) of one point added through the form."""
    statements, published_after = [], []
    hub = live.broker(app)
    real_publish = hub.publish

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    url = f"/meetings/{meeting.id}/points"  # the test's own reads before counting starts
    form = {"agenda_item_id": item.id, "kind": "viewpoint", "department_id": item.department_id, "text": text}
    hub.publish = lambda message: (published_after.append(len(statements)), real_publish(message))
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.post(url, headers=HX, data=form)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        hub.publish = real_publish
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(published_after) == 1, "the point was not published once"
    return published_after[0], len(statements), response.get_data(as_text=True)


def test_a_point_posted_in_a_meeting_half_way_through_stays_within_the_statement_budget(cast, app, client,
                                                                                         login_as):
    items = _half_way(cast)
    login_as(cast.recorder)
    dialect = db.engine.dialect.name
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    before_publish, in_all, html = _post_point(app, client, cast.meeting, items[4], "客服部48小时内给出处理方案")
    assert "✓ 已添加观点" in html
    assert f'<option value="{cast.outsider.id}"' in html  # the walk-in is among the speakers, at no extra statement
    assert before_publish <= BUDGET[dialect][0] and in_all <= BUDGET[dialect][1], \
        f"{dialect}: {before_publish} statements before the publish, {in_all} in all; budget {BUDGET[dialect]}"

    earlier = _post_point(app, client, cast.meeting, items[1], "回到第二个议题补充一条")
    assert earlier[0] <= BUDGET_EARLIER_ITEM[dialect][0] and earlier[1] <= BUDGET_EARLIER_ITEM[dialect][1], \
        f"{dialect}: {earlier[:2]} for an earlier item; budget {BUDGET_EARLIER_ITEM[dialect]}"

    # What the budget bought is the same work: the rows, their positions, the audit, the search block.
    positions = dict(db.session.execute(select(Point.text, Point.position)
                                        .where(Point.text.in_(["客服部48小时内给出处理方案", "回到第二个议题补充一条"]))).all())
    assert positions == {"客服部48小时内给出处理方案": 21, "回到第二个议题补充一条": 21}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 2
    block = db.session.scalar(select(SearchBlock.text).where(SearchBlock.meeting_id == cast.meeting.id,
                                                             SearchBlock.code == CODE_POINT))
    lines = block.split("\n")
    assert len(lines) == 102 and lines[40] == "回到第二个议题补充一条" and lines[-1] == "客服部48小时内给出处理方案"
