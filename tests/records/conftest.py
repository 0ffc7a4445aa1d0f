"""A meeting recorded through the room's own service, ready for its formal minutes."""
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.people.models import User
from minutes.room import service as room
from minutes.room import attendance, recording, review


@dataclass
class Recorded:
    """The finished meeting and the people in it (ORM objects of the test's session)."""

    meeting: object
    host: User  # 赵敏, 客服部 (its head)
    recorder: User  # 李四, 产品部
    late: User  # 王五, 技术部, came at 14:12
    absent: User  # 钱六, 法务部, away on business
    member: User  # 孙七, 产品部
    head: User  # 周八, head of 技术部, not invited
    cc: User  # 吴九, 总经办, in cc
    outsider: User  # 郑十, 财务部, nothing to do with it
    items: list
    decisions: list
    actions: list

    @property
    def recipients(self) -> list[User]:
        return [self.host, self.late, self.absent, self.member, self.head, self.cc]


@pytest.fixture
def switch_user(client, login_as):
    """Log the test client out and in again as another user."""

    def switch(user):
        client.post("/logout")
        return login_as(user)

    return switch


@pytest.fixture
def recorded(app, clock, make_user, make_meeting):
    """Build a meeting on Thu 2026-06-18 14:00–15:30 (before the Dragon Boat break), recorded and finished."""

    def build(confidential=False, day=(2026, 6, 18)) -> Recorded:
        y, m, d = day
        soon = (date(y, m, d) + timedelta(days=12)).isoformat()  # 2026-06-30 for the default day
        later = (date(y, m, d) + timedelta(days=22)).isoformat()  # 2026-07-10
        clock(y, m, d, 9, 0)
        host = make_user("zhaomin", "赵敏", dept="客服部", title="客服部经理")
        recorder = make_user("lisi", "李四", dept="产品部")
        late = make_user("wangwu", "王五", dept="技术部")
        absent = make_user("qianliu", "钱六", dept="法务部")
        member = make_user("sunqi", "孙七", dept="产品部")
        head = make_user("zhouba", "周八", dept="技术部", title="技术总监")
        cc = make_user("wujiu", "吴九", dept="总经办", title="副总经理")
        outsider = make_user("zhengshi", "郑十", dept="财务部")
        host.is_department_head = True
        head.is_department_head = True
        db.session.commit()
        meeting = make_meeting(host, starts=(y, m, d, 14, 0), minutes=90, confidential=confidential,
                               topic="解决客户投诉处理流程卡点", goal="解决客户投诉处理流程中的部门推诿问题",
                               expected_outcome="明确责任分工，形成行动方案")
        meetings.invite(host, meeting, [recorder.id], "recorder")
        meetings.invite(host, meeting, [late.id, absent.id, member.id], "participant")
        meetings.invite(host, meeting, [cc.id], "cc")
        titles = [("投诉升级后的处理时效", 30, host.department_id), ("投诉提报模板优化", 20, member.department_id),
                  ("法务介入条件", 15, absent.department_id)]
        items = [meetings.add_agenda_item(host, meeting, t, mins, dept) for t, mins, dept in titles]
        db.session.commit()

        clock(y, m, d, 14, 0)
        room.start_meeting(recorder, meeting)
        attendance.mark_attendance(recorder, meeting, host.id, "present")
        attendance.mark_attendance(recorder, meeting, member.id, "present")
        attendance.mark_attendance(recorder, meeting, absent.id, "absent", reason="出差")
        clock(y, m, d, 14, 12)
        attendance.mark_attendance(recorder, meeting, late.id, "late")
        recording.add_point(recorder, meeting, items[0].id, "viewpoint", "需缩短技术部响应时间至24小时内",
                            department_id=host.department_id, speaker_id=host.id)
        recording.add_point(recorder, meeting, items[0].id, "viewpoint", "需增加人力配置，需客服部提前提交详细问题描述",
                            department_id=late.department_id, speaker_id=late.id)
        recording.add_point(recorder, meeting, items[0].id, "dispute",
                            "技术部认为问题描述不完整导致重复沟通，客服部认为客户描述已足够清晰",
                            party_ids=[late.department_id, host.department_id])
        recording.add_point(recorder, meeting, items[0].id, "consensus",
                            "客服部需在收到投诉后1小时内补充问题描述，技术部在收到完整信息后24小时内反馈解决方案")
        d1 = recording.add_decision(recorder, meeting, items[0].id, "确定客户投诉处理总时效不超过72小时",
                                    owner_department_id=host.department_id, owner_id=host.id,
                                    cooperating_department_ids=[late.department_id], due=soon)
        a1 = recording.add_action(recorder, meeting, items[0].id, "技术部增配1名投诉值班工程师", owner_id=late.id,
                                  due=later)
        clock(y, m, d, 14, 40)
        room.set_current_item(recorder, meeting, items[1].id)
        recording.add_point(recorder, meeting, items[1].id, "viewpoint", "模板需包含客户原话、截图和复现步骤",
                            department_id=member.department_id, speaker_id=member.id)
        d2 = recording.add_decision(recorder, meeting, items[1].id, "投诉提报模板由产品部负责维护",
                                    owner_department_id=member.department_id)
        a2 = recording.add_action(recorder, meeting, items[1].id, "优化投诉提报模板并上线", owner_id=member.id,
                                  cooperating_department_ids=[host.department_id, late.department_id], due=soon)
        clock(y, m, d, 15, 20)
        review.enter_review(recorder, meeting)
        for entry in review.review_entries(meeting):
            review.confirm_entry(recorder, meeting, entry.review_key)
        clock(y, m, d, 15, 30)
        review.finish_meeting(recorder, meeting)
        db.session.commit()
        return Recorded(meeting, host, recorder, late, absent, member, head, cc, outsider, items, [d1, d2], [a1, a2])

    return build
