"""跟踪待办 in a real browser: the owner reports, the host sees the escalation, plans the follow-up
meeting from the overdue items, and the next meeting of the series opens with the review."""
import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx

pytestmark = pytest.mark.browser

TOPIC = "客服与研发季度协调会"
LATE = "修订投诉分级标准并发各部门确认"
SOON = "上线工单自动分派功能"
LATER = "评估新客服系统的选型方案"


def _local(*args):
    from minutes.core import timefmt

    return datetime(*args, tzinfo=timefmt.LOCAL_TZ)


@pytest.fixture
def frozen(live_server):
    """The live server's clock at Thursday 2026-06-25 10:00 (after 端午): the same world for every run."""
    from minutes.core import timefmt

    timefmt.freeze(_local(2026, 6, 25, 10, 0))
    yield
    timefmt.freeze(None)


def _seed(live_server, host, recorder, owner, colleague):
    """A finished quarterly meeting with three confirmed actions for 王伟 and one for 孙丽."""
    from minutes.actions.models import ActionItem
    from minutes.extensions import db
    from minutes.meetings import service
    from minutes.meetings.models import MeetingStatus, Role
    from minutes.people.models import User

    with live_server.app.app_context():
        actor = db.session.get(User, host.id)
        start = _local(2026, 6, 8, 14, 0)
        meeting = service.create_meeting(actor, service.MeetingInput(
            topic=TOPIC, goal="对齐投诉处理流程中客服与研发的分工和时限", expected_outcome="形成行动方案",
            scenario="alignment", starts_at=start, ends_at=start + timedelta(minutes=90),
            location="3号楼 301会议室", organizer_department_id=actor.department_id))
        item = service.add_agenda_item(actor, meeting, "投诉处理流程卡点", 60)
        service.invite(actor, meeting, [owner.id, colleague.id], Role.PARTICIPANT.value)
        service.assign_lead_role(actor, meeting, Role.RECORDER, db.session.get(User, recorder.id))
        meeting.status = MeetingStatus.MINUTES_DUE
        ids = {}
        for text, who, due in ((LATE, owner, date(2026, 6, 15)), (SOON, owner, date(2026, 6, 29)),
                               (LATER, owner, date(2026, 8, 14)), ("统计二季度投诉数据", colleague, date(2026, 6, 24))):
            person = db.session.get(User, who.id)
            action = ActionItem(meeting_id=meeting.id, agenda_item=item, text=text, owner=person,
                                owner_department=person.department, due_date=due, created_by=actor,
                                created_at=start, confirmed_at=start + timedelta(minutes=80), confirmed_by=actor)
            db.session.add(action)
            db.session.flush()
            ids[text] = action.id
        db.session.commit()
        return meeting.id, ids


def _tick(live_server):
    from minutes.jobs import tick
    from minutes.extensions import db

    with live_server.app.app_context():
        result = tick()
        db.session.remove()
        return result


def _screens(page, shot, name, sizes=((1440, 900), (1280, 800))):
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})


