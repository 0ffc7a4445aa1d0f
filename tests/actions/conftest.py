"""Action tests: a meeting team, the fake robots, and a way to see exactly what went out on a tick."""
from dataclasses import dataclass
from datetime import date

import pytest

from minutes.extensions import db
from tests.notify.fixtures import _robot_server, make_action, make_bot, robots, smtp_down  # noqa: F401


@dataclass
class Team:
    host: object  #: 赵敏, 客服部, hosts the meeting
    recorder: object  #: 陈静, 客服部, records it
    owner: object  #: 王伟, 研发部, owns the actions
    head: object  #: 李强, head of 研发部
    other: object  #: 刘洋, 市场部, not invited
    admin: object
    meeting: object


@pytest.fixture
def team(app, make_user, make_meeting):
    from minutes.meetings import service as meetings
    from minutes.meetings.models import Role

    host = make_user("zhaomin", "赵敏", dept="客服部")
    recorder = make_user("chenjing", "陈静", dept="客服部")
    owner = make_user("wangwei", "王伟", dept="研发部")
    head = make_user("liqiang", "李强", dept="研发部")
    head.is_department_head = True
    other = make_user("liuyang", "刘洋", dept="市场部")
    admin = make_user("admin", "系统管理员", dept="信息部", admin=True)
    meeting = make_meeting(host, starts=(2026, 9, 21, 14, 0), topic="解决客户投诉处理流程卡点")
    meetings.invite(host, meeting, [owner.id], Role.PARTICIPANT.value)
    meetings.assign_lead_role(host, meeting, Role.RECORDER, recorder)
    db.session.commit()
    return Team(host, recorder, owner, head, other, admin, meeting)


@pytest.fixture
def outbox_watch(smtp_server, robots):
    """What went out since the last look: [(channel, recipient, subject-or-first-line)], sorted."""

    class Watch:
        def __init__(self):
            self.mail_seen = 0
            self.robot_seen: dict = {}

        def new(self):
            out = []
            mails = smtp_server.messages[self.mail_seen:]
            self.mail_seen = len(smtp_server.messages)
            for m in mails:
                out.append(("email", m["to"][0].split("@")[0], m["msg"]["Subject"]))
            for key, robot in robots.robots.items():
                seen = self.robot_seen.get(key, 0)
                for _, body in robot.accepted[seen:]:
                    title = (body.get("markdown") or {}).get("title") or body.get("content", {}).get("post", {}) \
                        .get("zh_cn", {}).get("title") or (body.get("markdown") or {}).get("content", "").split("\n")[0]
                    out.append((key[0], key[1], title))
                self.robot_seen[key] = len(robot.accepted)
            return sorted(out)

    return Watch()


def d(*args) -> date:
    return date(*args)
