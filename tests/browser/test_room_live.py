"""会中记录 in a real browser: the recorder types, every other tab and the shared screen follow live.

Two (and three) browser contexts: the recorder's console, an attendee's read-only view and the
projector's screen. The attendee's connection is cut while the recorder keeps typing; when it
comes back, nothing is missing.
"""
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx, click_then_reload

pytestmark = pytest.mark.browser

TOPIC = "解决客户投诉处理流程卡点"
ITEM_A = "客户投诉升级后的处理时效"
ITEM_B = "投诉提报模板优化"


def _setup_meeting(live_server, host, recorder, attendee, others=()):
    """A meeting starting now with two agenda items; host, recorder and attendee invited."""
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings import service
    from minutes.people.models import User

    with live_server.app.app_context():
        actor = db.session.get(User, host.id)
        start = timefmt.utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
        meeting = service.create_meeting(actor, service.MeetingInput(
            topic=TOPIC, goal="明确投诉处理各环节的部门职责与时限", expected_outcome="形成行动方案",
            scenario="problem", starts_at=start, ends_at=start + timedelta(minutes=90),
            location="3号楼 301会议室", organizer_department_id=actor.department_id))
        service.add_agenda_item(actor, meeting, ITEM_A, 30, attendee.department_id)
        service.add_agenda_item(actor, meeting, ITEM_B, 20, actor.department_id)
        service.invite(actor, meeting, [recorder.id], "recorder")
        service.invite(actor, meeting, [attendee.id], "participant")
        for other in others:
            service.invite(actor, meeting, [other.id], "participant")
        db.session.commit()
        return meeting.id, [i.id for i in meeting.agenda_items]


def _select_by_label(page, selector, label):
    page.select_option(selector, label=label)


@pytest.fixture
def people(users):
    host = users("wangzc", "王主持", dept="客服部", title="客服总监")
    recorder = users("lijl", "李记录", dept="客服部")
    attendee = users("zhangjs", "张技术", dept="技术部", title="技术经理")
    product = users("zhoucp", "周产品", dept="产品部", title="产品经理")
    legal = users("zhaofw", "赵法务", dept="法务部")
    return host, recorder, attendee, product, legal


