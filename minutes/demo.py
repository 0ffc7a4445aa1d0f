"""Realistic demo data: departments, people and meetings in every state that exists."""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from minutes.admin.service import work_calendar
from minutes.core.timefmt import LOCAL_TZ, local_today, utcnow
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.people.models import User
from minutes.people.service import create_user, get_department

DEPARTMENTS = ["客服部", "产品部", "技术部", "法务部", "市场部", "财务部", "人力资源部"]
#: username, name, department, title, head of department?
PEOPLE = [
    ("admin", "系统管理员", "人力资源部", "IT管理员", False),
    ("zhaomin", "赵敏", "客服部", "客服部经理", True),
    ("sunli", "孙丽", "客服部", "客服主管", False),
    ("zhangwei", "张伟", "产品部", "产品部经理", True),
    ("chenjing", "陈静", "产品部", "项目助理", False),
    ("lihua", "李华", "技术部", "技术部经理", True),
    ("wangqiang", "王强", "技术部", "后端负责人", False),
    ("liuyang", "刘洋", "法务部", "法务经理", True),
    ("zhoujie", "周杰", "市场部", "市场部经理", True),
    ("wufang", "吴芳", "财务部", "财务经理", True),
    ("zhengkai", "郑凯", "人力资源部", "HRBP", True),
    ("huangyan", "黄艳", "市场部", "活动策划", False),
]


