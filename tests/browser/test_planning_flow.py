"""会前准备 in a real browser: plan a meeting, build and reorder its agenda, invite, send."""
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx

pytestmark = pytest.mark.browser

TOPIC = "解决客户投诉处理流程卡点"
GOAL = "明确投诉从受理到结案各环节的责任部门与处理时限"
OUTCOME = "形成跨部门投诉处理行动方案，明确责任分工"
ITEM_A = "投诉升级后的处理时效"
ITEM_B = "客服与技术的问题交接规范"


def _today():
    from minutes.core import timefmt

    return timefmt.to_local(timefmt.utcnow()).date()


def _local(day, hour, minute=0):
    from minutes.core import timefmt

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timefmt.LOCAL_TZ)


def _make_meeting(live_server, creator, starts, minutes=90, topic="季度资源协调会", items=(), invite=(), status=None):
    """Create a meeting straight in the live database: items = [(title, minutes)], invite = [(user, role)]."""
    from minutes.extensions import db
    from minutes.meetings import service
    from minutes.meetings.models import MeetingStatus
    from minutes.people.models import User

    with live_server.app.app_context():
        actor = db.session.get(User, creator.id)
        meeting = service.create_meeting(actor, service.MeetingInput(
            topic=topic, goal="对齐各部门下季度的人力与预算需求", expected_outcome="形成资源分配方案",
            scenario="resources", starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
            location="3号楼 301会议室", organizer_department_id=actor.department_id))
        for title, mins in items:
            service.add_agenda_item(actor, meeting, title, mins)
        for user, role in invite:
            service.invite(actor, meeting, [user.id], role)
        if status:
            meeting.status = MeetingStatus(status)
        db.session.commit()
        return meeting.id


def _agenda_titles(page):
    return [t.strip() for t in page.locator("#agenda-list > li .item-title").all_inner_texts()]


def _add_item(page, title, minutes, dept):
    page.fill("#item-title", title)
    page.fill("#item-minutes", str(minutes))
    page.select_option("#item-dept", label=dept)
    count = page.locator("#agenda-list > li").count()
    page.locator("#add-item button[type=submit]").click()
    expect(page.locator("#agenda-list > li")).to_have_count(count + 1)
    # the fresh form comes back empty and focused, ready for the next item
    expect(page.locator("#item-title")).to_have_value("")
    expect(page.locator("#item-title")).to_be_focused()


def _invite(page, dept, names, role_label, snapshot=None):
    page.select_option("#invite-dept", label=dept)
    for name in names:
        page.locator("#picker label", has_text=name).locator("input[type=checkbox]").check()
    page.select_option("#invite-role", label=role_label)
    if snapshot:
        snapshot(page.locator("#people"))
    page.locator("#invite-form button[type=submit]").click()
    for name in names:
        # each invitee is listed exactly once in the fragment that comes back (not once per append)
        expect(page.locator("#people .person .name", has_text=name),
               f"{name} should be listed once after inviting").to_have_count(1)
    wait_for_htmx(page)


def _screens(page, shot, name, sizes=((1440, 900), (1280, 800))):
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})


