"""The everyday paths in a real browser: the status form on every page that shows it, vague deadlines,
the minutes after 结束会议, and the agenda items the meeting never reached."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx, click_then_reload
from tests.browser.test_actions_flow import LATE, SOON, _seed, frozen  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def _people(users):
    return (users("zhaomin", "赵敏", dept="客服部", head=True, title="客服经理"),
            users("chenjing", "陈静", dept="客服部", title="项目助理"),
            users("wangwei", "王伟", dept="研发部", title="后端工程师"),
            users("sunli", "孙丽", dept="市场部"))


def _action(live_server, action_id):
    from minutes.actions.models import ActionItem
    from minutes.extensions import db

    with live_server.app.app_context():
        action = db.session.get(ActionItem, action_id)
        result = (action.status.value, action.due_date)
        db.session.remove()
        return result


def test_status_form_on_the_action_page_reveals_its_fields_and_shows_refusals(live_server, users, new_page, shot,
                                                                             frozen):  # noqa: F811
    host, recorder, owner, colleague = _people(users)
    _, ids = _seed(live_server, host, recorder, owner, colleague)
    page = new_page(owner, viewport=(1366, 768))
    page.goto(f"/actions/{ids[SOON]}")
    panel = page.locator("#status-panel")
    expect(panel.locator("input[name=new_due]")).to_be_hidden()
    panel.locator(".pills label", has_text="延期").click()
    expect(panel.locator("input[name=new_due]")).to_be_visible()
    expect(panel.locator(".note-label .for-delayed")).to_be_visible()
    panel.locator("textarea[name=note]").fill("等待法务确认工单分派规则")
    panel.locator("button[type=submit]").click()  # no new date: refused, with the reason beside the field
    panel = page.locator("#status-panel")
    expect(panel.locator(".field-error")).to_have_text("延期请填写新的截止日期")
    expect(panel.locator(".field-error")).to_be_visible()
    expect(panel.locator("textarea[name=note]")).to_have_value("等待法务确认工单分派规则")
    shot(page, "everyday-action-page-refused-1366", full_page=False)
    assert _action(live_server, ids[SOON]) == ("not_started", date(2026, 6, 29))

    panel.locator(".pills label", has_text="需支持").click()
    expect(panel.locator("select[name=support_department_id]")).to_be_visible()
    expect(panel.locator("input[name=new_due]")).to_be_hidden()
    panel.locator(".pills label", has_text="延期").click()
    panel.locator("input[name=new_due]").fill("2026-07-10")
    panel.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_have_text("状态已更新")
    expect(page.locator("#status-panel .st")).to_have_text("延期")
    shot(page, "everyday-action-page-saved-1366", full_page=False)
    assert _action(live_server, ids[SOON]) == ("delayed", date(2026, 7, 10))


@pytest.fixture
def friday(live_server):
    """The live server's clock at Friday 2026-12-04 10:00: 下周 is the week of December 7."""
    from tests.browser.test_actions_flow import _local
    from minutes.core import timefmt

    timefmt.freeze(_local(2026, 12, 4, 10, 0))
    yield
    timefmt.freeze(None)


def _room(live_server, users):
    from tests.browser.test_room_live import _setup_meeting

    host = users("wangzc", "王主持", dept="客服部", title="客服总监")
    recorder = users("lijl", "李记录", dept="客服部")
    attendee = users("zhangjs", "张技术", dept="技术部", title="技术经理")
    meeting_id, items = _setup_meeting(live_server, host, recorder, attendee)
    return host, recorder, attendee, meeting_id, items


def _actions_of(live_server, meeting_id):
    from minutes.actions.models import ActionItem
    from minutes.extensions import db

    with live_server.app.app_context():
        rows = [(a.text, a.due_date) for a in db.session.query(ActionItem).filter_by(meeting_id=meeting_id)]
        db.session.remove()
        return rows


def test_vague_deadline_message_once_and_a_week_without_a_day_is_confirmed(live_server, users, new_page, shot,
                                                                          friday):
    host, recorder, attendee, meeting_id, items = _room(live_server, users)
    console = new_page(recorder, viewport=(1366, 768))
    console.goto(f"/meetings/{meeting_id}/room")
    click_then_reload(console, console.get_by_role("button", name="开始会议"), re.compile(rf"/meetings/{meeting_id}/room$"))
    console.locator(".entry-tabs [data-tab=action]").click()
    form = console.locator("#action-form")
    text = console.locator("#entry-action-text")
    text.type("尽快修订投诉提报模板")
    console.select_option("#entry-action-odept", label="技术部")
    expect(console.locator("#entry-action-owner option", has_text="张技术")).to_have_count(1)
    console.select_option("#entry-action-owner", label="张技术（技术经理）")
    text.press("Enter")
    expect(form.locator(".form-status")).to_contain_text("未保存")
    wait_for_htmx(console)
    form = console.locator("#action-form")
    shot(form, "everyday-room-vague-1366")
    assert form.inner_text().count("模糊表述") == 1, form.inner_text()
    expect(form.locator(".check-box.vague mark").first).to_have_text("尽快")

    # a week without a day: the date it stands for is shown, and saving waits for a confirmation
    text = console.locator("#entry-action-text")
    text.fill("修订投诉提报模板并发各部门")
    console.fill("#entry-action-due", "下周")
    check = console.locator("#entry-action-check")
    expect(check).to_contain_text("将理解为 2026年12月11日（周五），请确认或改为具体日期")
    text.press("Enter")
    wait_for_htmx(console)
    form = console.locator("#action-form")
    expect(form.locator(".form-status")).to_contain_text("未保存")
    assert form.inner_text().count("将理解为") == 1, form.inner_text()
    shot(console, "everyday-room-week-confirm-1366", full_page=False)
    assert _actions_of(live_server, meeting_id) == []
    form.locator("label", has_text="确认截止日期为 2026年12月11日（周五）").click()
    console.locator("#entry-action-text").press("Enter")
    expect(console.locator(f"#item-{items[0]} .entry.action")).to_contain_text("修订投诉提报模板并发各部门")
    assert _actions_of(live_server, meeting_id) == [("修订投诉提报模板并发各部门", date(2026, 12, 11))]

    # hints count from today, never an example date in the past
    expect(console.locator("#entry-action-due")).to_have_attribute("placeholder", re.compile("2026-12-31"))