class DemoRefused(Exception):
    """The database already holds real (non-demo) data."""


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def load_demo(password: str = "minutes2026") -> list[tuple[str, str]]:
    """Create the demo; refuse when the database holds any non-demo account."""
    real = db.session.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(False)))
    if real:
        raise DemoRefused("数据库中已有非演示数据，为避免混淆，演示数据未创建。请使用空数据库。")
    if db.session.scalar(select(func.count()).select_from(User)):
        raise DemoRefused("演示数据已存在。")
    for name in DEPARTMENTS:
        get_department(name, create=True)
    users = {}
    for username, name, dept, title, head in PEOPLE:
        user = create_user(username, name, dept, password, email=f"{username}@demo.example.com",
                           is_admin=(username == "admin"), title=title, is_demo=True, is_department_head=head)
        users[username] = user
    db.session.flush()

    calendar = work_calendar()
    today = local_today()
    soon = calendar.add_workdays(today, 4)
    later = calendar.add_workdays(today, 8)
    tomorrow = calendar.add_workdays(today, 1)
    past = calendar.add_workdays(today, -6)

    def meeting(creator, **fields):
        data = meetings.MeetingInput(**fields)
        return meetings.create_meeting(users[creator], data)

    # The source document's own example, with its four departments, agenda sent on time.
    m1 = meeting("zhaomin", topic="解决客户投诉处理流程卡点",
                 goal="梳理客户投诉从受理到解决的流程卡点，明确客服、产品、技术、法务各环节职责与时限，消除部门间推诿。",
                 expected_outcome="明确责任分工，形成投诉处理时效方案（总时效不超过72小时）与行动计划。",
                 scenario="problem", starts_at=_at(soon, 14), ends_at=_at(soon, 15, 30), location="总部3号楼 301会议室",
                 online_link="", organizer_department_id=users["zhaomin"].department_id)
    for title, mins, dept in [("客户投诉升级后的处理时效", 30, "客服部"), ("问题描述模板与提报流程", 25, "产品部"),
                              ("技术支持响应与人力配置", 20, "技术部"), ("涉诉投诉的法务介入节点", 10, "法务部")]:
        meetings.add_agenda_item(users["zhaomin"], m1, title, mins, get_department(dept).id)
    meetings.add_material_link(users["zhaomin"], m1.agenda_items[0], "http://wiki.intranet/cs/complaints-2026Q2",
                               "2026年二季度投诉数据报表")
    meetings.invite(users["zhaomin"], m1, [users["chenjing"].id], "recorder")
    meetings.invite(users["zhaomin"], m1, [users[u].id for u in ("sunli", "zhangwei", "lihua", "wangqiang", "liuyang")])
    meetings.invite(users["zhaomin"], m1, [users["zhengkai"].id], "cc")
    meetings.send_agenda(users["zhaomin"], m1, now=utcnow())

    # A kickoff still being planned (draft, agenda not sent).
    m2 = meeting("zhangwei", topic="确定Q3产品上线跨部门协作计划",
                 goal="确定Q3新版本上线的范围、里程碑与各部门职责分工。",
                 expected_outcome="形成上线协作计划与各部门时间节点。", scenario="kickoff",
                 starts_at=_at(later, 10), ends_at=_at(later, 11, 30), location="总部5号楼 大会议室",
                 online_link="https://meeting.intranet/j/839201", organizer_department_id=users["zhangwei"].department_id)
    for title, mins, dept in [("Q3版本范围确认", 30, "产品部"), ("研发排期与风险", 30, "技术部"),
                              ("上线推广节奏", 20, "市场部"), ("预算与资源", 20, "财务部")]:
        meetings.add_agenda_item(users["zhangwei"], m2, title, mins, get_department(dept).id)
    meetings.invite(users["zhangwei"], m2, [users["chenjing"].id], "recorder")
    meetings.invite(users["zhangwei"], m2, [users[u].id for u in ("lihua", "zhoujie", "wufang")])

    # A confidential resource meeting sent late, with its reason recorded.
    m3 = meeting("wufang", topic="下半年预算调整与人力调配",
                 goal="在预算压缩10%的前提下，确定各部门下半年人力与预算调整方案。",
                 expected_outcome="各部门预算调整额度与人力调配名单。", scenario="resources",
                 starts_at=_at(tomorrow, 16), ends_at=_at(tomorrow, 17), location="财务部小会议室",
                 online_link="", organizer_department_id=users["wufang"].department_id, confidential=True)
    meetings.add_agenda_item(users["wufang"], m3, "各部门预算执行情况", 20, get_department("财务部").id)
    meetings.add_agenda_item(users["wufang"], m3, "人力调配方案", 40, get_department("人力资源部").id)
    meetings.invite(users["wufang"], m3, [users["zhengkai"].id], "recorder")
    meetings.invite(users["wufang"], m3, [users["zhangwei"].id, users["lihua"].id])
    meetings.send_agenda(users["wufang"], m3, reason="集团预算通知昨日下发，须本周内完成调整", now=utcnow())

    # A quarterly alignment meeting held last week: recorded, minutes signed off, final.
    m4 = meeting("zhoujie", topic="三季度市场活动进度同步",
                 goal="同步三季度市场活动进度，对齐各部门支持需求。", expected_outcome="进度表更新与支持需求清单。",
                 scenario="alignment", starts_at=_at(past, 9, 30), ends_at=_at(past, 10, 30),
                 location="市场部会议室", online_link="", organizer_department_id=users["zhoujie"].department_id)
    meetings.add_agenda_item(users["zhoujie"], m4, "双十一活动筹备进度", 30, get_department("市场部").id)
    meetings.add_agenda_item(users["zhoujie"], m4, "客服话术与产能准备", 20, get_department("客服部").id)
    meetings.invite(users["zhoujie"], m4, [users["huangyan"].id], "recorder")
    meetings.invite(users["zhoujie"], m4, [users["zhaomin"].id, users["zhangwei"].id])
    m4.agenda_sent_at = m4.starts_at - timedelta(days=4)
    m4.agenda_sent_by = users["zhoujie"]
    m4.status = MeetingStatus.AGENDA_SENT
    db.session.flush()
    _record_meeting(m4, users, calendar, final=True)

    # Held three working days ago, recorded, minutes out for sign-off (one change requested).
    held = calendar.add_workdays(today, -3)
    m5 = meeting("lihua", topic="生产环境故障复盘与值班机制",
                 goal="复盘上周支付接口故障，明确技术部与客服部的值班与升级机制。",
                 expected_outcome="值班表与故障升级流程。", scenario="problem", starts_at=_at(held, 15),
                 ends_at=_at(held, 16), location="技术部会议室", online_link="",
                 organizer_department_id=users["lihua"].department_id)
    meetings.add_agenda_item(users["lihua"], m5, "故障经过与影响", 20, get_department("技术部").id)
    meetings.add_agenda_item(users["lihua"], m5, "值班与升级机制", 30, get_department("客服部").id)
    meetings.invite(users["lihua"], m5, [users["wangqiang"].id], "recorder")
    meetings.invite(users["lihua"], m5, [users["zhaomin"].id, users["sunli"].id])
    m5.agenda_sent_at, m5.agenda_sent_by, m5.status = m5.starts_at - timedelta(days=3), users["lihua"], \
        MeetingStatus.AGENDA_SENT
    db.session.flush()
    _record_meeting(m5, users, calendar, final=False)

    # Held yesterday; the minutes are not written yet (due 24 hours after the end).
    yesterday = calendar.add_workdays(today, -1)
    m6 = meeting("zhengkai", topic="校园招聘名额与面试官安排",
                 goal="确定秋招各部门名额与面试官排班。", expected_outcome="名额表与面试官排班表。",
                 scenario="resources", starts_at=_at(yesterday, 10), ends_at=_at(yesterday, 11),
                 location="人力资源部会议室", online_link="", organizer_department_id=users["zhengkai"].department_id)
    meetings.add_agenda_item(users["zhengkai"], m6, "各部门招聘名额", 30, get_department("人力资源部").id)
    meetings.invite(users["zhengkai"], m6, [users["chenjing"].id], "recorder")
    meetings.invite(users["zhengkai"], m6, [users["lihua"].id, users["zhangwei"].id])
    m6.agenda_sent_at, m6.agenda_sent_by, m6.status = m6.starts_at - timedelta(days=3), users["zhengkai"], \
        MeetingStatus.AGENDA_SENT
    db.session.flush()
    _record_meeting(m6, users, calendar, final=None)

    # Going on right now: open the room to watch it live (recorder chenjing, host zhangwei).
    started = utcnow().astimezone(LOCAL_TZ).replace(second=0, microsecond=0) - timedelta(minutes=20)
    m7 = meeting("zhangwei", topic="新版会员体系上线协调会",
                 goal="对齐新版会员体系上线的产品、技术、市场与客服准备情况。", expected_outcome="上线检查清单与分工。",
                 scenario="alignment", starts_at=started, ends_at=started + timedelta(minutes=90),
                 location="总部5号楼 大会议室", online_link="", organizer_department_id=users["zhangwei"].department_id)
    for title, mins, dept in [("上线范围与时间", 20, "产品部"), ("技术准备与压测结果", 30, "技术部"),
                              ("客服培训与话术", 20, "客服部")]:
        meetings.add_agenda_item(users["zhangwei"], m7, title, mins, get_department(dept).id)
    meetings.invite(users["zhangwei"], m7, [users["chenjing"].id], "recorder")
    meetings.invite(users["zhangwei"], m7, [users[u].id for u in ("lihua", "zhoujie", "sunli")])
    m7.agenda_sent_at, m7.agenda_sent_by, m7.status = started - timedelta(days=3), users["zhangwei"], \
        MeetingStatus.AGENDA_SENT
    db.session.flush()
    _live_meeting(m7, users)
    return [(u, f"{n}（{d}{'，管理员' if u == 'admin' else ''}）") for u, n, d, _t, _h in PEOPLE]


