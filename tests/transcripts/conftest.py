"""Transcript fixtures: a started meeting with people of four departments and two agenda items."""
from dataclasses import dataclass
from pathlib import Path

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings

SAMPLES = Path(__file__).parent / "samples"


@dataclass
class Cast:
    meeting: object
    host: object
    recorder: object
    tech: object
    product: object
    legal: object
    outsider: object
    items: list


@pytest.fixture
def cast(app, make_user, make_meeting, clock):
    """A meeting on 2026-06-15 14:00 (Mon): host 王主持 and recorder 李记录 (客服部), 张伟 (技术部), 刘洋 (产品部),
    赵敏 (法务部, cc), and 钱旁人 who is not invited."""
    clock(2026, 6, 15, 13, 55)
    host = make_user("host", "王主持", dept="客服部")
    recorder = make_user("recorder", "李记录", dept="客服部")
    tech = make_user("zhangwei", "张伟", dept="技术部")
    product = make_user("liuyang", "刘洋", dept="产品部")
    legal = make_user("zhaomin", "赵敏", dept="法务部")
    outsider = make_user("outsider", "钱旁人", dept="财务部")
    meeting = make_meeting(host)
    meetings.invite(host, meeting, [recorder.id], "recorder")
    meetings.invite(host, meeting, [tech.id, product.id], "participant")
    meetings.invite(host, meeting, [legal.id], "cc")
    first = meetings.add_agenda_item(host, meeting, "客户投诉升级后的处理时效", 30, tech.department_id)
    second = meetings.add_agenda_item(host, meeting, "投诉提报模板优化", 20, host.department_id)
    db.session.commit()
    return Cast(meeting, host, recorder, tech, product, legal, outsider, [first, second])


@pytest.fixture
def started(cast):
    from minutes.room import service

    service.start_meeting(cast.recorder, cast.meeting)
    db.session.commit()
    return cast