def test_attendee_follows_recorder_live_and_catches_up_after_a_cut(live_server, new_page, people, shot):
    host, recorder, attendee, product, legal = people
    meeting_id, (item_a, item_b) = _setup_meeting(live_server, host, recorder, attendee, others=(product, legal))
    room_url = f"/meetings/{meeting_id}/room"

    watcher = new_page(attendee, viewport=(1366, 768))
    watcher.goto(room_url)
    expect(watcher.locator(".room-waiting")).to_contain_text("会议尚未开始")
    expect(watcher.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))

    console = new_page(recorder, viewport=(1920, 1080))
    console.goto(room_url)
    click_then_reload(console, console.get_by_role("button", name="开始会议"), re.compile(rf"/meetings/{meeting_id}/room$"))
    expect(console.locator("#room-head")).to_contain_text(ITEM_A)
    expect(console.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))

    # The attendee's tab turns into the live room by itself.
    expect(watcher.locator("#room-head")).to_contain_text(ITEM_A)
    expect(watcher.locator("#entry")).to_have_count(0)

    # --- a viewpoint, typed with the keyboard alone
    text = console.locator("#entry-point-text")
    expect(text).to_be_focused()
    console.select_option("#entry-point-dept", label="客服部")
    text.focus()
    text.type("需缩短技术部响应时间至24小时内")
    text.press("Enter")
    wait_for_htmx(console)
    expect(console.locator(f"#item-{item_a} .point")).to_have_count(1)
    expect(text).to_have_value("")
    expect(text).to_be_focused()
    expect(console.locator("#entry-point-dept")).to_have_value(str(recorder.department_id))
    point = watcher.locator(f"#item-{item_a} .point")
    expect(point).to_have_count(1)
    expect(point).to_contain_text("需缩短技术部响应时间至24小时内")
    expect(point).to_contain_text("客服部")
    expect(watcher.locator(f"#item-{item_b} .point")).to_have_count(0)

    # A dispute between two departments, chosen with Alt+2.
    text.press("Alt+2")
    expect(console.locator("#point-form")).to_have_attribute("data-kind", "dispute")
    console.locator("#entry-point-party_ids label", has_text="技术部").click()
    console.locator("#entry-point-party_ids label", has_text="客服部").click()
    text.fill("技术部认为问题描述不完整导致重复沟通，客服部认为客户描述已足够清晰")
    text.press("Enter")
    expect(watcher.locator(f"#item-{item_a} .point.kind-dispute")).to_contain_text(re.compile("客服部 ↔ 技术部|技术部 ↔ 客服部"))
    expect(console.locator('#point-form input[name="kind"][value="dispute"]')).to_be_checked()

    # --- a decision: vague wording is flagged as typed and refused on save
    console.keyboard.press("Alt+4")
    decision = console.locator("#entry-decision-text")
    expect(decision).to_be_focused()
    decision.type("尽快协调技术部增加夜间值班人力")
    check = console.locator("#entry-decision-check")
    expect(check.locator(".check-text mark")).to_have_text("尽快")
    expect(check).to_contain_text("3个工作日内")
    shot(console.locator("#entry"), "room-entry-vague-check")
    decision.press("Enter")
    expect(console.locator("#decision-form .form-status")).to_contain_text("未保存")
    wait_for_htmx(console)
    expect(console.locator("#decision-form")).to_contain_text("模糊表述")
    expect(console.locator("#entry-decision-text")).to_have_value("尽快协调技术部增加夜间值班人力")
    expect(watcher.locator(f"#item-{item_a} .entry.decision")).to_have_count(0)
    decision = console.locator("#entry-decision-text")
    decision.fill("")
    decision.type("3个工作日内完成技术部夜间值班人力协调")
    expect(check).to_contain_text("完成时限 →")
    expect(check.locator(".check-text mark")).to_have_count(0)
    console.select_option("#entry-decision-odept", label="技术部")
    expect(console.locator("#entry-decision-owner option", has_text="张技术")).to_have_count(1)
    console.select_option("#entry-decision-owner", label="张技术（技术经理）")
    decision.press("Enter")
    expect(watcher.locator(f"#item-{item_a} .entry.decision")).to_contain_text("夜间值班人力协调")
    expect(watcher.locator(f"#item-{item_a} .entry.decision")).to_contain_text("技术部 · 张技术")

    # --- an action: refused without an owner, saved with owner and a deadline phrase
    console.keyboard.press("Alt+5")
    action = console.locator("#entry-action-text")
    action.type("优化投诉提报模板并上线")
    console.fill("#entry-action-due", "5个工作日内")
    expect(console.locator("#entry-action-check")).to_contain_text("完成时限 →")
    action.press("Enter")
    expect(console.locator("#action-form .form-status")).to_contain_text("未保存")
    expect(console.locator("#action-form .field-error")).to_contain_text("待办须指定负责人")
    wait_for_htmx(console)
    expect(console.locator("#entry-action-text")).to_have_value("优化投诉提报模板并上线")
    console.select_option("#entry-action-odept", label="产品部")
    expect(console.locator("#entry-action-owner option", has_text="周产品")).to_have_count(1)
    console.select_option("#entry-action-owner", label="周产品（产品经理）")
    console.locator("#entry-action-cooperating_department_ids label", has_text="客服部").click()
    console.locator("#entry-action-text").press("Enter")
    action_entry = watcher.locator(f"#item-{item_a} .entry.action")
    expect(action_entry).to_contain_text("优化投诉提报模板并上线")
    expect(action_entry).to_contain_text("产品部 · 周产品")
    expect(action_entry).to_contain_text("客服部")

    # --- the attendee's connection is cut while three points are added
    watcher.context.set_offline(True)
    expect(watcher.locator("#room")).to_have_class(re.compile(r"\bis-offline\b"), timeout=8000)
    console.keyboard.press("Alt+3")
    text = console.locator("#entry-point-text")
    for line in ("客服部收到投诉后1小时内补充问题描述", "技术部收到完整信息后24小时内反馈解决方案",
                 "投诉处理总时效不超过72小时"):
        text.fill(line)
        text.press("Enter")
        expect(text).to_have_value("")
    expect(console.locator(f"#item-{item_a} .point")).to_have_count(5)
    expect(watcher.locator(f"#item-{item_a} .point")).to_have_count(2)
    watcher.context.set_offline(False)
    points = watcher.locator(f"#item-{item_a} .point")
    expect(points).to_have_count(5, timeout=15000)
    expect(points.nth(2)).to_contain_text("1小时内补充问题描述")
    expect(points.nth(3)).to_contain_text("24小时内反馈解决方案")
    expect(points.nth(4)).to_contain_text("不超过72小时")
    expect(watcher.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))
    # An append that arrives again (a resync already brought the point) is not applied twice.
    first_id = points.nth(0).get_attribute("id")
    watcher.evaluate("""([item, id]) => htmx.swap(document.body,
        `<div hx-swap-oob="beforeend:#points-${item}"><li class="point" id="${id}">重复</li></div>`,
        {swapStyle: 'none'})""", [item_a, first_id])
    expect(points).to_have_count(5)

    # --- the recorder's network fails: the text stays, with a clear "未保存"
    console.route("**/meetings/*/points", lambda route: route.abort("internetdisconnected"))
    text.fill("网络中断时输入的观点")
    text.press("Enter")
    expect(console.locator("#point-form .form-status")).to_contain_text("未保存")
    expect(text).to_have_value("网络中断时输入的观点")
    console.unroute("**/meetings/*/points")
    text.press("Enter")
    expect(text).to_have_value("")
    expect(watcher.locator(f"#item-{item_a} .point").last).to_contain_text("网络中断时输入的观点")
    console.locator(f"#item-{item_a} .point", has_text="网络中断时输入的观点").hover()
    console.locator(f"#item-{item_a} .point", has_text="网络中断时输入的观点").get_by_role("button", name="删除").click()
    console.locator("#confirm-dialog").get_by_role("button", name="确定").click()  # the page's own dialog
    expect(watcher.locator(f"#item-{item_a} .point")).to_have_count(5)

    # --- the shared screen shows the current item, its clock and the points
    screen = new_page(host, viewport=(1920, 1080))
    screen.goto(f"/meetings/{meeting_id}/screen")
    expect(screen.locator(".screen-title")).to_have_text(ITEM_A)
    expect(screen.locator(".sp")).to_have_count(5)
    expect(screen.locator(".screen-clock .clock-now")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    text.fill("客服部与技术部每周复盘一次超时投诉")
    text.press("Enter")
    expect(screen.locator(".sp")).to_have_count(6)

    # Screenshots for people to look at: 1920×1080 and a 1366×768 laptop.
    wait_for_htmx(console)
    shot(console, "room-console-1920", full_page=False)
    shot(watcher, "room-attendee-1366", full_page=False)
    shot(screen, "room-screen-1920", full_page=False)
    console.set_viewport_size({"width": 1366, "height": 768})
    watcher.set_viewport_size({"width": 1920, "height": 1080})
    screen.set_viewport_size({"width": 1366, "height": 768})
    shot(console, "room-console-1366", full_page=False)
    shot(watcher, "room-attendee-1920", full_page=False)
    shot(screen, "room-screen-1366", full_page=False)

    # --- the next item: the clock moves with it, on every tab
    console.locator("#room-agenda li", has_text=ITEM_B).get_by_role("button", name="开始讨论").click()
    expect(watcher.locator("#room-head .now-title")).to_have_text(ITEM_B)
    expect(screen.locator(".screen-title")).to_have_text(ITEM_B)
    expect(console.locator("#entry-point-item")).to_have_value(str(item_b))

    # --- end-of-meeting review on the shared screen, then finish
    console.get_by_role("button", name="会末确认").click()
    expect(screen.locator(".review-card")).to_contain_text("夜间值班人力协调")
    expect(watcher.locator("#room-review")).to_contain_text("会末确认")
    console.locator("#room-review").get_by_role("button", name="✓ 确认").click()
    expect(screen.locator(".review-card")).to_contain_text("优化投诉提报模板并上线")
    shot(screen, "room-screen-review-1366", full_page=False)
    shot(console, "room-console-review-1366", full_page=False)
    console.locator("#room-review").get_by_role("button", name="当场改写").click()
    dialog = console.locator("#editor-dialog")
    expect(dialog).to_be_visible()
    wait_for_htmx(console)
    dialog.locator("textarea[name=text]").fill("优化投诉提报模板并上线，后续再议细节")
    expect(dialog.locator(".check-text mark")).to_have_count(2)
    dialog.get_by_role("button", name="改写并确认").click()
    expect(dialog.locator(".check-box.vague")).to_contain_text("模糊表述")  # told once, under the text
    expect(dialog.locator(".alert.error")).to_have_count(0)
    wait_for_htmx(console)
    dialog.locator("textarea[name=text]").fill("优化投诉提报模板并上线（含客户反馈字段）")
    dialog.get_by_role("button", name="改写并确认").click()
    expect(dialog).to_be_hidden()
    expect(watcher.locator(f"#item-{item_a} .entry.action")).to_contain_text("改写后确认")
    console.get_by_role("button", name="结束会议").click()
    expect(console.locator("#confirm-dialog")).to_contain_text("纪要须在24小时内完成")
    console.locator("#confirm-dialog").get_by_role("button", name="确定").click()
    expect(console.locator("#room-head")).to_contain_text("纪要须在会后24小时内完成")
    expect(watcher.locator("#room-head")).to_contain_text("纪要须在会后24小时内完成")
    expect(screen.locator(".screen-topic")).to_have_text("会议已结束")
    expect(console.locator("#entry")).to_have_count(0)


def test_a_failed_room_action_says_why_in_the_page_language(live_server, new_page, people):
    """#room-msg's banners and the entry form's status come from the server's templates and catalogue."""
    host, recorder, attendee, _product, _legal = people
    meeting_id, _items = _setup_meeting(live_server, host, recorder, attendee)
    console = new_page(recorder, viewport=(1366, 768))
    console.goto(f"/meetings/{meeting_id}/room")
    start = console.get_by_role("button", name="开始会议")

    # the request never reaches the server: a banner says so, and the meeting is not started
    console.route("**/room/start", lambda route: route.abort("internetdisconnected"))
    start.click()
    banner = console.locator("#room-msg .alert.error[role=alert]")
    expect(banner).to_have_text("操作未完成：网络连接中断，请检查网络后重试")
    console.unroute("**/room/start")
    # a server fault: the banner names the status
    console.route("**/room/start", lambda route: route.fulfill(status=502, body="bad gateway"))
    start.click()
    expect(banner).to_have_text("操作未完成：服务器出错（502），请稍后重试")
    expect(banner).to_have_count(1)
    console.unroute("**/room/start")

    click_then_reload(console, start, re.compile(rf"/meetings/{meeting_id}/room$"))
    expect(console.locator("#room-head")).to_contain_text(ITEM_A)
    # the connection state's words are the server's too (room.css shows them with attr())
    expect(console.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))
    # the words follow the stream's state a moment after the page shows the live room: wait for them
    console.wait_for_function(
        "() => getComputedStyle(document.querySelector('#room-head .live-text'), '::after').content === '\"实时同步\"'",
        timeout=10_000)
    assert console.locator("#room-head .live-text").evaluate(
        "el => getComputedStyle(el, '::after').content") == '"实时同步"'

    # an entry that the server fails to save keeps its text and says why
    console.route("**/meetings/*/points", lambda route: route.fulfill(status=500, body="boom"))
    text = console.locator("#entry-point-text")
    text.fill("服务器出错时输入的观点")
    text.press("Enter")
    expect(console.locator("#point-form .form-status")).to_have_text(
        "未保存：服务器出错（500）。内容仍在输入框中，恢复后按 Enter 重试。")
    expect(text).to_have_value("服务器出错时输入的观点")
    console.unroute("**/meetings/*/points")
