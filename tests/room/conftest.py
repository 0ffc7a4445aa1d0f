"""Room fixtures: a planned meeting with a host, a recorder, participants and an agenda."""
from dataclasses import dataclass

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.people.models import User


@dataclass
class Cast:
    """The people of one meeting and the meeting itself."""

    meeting: object
    host: User
    recorder: User
    participant: User
    cc: User
    outsider: User
    items: list

    def dept(self, name):
        from minutes.people.service import get_department

        return get_department(name)


@pytest.fixture
def cast(app, make_user, make_meeting, clock):
    """A meeting on 2026-06-15 14:00 (Mon) with host, recorder, a participant, a cc and two agenda items."""
    clock(2026, 6, 15, 13, 55)
    host = make_user("host", "王主持", dept="客服部")
    recorder = make_user("recorder", "李记录", dept="客服部")
    participant = make_user("tech", "张技术", dept="技术部")
    cc = make_user("legal", "赵法务", dept="法务部")
    outsider = make_user("outsider", "钱旁人", dept="产品部")
    meeting = make_meeting(host)
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [participant.id], "participant")
    meetings.invite(host, meeting, [cc.id], "cc")
    first = meetings.add_agenda_item(host, meeting, "客户投诉升级后的处理时效", 30, participant.department_id)
    second = meetings.add_agenda_item(host, meeting, "投诉提报模板优化", 20, host.department_id)
    db.session.commit()
    return Cast(meeting, host, recorder, participant, cc, outsider, [first, second])


@pytest.fixture
def started(cast):
    """The same meeting, started by the recorder."""
    from minutes.room import service

    service.start_meeting(cast.recorder, cast.meeting)
    db.session.commit()
    return cast