def test_plan_meeting_reorder_agenda_invite_and_send(live_server, users, new_page, shot):
    from minutes.core.workdays import add_workdays

    host = users("wangli", "王丽", dept="客服部", head=True, title="客服总监")
    tech_head = users("zhaolei", "赵磊", dept="技术部", head=True, title="技术经理")
    tech_dev = users("sunmin", "孙敏", dept="技术部", title="后端工程师")
    legal = users("zhoujie", "周杰", dept="法务部", title="法务专员")
    users("chenchen", "陈晨", dept="产品部", title="产品经理")
    page = new_page(host)

    expect(page.locator("h1")).to_contain_text("王丽，您好")
    _screens(page, shot, "dashboard-empty")

    # 1. the meeting, through the form
    page.locator("a.button.primary", has_text="发起会议").first.click()
    expect(page.locator("h1")).to_have_text("发起会议")
    _screens(page, shot, "meeting-form")
    day = add_workdays(_today(), 3)
    page.fill("#topic", TOPIC)
    page.fill("#goal", GOAL)
    page.fill("#expected_outcome", OUTCOME)
    page.get_by_label("问题解决与冲突处理").check()
    page.fill("#starts_at", f"{day:%Y-%m-%d}T14:00")
    page.fill("#ends_at", f"{day:%Y-%m-%d}T15:30")
    page.fill("#location", "3号楼 301会议室")
    expect(page.locator("#organizer_department_id option:checked")).to_have_text("客服部")
    page.locator("#meeting-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/meetings/\d+$"))
    meeting_url = page.url
    expect(page.locator(".flash.success")).to_contain_text("会议已创建")
    expect(page.locator("h1")).to_contain_text(TOPIC)
    expect(page.locator("#basics")).to_contain_text(f"{day.month}月{day.day}日")
    expect(page.locator("#agenda .empty")).to_be_visible()

    # 2. two agenda items, then reorder: the ↓ button, then drag and drop
    _add_item(page, ITEM_A, 30, "客服部")
    _add_item(page, ITEM_B, 40, "技术部")
    assert _agenda_titles(page) == [ITEM_A, ITEM_B]
    expect(page.locator("#agenda-budget")).to_contain_text("议程合计 1小时10分钟")
    page.get_by_label(f"下移“{ITEM_A}”").click()
    expect(page.locator("#agenda-list > li .item-title").first).to_have_text(ITEM_B)
    assert _agenda_titles(page) == [ITEM_B, ITEM_A]
    expect(page.get_by_label(f"上移“{ITEM_B}”")).to_be_disabled()
    # drag and drop (Sortable.js; app.js posts the new order): drag the second item onto the first
    page.locator("#agenda-list > li", has_text=ITEM_A).drag_to(page.locator("#agenda-list > li", has_text=ITEM_B))
    expect(page.locator("#agenda-list > li .item-title").first).to_have_text(ITEM_A)
    wait_for_htmx(page)
    assert _agenda_titles(page) == [ITEM_A, ITEM_B]

    # 3. invite by department, then make one of them the recorder
    _invite(page, "技术部", ["赵磊", "孙敏"], "参会人", snapshot=lambda card: shot(card, "invite-picker-1440"))
    expect(page.locator("#people .alert.warn")).to_contain_text("记录人")  # no recorder yet: said plainly
    _invite(page, "法务部", ["周杰"], "抄送")
    page.get_by_label("孙敏的角色").select_option(label="记录人")
    expect(page.locator("#people .alert.warn")).to_have_count(0)
    expect(page.locator('#people .person[data-user="sunmin"] .avatar')).to_have_class(re.compile("role-recorder"))
    expect(page.locator("#people")).to_contain_text("4 人")
    # the basics card and the send card follow the invitations without a reload
    expect(page.locator("#fact-recorder")).to_have_text("孙敏（技术部）")
    expect(page.locator("#send-to")).to_contain_text("全部 4 位受邀人员")

    page.reload()
    expect(page.locator("#fact-recorder")).to_have_text("孙敏（技术部）")
    _screens(page, shot, "meeting-page")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "meeting-page-390")
    shot(page, "meeting-page-390-top", full_page=False)
    page.set_viewport_size({"width": 1440, "height": 900})

    # 4. send the agenda
    send = page.locator("#send")
    expect(send.locator("textarea[name=reason]")).to_have_count(0)  # on time: no reason asked
    send.locator("button[type=submit]").click()
    expect(send.locator(".alert.success")).to_contain_text("由 王丽 发送")
    expect(send.locator(".alert.success")).to_contain_text("议程已交给邮件发送（4位参会人员）")
    # what became of each email: queued at first, then (the fragment polls) sent by the real SMTP server
    expect(send.locator("#agenda-delivery .delivery-head")).to_contain_text("已发送 4", timeout=10_000)
    expect(send.locator("#agenda-delivery li.delivery-sent")).to_have_count(4)
    expect(page.locator("#meeting-status")).to_have_text("议程已发送")

    page.reload()
    assert page.url == meeting_url
    assert _agenda_titles(page) == [ITEM_A, ITEM_B]
    expect(page.locator("#send .alert.success")).to_have_text(re.compile(r"已于 \d{4}年\d+月\d+日（周.） ?\d\d:\d\d 由 王丽 发送"))
    expect(page.locator("#meeting-status")).to_have_text("议程已发送")
    expect(page.locator(".flash")).to_have_count(0)  # the send was announced in its card, not again here
    shot(page, "meeting-page-sent-1440")

    invitees = {u.email for u in (host, tech_head, tech_dev, legal)}
    messages = live_server.smtp.wait_for(len(invitees))
    received = {}
    for message in messages:
        for rcpt in message["to"]:
            received.setdefault(rcpt, []).append(str(message["msg"]["Subject"]))
    assert set(received) == invitees, received
    for email, subjects in received.items():
        assert len(subjects) == 1 and TOPIC in subjects[0], (email, subjects)
    assert "chenchen@example.com" not in received

    # the dashboard now lists it, with a finished meeting below for context
    _make_meeting(live_server, host, _local(_today() - timedelta(days=7), 10), topic="客服质检标准对齐会",
                  items=[("质检评分口径", 30)], status="final")
    page.locator(".mainnav a", has_text="工作台").click()
    expect(page.locator("#upcoming .meeting-list > li")).to_have_count(1)
    expect(page.locator("#upcoming")).to_contain_text(TOPIC)
    _screens(page, shot, "dashboard")


