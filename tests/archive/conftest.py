"""Archive fixtures: meetings recorded through the real planning and room services."""
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from minutes.archive.backends import backend_for
from minutes.extensions import db
from minutes.meetings import service as planning
from minutes.room import service as room
from minutes.room import recording, review


@dataclass
class Recorded:
    """A meeting recorded in the room, with what was written in it."""

    meeting: object
    item: object
    points: list = field(default_factory=list)
    decisions: list = field(default_factory=list)
    actions: list = field(default_factory=list)


@pytest.fixture(autouse=True)
def _fresh_search_index(app):
    """Start from an empty full-text index.

    tests/conftest.py's _wipe drops every SQLite trigger while it empties the tables, so the FTS5
    tables (kept in step by triggers on search_document) would keep the previous test's entries.
    """
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            backend_for("sqlite").rebuild(conn)


@pytest.fixture
def record(app, make_user, make_meeting, clock, startable):
    """Hold a meeting and record points, decisions and actions through the room's services.

    record(host, topic="…", starts=(2026, 6, 12, 10, 0), points=["…", ("consensus", "…")],
           decisions=["…"], actions=["…"], invite=[user], confidential=False, finish=False)
    Points are viewpoints of the host's department unless given as (kind, text). Actions are owned
    by the host and due two weeks after the meeting.
    """

    def build(host, topic="解决客户投诉处理流程卡点", starts=(2026, 6, 12, 10, 0), points=(), decisions=(),
              actions=(), invite=(), confidential=False, finish=False, agenda="客户投诉升级后的处理时效",
              **fields) -> Recorded:
        clock(*starts)
        meeting = make_meeting(host, starts=starts, topic=topic, confidential=confidential, **fields)
        if invite:
            planning.invite(host, meeting, [u.id for u in invite])
            db.session.commit()
            db.session.expire(meeting)  # invite() lists a new participant twice in the loaded collection
        item = planning.add_agenda_item(host, meeting, agenda, 30, department_id=host.department_id)
        startable(meeting)
        room.start_meeting(host, meeting)
        result = Recorded(meeting=meeting, item=item)
        for point in points:
            kind, text = point if isinstance(point, tuple) else ("viewpoint", point)
            result.points.append(recording.add_point(host, meeting, item.id, kind, text,
                                                     department_id=host.department_id))
        for text in decisions:
            result.decisions.append(recording.add_decision(host, meeting, item.id, text))
        due = (meeting.starts_at + timedelta(days=14)).date().isoformat()
        for text in actions:
            result.actions.append(recording.add_action(host, meeting, item.id, text, owner_id=host.id, due=due))
        if finish:
            review.enter_review(host, meeting)
            for entry in review.review_entries(meeting):
                review.confirm_entry(host, meeting, entry.review_key)
            review.finish_meeting(host, meeting)
        db.session.commit()
        return result

    return build


@pytest.fixture
def people(make_user):
    """Three colleagues: a host in 客服部, a colleague in 法务部 and an outsider in 财务部."""
    return {
        "host": make_user("zhaomin", "赵敏", dept="客服部"),
        "legal": make_user("qianli", "钱立", dept="法务部"),
        "outsider": make_user("sunyu", "孙雨", dept="财务部"),
    }