def test_owner_reports_host_coordinates_follow_up_and_series_review(live_server, users, new_page, shot, frozen):
    host = users("zhaomin", "赵敏", dept="客服部", head=True, title="客服经理")
    recorder = users("chenjing", "陈静", dept="客服部", title="项目助理")
    owner = users("wangwei", "王伟", dept="研发部", title="后端工程师")
    users("liqiang", "李强", dept="研发部", head=True, title="研发总监")
    colleague = users("sunli", "孙丽", dept="市场部")
    meeting_id, ids = _seed(live_server, host, recorder, owner, colleague)
    result = _tick(live_server)  # 06-15 + 3 working-day requests (06-16..18) → escalated on 06-22; caught up today
    assert result["reminders"].by_stage.get("escalate") == 1

    # 1. the owner: my actions, a report refused for a missing date, then saved with its note
    page = new_page(owner)
    expect(page.locator("#panel-due")).to_contain_text(LATE)
    page.locator(".mainnav a", has_text="待办").click()
    expect(page.locator("h1")).to_have_text("我的待办")
    late_card = page.locator(f"#action-{ids[LATE]}")
    expect(late_card).to_have_class(re.compile("is-overdue"))
    expect(late_card.locator(".flag-coord")).to_have_text("需协调")
    _screens(page, shot, "actions-mine")
    card = page.locator(f"#action-{ids[SOON]}")
    card.locator("summary", has_text="更新状态").click()
    card.locator(".pills label", has_text="延期").click()
    expect(card.locator("input[name=new_due]")).to_be_visible()
    expect(card.locator(".note-label .for-delayed")).to_be_visible()
    card.locator("textarea[name=note]").fill("等待法务确认工单分派规则")
    card.locator("button[type=submit]").click()
    card = page.locator(f"#action-{ids[SOON]}")
    expect(card.locator(".field-error")).to_have_text("延期请填写新的截止日期")
    expect(card.locator("textarea[name=note]")).to_have_value("等待法务确认工单分派规则")
    shot(card, "actions-card-error-1440")
    card.locator(".pills label", has_text="进行中").click()
    expect(card.locator("input[name=new_due]")).to_be_hidden()
    card.locator("textarea[name=note]").fill("规则引擎已完成，正在联调工单分派接口")
    card.locator("button[type=submit]").click()
    card = page.locator(f"#action-{ids[SOON]}")
    expect(card.locator(".badge.ok")).to_have_text("已保存")
    expect(card.locator(".st")).to_have_text("进行中")
    expect(card.locator(".last-note")).to_contain_text("规则引擎已完成，正在联调工单分派接口")
    wait_for_htmx(page)
    page.reload()
    expect(page.locator(f"#action-{ids[SOON]} .last-note")).to_contain_text("未开始 → 进行中")
    page.locator(f"#action-{ids[SOON]} .action-text a").click()
    expect(page.locator("#history")).to_contain_text("规则引擎已完成，正在联调工单分派接口")
    _screens(page, shot, "actions-detail")

    # 2. the host: 需协调 on the dashboard, the tracker, then the follow-up meeting from the overdue items
    host_page = new_page(host)
    panel = host_page.locator("#panel-coordination")
    expect(panel).to_contain_text(LATE)
    expect(panel.locator(".flag-coord")).to_have_count(1)
    _screens(host_page, shot, "actions-dashboard-host")
    host_page.goto(f"{live_server.url}/actions")
    expect(host_page.locator(f"#row-{ids[LATE]}")).to_have_class(re.compile("overdue"))
    expect(host_page.locator(".dept-counts")).to_contain_text("研发部")
    _screens(host_page, shot, "actions-tracker")
    host_page.select_option("#f-status", "overdue")
    expect(host_page.locator("table.tracker tbody tr")).to_have_count(2)
    expect(host_page).to_have_url(re.compile(r"status=overdue"))
    panel_link = f"{live_server.url}/"
    host_page.goto(panel_link)
    host_page.locator("#panel-coordination a", has_text="发起二次沟通会议").click()
    expect(host_page.locator("h1")).to_have_text("逾期待办与二次沟通会议")
    expect(host_page.locator(f"input[name=action_ids][value='{ids[LATE]}']")).to_be_checked()
    _screens(host_page, shot, "actions-follow-up")
    host_page.locator(f"input[name=action_ids][value='{ids['统计二季度投诉数据']}']").uncheck()
    host_page.fill("#time", "14:30")
    host_page.locator("button[type=submit]", has_text="发起二次沟通会议").click()
    host_page.wait_for_url(re.compile(r"/meetings/\d+$"))
    expect(host_page.locator("h1")).to_contain_text(f"二次沟通会议：{TOPIC}")
    expect(host_page.locator("#agenda")).to_contain_text(f"逾期待办：{LATE}")
    expect(host_page.locator("#agenda")).to_contain_text("负责人：王伟（研发部）")
    expect(host_page.locator("#people")).to_contain_text("王伟")
    expect(host_page.locator("#people")).not_to_contain_text("孙丽")
    _screens(host_page, shot, "actions-follow-up-meeting")

    # 3. the series: the quarterly meeting becomes periodic; the next one opens with the review
    host_page.goto(f"{live_server.url}/meetings/{meeting_id}/series")
    host_page.locator(".pills label", has_text="每季度").click()
    host_page.locator("button[type=submit]", has_text="设为周期会议").click()
    expect(host_page.locator("h1")).to_have_text(TOPIC)
    expect(host_page.locator("#date")).to_have_value("2026-09-08")
    _screens(host_page, shot, "actions-series")
    host_page.locator("button[type=submit]", has_text="创建下一次会议").click()
    host_page.wait_for_url(re.compile(r"/meetings/\d+$"))
    next_url = host_page.url
    first_item = host_page.locator("#agenda-list > li").first
    expect(first_item).to_contain_text("上次会议待办回顾")
    expect(first_item).to_contain_text(f"【进行中】{SOON}")
    expect(first_item).to_contain_text(f"【未开始】{LATE}")
    expect(host_page.locator("#people")).to_contain_text("陈静")
    _screens(host_page, shot, "actions-series-next-meeting")

    # 4. during the next meeting the recorder updates a reviewed action right there
    recorder_page = new_page(recorder)
    recorder_page.goto(next_url + "/action-review")
    expect(recorder_page.locator("h1")).to_have_text("上次会议待办回顾")
    expect(recorder_page.locator(".action-card")).to_have_count(4)
    _screens(recorder_page, shot, "actions-review")
    card = recorder_page.locator(f"#action-{ids[LATE]}")
    card.locator("summary", has_text="更新状态").click()
    card.locator(".pills label", has_text="已完成").click()
    card.locator("textarea[name=note]").fill("会上确认：分级标准已发各部门并确认")
    card.locator("button[type=submit]").click()
    card = recorder_page.locator(f"#action-{ids[LATE]}")
    expect(card.locator(".st")).to_have_text("已完成")
    expect(card).to_have_class(re.compile("is-done"))
    shot(card, "actions-review-card-done-1440")
    host_page.goto(f"{live_server.url}/")
    expect(host_page.locator("#panel-coordination")).to_have_count(0)  # done: nothing left to coordinate