def test_after_the_meeting_the_recorder_writes_the_minutes_and_carries_the_undiscussed_item(
        live_server, users, new_page, shot, friday):
    from tests.browser.test_room_live import ITEM_A, ITEM_B, TOPIC

    host, recorder, attendee, meeting_id, items = _room(live_server, users)
    console = new_page(recorder, viewport=(1366, 768))
    console.goto(f"/meetings/{meeting_id}/room")
    click_then_reload(console, console.get_by_role("button", name="开始会议"), re.compile(rf"/meetings/{meeting_id}/room$"))
    console.select_option("#entry-point-dept", label="客服部")
    text = console.locator("#entry-point-text")
    text.fill("升级投诉须在24小时内给出处理方案")
    text.press("Enter")
    expect(console.locator(f"#item-{items[0]} .point")).to_have_count(1)
    console.locator("#room-head button", has_text="会末确认").click()
    console.locator("#room-head button", has_text="结束会议").click()
    ask = console.locator("#confirm-dialog")  # told before ending, in the page's own dialog
    expect(ask).to_contain_text(f"还有1个议题未讨论（没有任何记录）：{ITEM_B}。")
    ask.get_by_role("button", name="确定").click()

    # the ended room: the minutes are due, the deadline falls on a Saturday, and the button to write them is there
    head = console.locator("#room-head")
    expect(head).to_contain_text("纪要须在会后24小时内完成")
    expect(head).to_contain_text("截止 2026年12月5日（周六） 10:00，为休息日；按工作日计为 2026年12月7日（周一） 10:00")
    shot(console, "everyday-room-ended-1366", full_page=False)
    head.locator("#write-minutes").click()
    console.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(console.locator(".due-line")).to_contain_text("为休息日；按工作日计为 2026年12月7日（周一） 10:00")
    carry = console.locator("#carry-over")
    expect(carry).to_contain_text(ITEM_B)
    expect(carry).not_to_contain_text(ITEM_A)
    shot(console, "everyday-minutes-carry-over-1366", full_page=False)
    expect(console.get_by_role("button", name="根据会中记录生成初稿")).to_be_visible()

    # the undiscussed item goes to a follow-up meeting with the same people and roles
    carry.get_by_role("button", name="安排后续会议讨论这些议题").click()
    console.wait_for_url(re.compile(r"/meetings/\d+$"))
    expect(console.locator(".flash.success")).to_contain_text("1个未讨论的议题已列入议程")
    expect(console.locator("h1")).to_contain_text(f"{TOPIC}（待议事项）")
    expect(console.locator("#agenda")).to_contain_text(ITEM_B)
    expect(console.locator("#agenda")).not_to_contain_text(ITEM_A)
    expect(console.locator("#people")).to_contain_text("张技术")
    shot(console, "everyday-carried-meeting-1366", full_page=False)
    new_id = int(console.url.rsplit("/", 1)[1])
    from minutes.extensions import db
    from minutes.meetings.models import Meeting

    with live_server.app.app_context():
        new = db.session.get(Meeting, new_id)
        assert (new.host.username, new.recorder.username) == (host.username, recorder.username)
        assert [i.title for i in new.agenda_items] == [ITEM_B]
        assert new.starts_at.date() == date(2026, 12, 8)  # the agenda, sent today, is 2 working days ahead
        db.session.remove()

    # back on the minutes page the item links to where it went; offering it again would plan a second meeting
    console.goto(f"/meetings/{meeting_id}/minutes")
    carry = console.locator("#carry-over")
    expect(carry).to_contain_text(f"已转入：{TOPIC}（待议事项）")
    expect(carry.get_by_role("button")).to_have_count(0)
    shot(console, "everyday-minutes-carried-1366", full_page=False)
    carry.get_by_role("link", name=re.compile("待议事项")).click()
    console.wait_for_url(re.compile(rf"/meetings/{new_id}$"))