def test_late_agenda_needs_a_reason_which_is_shown_on_the_meeting(live_server, users, new_page, shot):
    host = users("wangli", "王丽", dept="客服部", head=True)
    recorder = users("sunmin", "孙敏", dept="技术部")
    tomorrow = _today() + timedelta(days=1)  # always inside the 2-working-day window
    meeting_id = _make_meeting(live_server, host, _local(tomorrow, 10), topic="紧急：投诉升级协调",
                               items=[("升级投诉的临时处置", 30)], invite=[(recorder, "recorder")])
    page = new_page(host)
    page.goto(f"/meetings/{meeting_id}")
    send = page.locator("#send")
    expect(send.locator("label[for=reason]")).to_contain_text("已不足2个工作日")

    send.locator("button[type=submit]").click()
    expect(send.locator("#send-error")).to_contain_text("议程须至少提前2个工作日发出")
    expect(send.locator("#send-error")).to_contain_text("请填写原因")
    expect(send.locator("textarea[name=reason]")).to_be_visible()
    expect(send.locator(".alert.success")).to_have_count(0)
    assert live_server.smtp.messages == []
    shot(page, "send-late-refused-1440")

    # the page stays usable: the agenda can still be edited, then the reason given
    page.fill("#item-title", "对外口径统一")
    page.locator("#add-item button[type=submit]").click()
    expect(page.locator("#agenda-list > li")).to_have_count(2)
    reason = "客户投诉已升级至监管部门，须在本周内协调处理"
    # the fresh item form takes the focus when it settles: typing before that would land in it
    expect(page.locator("#item-title")).to_be_focused()
    send.locator("textarea[name=reason]").fill(reason)
    expect(send.locator("textarea[name=reason]")).to_have_value(reason)
    send.locator("button[type=submit]").click()
    expect(send.locator(".alert.success")).to_contain_text("晚于规定时间发送，原因：" + reason)

    page.reload()
    expect(page.locator("#send .alert.success")).to_contain_text(reason)
    assert len(live_server.smtp.wait_for(2)) == 2