def test_admin_sets_reminder_rules_and_adds_a_department_robot(live_server, users, new_page, shot, frozen):
    admin = users("admin", "系统管理员", dept="信息部", admin=True)
    users("wangwei", "王伟", dept="研发部")
    page = new_page(admin)
    page.goto(f"{live_server.url}/actions/settings")
    expect(page.locator("h1")).to_have_text("提醒规则")
    expect(page.locator(".schedule")).to_contain_text("升级协调")
    page.fill("input[name=overdue_requests]", "12")
    page.locator("button[type=submit]", has_text="保存规则").click()
    expect(page.locator("#settings .field-error")).to_contain_text("催报次数须为0–10之间的整数")
    expect(page.locator("input[name=overdue_requests]")).to_have_value("12")
    _screens(page, shot, "actions-settings-error")
    page.fill("input[name=overdue_requests]", "2")
    page.locator("button[type=submit]", has_text="保存规则").click()
    expect(page.locator("#settings .alert.success")).to_contain_text("提醒规则已保存")
    expect(page.locator(".schedule li")).to_have_count(5)  # before, due, two requests, escalation

    page.locator(".act-tabs a", has_text="群机器人").click()
    expect(page.locator("h1")).to_have_text("群机器人")
    page.select_option("#bot-dept", label="研发部")
    page.select_option("#bot-vendor", "wecom")
    page.fill("#bot-name", "研发部工作群")
    page.fill("#bot-url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
    page.locator("button[type=submit]", has_text="添加").click()
    expect(page.locator("#bots .field-error")).to_contain_text("企业微信群机器人的地址应包含 key=")
    expect(page.locator("#bot-name")).to_have_value("研发部工作群")
    _screens(page, shot, "notify-bots-error")
    page.fill("#bot-url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx")
    page.locator("button[type=submit]", has_text="添加").click()
    expect(page.locator("#bots .alert.success")).to_contain_text("已添加 研发部 · 企业微信 · 研发部工作群")
    expect(page.locator(".bot-card")).to_have_count(1)
    _screens(page, shot, "notify-bots")