def _record_meeting(m: Meeting, users: dict, calendar, final: bool | None) -> None:
    """Run a past meeting through the room (and, when asked, the minutes) at the times it happened."""
    from minutes.core import timefmt
    from minutes.records import service as records
    from minutes.room import service as room

    recorder, host = m.recorder, m.host
    first, second = (m.agenda_items + [None])[:2]
    start_day = timefmt.to_local(m.starts_at).date()
    try:
        timefmt.freeze(m.starts_at + timedelta(minutes=2))
        room.start_meeting(recorder, m)
        for row in room.attendance(m):
            if row.user_id != recorder.id:
                room.mark_attendance(recorder, m, row.user_id, "present")
        dept = {u.department.name: u.department for u in users.values()}
        room.add_point(recorder, m, first.id, "viewpoint", "当前进度整体符合计划，但物料交付比计划晚3天",
                       department_id=m.organizer_department_id)
        room.add_point(recorder, m, first.id, "dispute", "活动页面上线时间：市场部要求提前一周，技术部认为测试时间不足",
                       party_ids=[dept["市场部"].id, dept["技术部"].id])
        room.add_point(recorder, m, first.id, "consensus", "页面按原计划上线，市场部同步调整预热节奏")
        room.add_decision(recorder, m, first.id, "活动页面按原计划上线，不再提前", owner_id=host.id,
                          due=calendar.add_workdays(start_day, 5))
        owner = next(p.user for p in m.participants if p.user_id not in (host.id, recorder.id))
        room.add_action(recorder, m, first.id, "补充提交物料交付延期说明及新的交付计划", owner_id=owner.id,
                        due=calendar.add_workdays(start_day, 2))
        room.add_action(recorder, m, (second or first).id, "整理并发布客服应答话术第二版", owner_id=host.id,
                        due=calendar.add_workdays(start_day, 10))
        timefmt.freeze(m.ends_at - timedelta(minutes=10))
        room.enter_review(host, m)
        for entry in room.review_entries(m):
            room.confirm_entry(host, m, entry.review_key)
        timefmt.freeze(m.ends_at)
        room.finish_meeting(recorder, m)
        if final is None:
            return
        timefmt.freeze(m.ends_at + timedelta(hours=3))
        records.draft_from_record(recorder, m)
        version = records.distribute(recorder, m)
        timefmt.freeze(m.ends_at + timedelta(hours=5))
        recipients = [r.user for r in records.minutes_of(m).recipients]
        for user in recipients:
            if final or user.id != owner.id:
                records.respond(user, version.id, "confirm")
            else:
                records.respond(user, version.id, "change", "第二条待办的完成时限请改为与值班表同步发布的日期")
        db.session.flush()
    finally:
        timefmt.freeze(None)


def _live_meeting(m: Meeting, users: dict) -> None:
    """Start a meeting that is happening now, with the first points recorded."""
    from minutes.room import service as room

    recorder = m.recorder
    room.start_meeting(recorder, m, now=m.starts_at + timedelta(minutes=1))
    first = m.agenda_items[0]
    room.add_point(recorder, m, first.id, "viewpoint", "会员等级权益按方案B上线，积分兑换延后到二期",
                   department_id=users["zhangwei"].department_id, speaker_id=users["zhangwei"].id)
    room.add_point(recorder, m, first.id, "viewpoint", "希望上线日避开双十一前一周，减少活动冲突",
                   department_id=users["zhoujie"].department_id)