def test_agenda_overrun_is_warned_and_clears_when_fixed(live_server, users, new_page, shot):
    from minutes.core.workdays import add_workdays

    host = users("wangli", "王丽", dept="客服部")
    meeting_id = _make_meeting(live_server, host, _local(add_workdays(_today(), 5), 9, 30), minutes=60,
                               items=[("季度人力需求汇总", 45)])
    page = new_page(host)
    page.goto(f"/meetings/{meeting_id}")
    expect(page.locator("#agenda-budget .alert")).to_have_count(0)
    _add_item(page, "预算调整方案", 30, "客服部")
    budget = page.locator("#agenda-budget")
    expect(budget).to_have_class(re.compile(r"\bover\b"))
    expect(budget.locator(".alert.warn")).to_contain_text("议程超出会议时长 15分钟")
    for width, height in ((1440, 900), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page.locator("#agenda"), f"agenda-overrun-{width}")

    item = page.locator("#agenda-list > li", has_text="预算调整方案")
    item.locator("summary", has_text="修改议题").click()
    item.locator("input[name=minutes]").fill("15")
    item.locator("form button[type=submit]", has_text="保存").click()
    expect(page.locator("#agenda-budget .alert")).to_have_count(0)
    expect(page.locator("#agenda-budget")).to_contain_text("议程合计 1小时")


def test_empty_topic_is_explained_beside_the_field_and_keeps_what_was_typed(live_server, users, new_page, shot):
    from minutes.extensions import db
    from minutes.meetings.models import Meeting

    users("wangli", "王丽", dept="客服部")
    page = new_page("wangli")
    page.goto("/meetings/new")
    page.fill("#goal", GOAL)
    page.fill("#location", "线上")
    page.locator("#meeting-form button[type=submit]").click()

    expect(page.locator("#topic")).to_be_focused()
    expect(page.locator(".field.invalid #err-topic")).to_have_text("请填写会议主题")
    expect(page.locator("#goal")).to_have_value(GOAL)
    expect(page.locator("#location")).to_have_value("线上")
    expect(page.locator("#meeting-form .alert.error")).to_be_visible()
    shot(page, "meeting-form-errors-1440")
    with live_server.app.app_context():
        assert db.session.query(Meeting).count() == 0


def test_on_a_phone_a_swipe_over_the_agenda_scrolls_and_a_long_press_drags(live_server, users, browser):
    """Sortable.js with delayOnTouchOnly: a quick swipe never reorders; a held finger moves the item."""
    from tests.browser.conftest import login

    host = users("wangli", "王丽", dept="客服部", head=True)
    day = _today() + timedelta(days=10)
    items = [("第一项议题", 20), ("第二项议题", 20), ("第三项议题", 20)]
    meeting_id = _make_meeting(live_server, host, _local(day, 10), items=items)
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, live_server.url, host)
        page.goto(f"{live_server.url}/meetings/{meeting_id}")
        rows = page.locator("#agenda-list > li")
        rows.nth(2).scroll_into_view_if_needed()
        cdp = context.new_cdp_session(page)

        def touch(kind, x=None, y=None):
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        def finger(start, end, hold_ms):
            x, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
            y1 = end["y"] + end["height"] - 4
            touch("touchStart", x, y0)
            page.wait_for_timeout(hold_ms)
            for k in range(1, 11):
                touch("touchMove", x, y0 + (y1 - y0) * k / 10)
                page.wait_for_timeout(20)
            touch("touchEnd")

        posted = []
        page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
        # a quick swipe from the first item past the second: nothing moves, nothing is sent
        finger(rows.nth(0).locator(".prio").bounding_box(), rows.nth(1).bounding_box(), hold_ms=0)
        page.wait_for_timeout(500)
        assert _agenda_titles(page) == ["第一项议题", "第二项议题", "第三项议题"]
        assert posted == []
        # a long press, then the same move: the first item goes below the second, and the order is saved
        finger(rows.nth(0).locator(".prio").bounding_box(), rows.nth(1).bounding_box(), hold_ms=400)
        expect(page.locator("#agenda-list > li .item-title").first).to_have_text("第二项议题")
        wait_for_htmx(page)
        assert [u for u in posted if u.endswith("/agenda/order")], posted
        page.reload()
        assert _agenda_titles(page) == ["第二项议题", "第一项议题", "第三项议题"]
        assert not errors, errors
    finally:
        context.close()
