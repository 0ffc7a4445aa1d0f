"""Realistic demo data: departments, people and meetings in every state that exists."""
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from minutes.calendar.service import work_calendar
from minutes.core import timefmt
from minutes.core.timefmt import LOCAL_TZ, local_today, utcnow
from minutes.extensions import db
from minutes.meetings import materials, sending, service as meetings
from minutes.meetings.models import Meeting, MeetingStatus
from minutes.people.models import User
from minutes.people.service import create_user, get_department
from minutes.records import drafting, service as records, signoff
from minutes.room import attendance, recording, review, service as room

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
    materials.add_material_link(users["zhaomin"], m1.agenda_items[0], "http://wiki.intranet/cs/complaints-2026Q2",
                               "2026年二季度投诉数据报表")
    meetings.invite(users["zhaomin"], m1, [users["chenjing"].id], "recorder")
    meetings.invite(users["zhaomin"], m1, [users[u].id for u in ("sunli", "zhangwei", "lihua", "wangqiang", "liuyang")])
    meetings.invite(users["zhaomin"], m1, [users["zhengkai"].id], "cc")
    sending.send_agenda(users["zhaomin"], m1, now=utcnow())

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
    sending.send_agenda(users["wufang"], m3, reason="集团预算通知昨日下发，须本周内完成调整", now=utcnow())

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
    return [(u, f"{n}（{d}{'，管理员' if u == 'admin' else ''}）{_roles(users[u], [m1, m2, m3, m4, m5, m6, m7])}")
            for u, n, d, _t, _h in PEOPLE]


def _roles(user: User, demo_meetings: list[Meeting]) -> str:
    """Which demo meetings the person hosts and records: whom to log in as to try each one."""
    parts = []
    for label, person in (("主持", lambda m: m.host), ("记录", lambda m: m.recorder)):
        topics = [f"“{m.topic}”（{m.status.label}）" for m in demo_meetings if person(m) is user]
        if topics:
            parts.append(label + "、".join(topics))
    return (" — " + "；".join(parts)) if parts else ""


#: What was said in each recorded demo meeting: points per agenda item, a decision, actions.
SCRIPTS = {
    "三季度市场活动进度同步": {
        "points": [
            (0, "viewpoint", "市场部", "双十一活动物料交付比计划晚3天，页面设计已定稿", []),
            (0, "dispute", None, "活动页面上线时间：市场部要求提前一周，技术部认为测试时间不足", ["市场部", "技术部"]),
            (0, "consensus", None, "页面按原计划上线，市场部同步调整预热节奏", []),
            (1, "viewpoint", "客服部", "活动期间咨询量预计增加40%，需临时增加10名客服", []),
        ],
        "decision": (0, "活动页面按原计划11月1日上线，不再提前", "zhoujie", 5),
        "actions": [(0, "提交物料延期说明及新的交付计划", "zhoujie", 2),
                    (1, "发布双十一客服应答话术第二版并完成培训", "zhaomin", 8)],
    },
    "生产环境故障复盘与值班机制": {
        "points": [
            (0, "viewpoint", "技术部", "支付接口超时持续47分钟，原因是数据库连接池耗尽", []),
            (0, "viewpoint", "客服部", "故障期间客服未收到通知，30分钟后才知晓，客户投诉62起", []),
            (1, "dispute", None, "夜间值班由谁承担：技术部要求客服部一线先行判断，客服部认为需技术人员在线",
             ["技术部", "客服部"]),
            (1, "consensus", None, "技术部设7×24小时值班，客服部发现异常10分钟内电话升级", []),
        ],
        "decision": (1, "故障升级时限：客服发现异常后10分钟内电话通知技术值班人", "lihua", 3),
        "actions": [(1, "发布技术部7×24小时值班表", "wangqiang", 2),
                    (1, "更新客服部故障升级流程并组织演练", "zhaomin", 5)],
    },
    "校园招聘名额与面试官安排": {
        "points": [
            (0, "viewpoint", "技术部", "后端与测试岗位需求合计8人，希望优先保证", []),
            (0, "viewpoint", "产品部", "产品助理岗位2人，面试官可出3人", []),
            (0, "consensus", None, "秋招总名额15人，技术部8人、产品部2人、其余部门5人", []),
        ],
        "decision": (0, "秋招总名额15人，按技术部8人、产品部2人、其余部门5人分配", "zhengkai", 2),
        "actions": [(0, "提交面试官排班表（每场2名面试官）", "lihua", 3),
                    (0, "发布校园招聘岗位说明", "zhangwei", 5)],
    },
}


def _record_meeting(m: Meeting, users: dict, calendar, final: bool | None) -> None:
    """Run a past meeting through the room (and, when asked, the minutes) at the times it happened."""
    script = SCRIPTS[m.topic]
    recorder, host = m.recorder, m.host
    items = m.agenda_items
    start_day = timefmt.to_local(m.starts_at).date()
    depts = {u.department.name: u.department.id for u in users.values()}
    try:
        timefmt.freeze(m.starts_at + timedelta(minutes=2))
        room.start_meeting(recorder, m)
        for row in attendance.attendance(m):
            if row.user_id != recorder.id:
                attendance.mark_attendance(recorder, m, row.user_id, "present")
        for index, kind, dept, text, parties in script["points"]:
            recording.add_point(recorder, m, items[index].id, kind, text, department_id=depts.get(dept),
                                party_ids=[depts[p] for p in parties])
        index, text, owner, days = script["decision"]
        recording.add_decision(recorder, m, items[index].id, text, owner_id=users[owner].id,
                               due=calendar.add_workdays(start_day, days))
        for index, text, owner, days in script["actions"]:
            recording.add_action(recorder, m, items[index].id, text, owner_id=users[owner].id,
                                 due=calendar.add_workdays(start_day, days))
        timefmt.freeze(m.ends_at - timedelta(minutes=10))
        review.enter_review(host, m)
        for entry in review.review_entries(m):
            review.confirm_entry(host, m, entry.review_key)
        timefmt.freeze(m.ends_at)
        review.finish_meeting(recorder, m)
        if final is None:
            return
        timefmt.freeze(m.ends_at + timedelta(hours=3))
        drafting.draft_from_record(recorder, m)
        version = signoff.distribute(recorder, m)
        timefmt.freeze(m.ends_at + timedelta(hours=5))
        for recipient in records.minutes_of(m).recipients:
            user = recipient.user
            if final or user.username != "zhaomin":
                signoff.respond(user, version.id, "confirm")
            else:
                signoff.respond(user, version.id, "change", "第二条待办请补充客服部配合演练的具体日期")
        db.session.flush()
    finally:
        timefmt.freeze(None)


def _live_meeting(m: Meeting, users: dict) -> None:
    """Start a meeting that is happening now, with the first points recorded."""
    recorder = m.recorder
    room.start_meeting(recorder, m, now=m.starts_at + timedelta(minutes=1))
    first = m.agenda_items[0]
    recording.add_point(recorder, m, first.id, "viewpoint", "会员等级权益按方案B上线，积分兑换延后到二期",
                        department_id=users["zhangwei"].department_id, speaker_id=users["zhangwei"].id)
    recording.add_point(recorder, m, first.id, "viewpoint", "希望上线日避开双十一前一周，减少活动冲突",
                        department_id=users["zhoujie"].department_id)
