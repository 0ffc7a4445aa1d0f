"""临时议题 in a real browser: the recorder adds an item during the meeting, an attendee's tab shows it live."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx, click_then_reload
from tests.browser.test_room_live import ITEM_A, _setup_meeting

pytestmark = pytest.mark.browser

NEW_ITEM = "新增：系统故障应急处理"


def test_recorder_adds_an_impromptu_item_and_the_attendee_sees_it_without_reload(live_server, new_page, users,
                                                                                 shot):
    host = users("wangzc", "王主持", dept="客服部")
    recorder = users("lijl", "李记录", dept="客服部")
    attendee = users("zhangjs", "张技术", dept="技术部")
    meeting_id, _items = _setup_meeting(live_server, host, recorder, attendee)
    room_url = f"/meetings/{meeting_id}/room"

    console = new_page(recorder, viewport=(1366, 768))
    console.goto(room_url)
    click_then_reload(console, console.get_by_role("button", name="开始会议"), re.compile(rf"/meetings/{meeting_id}/room$"))
    expect(console.locator("#room-head")).to_contain_text(ITEM_A)

    watcher = new_page(attendee, viewport=(1366, 768))
    watcher.goto(room_url)
    expect(watcher.locator("#room")).to_have_class(re.compile(r"\bis-live\b"))
    expect(watcher.locator("#agenda-add")).to_have_count(0)
    watcher.evaluate("window.notReloaded = true")

    console.locator("#agenda-add summary").click()
    console.fill("#agenda-add-title", NEW_ITEM)
    console.fill("#agenda-add-minutes", "15")
    console.select_option("#agenda-add-dept", label="技术部")
    shot(console, "room-impromptu-form-1366", full_page=False)
    console.get_by_role("button", name="添加议题").click()
    wait_for_htmx(console)
    expect(console.locator("#agenda-form .form-status")).to_contain_text("已添加")
    expect(console.locator("#agenda-add-title")).to_have_value("")

    expect(watcher.locator("#room-agenda")).to_contain_text(NEW_ITEM)
    expect(watcher.locator("#room-items .item-block").last).to_contain_text(NEW_ITEM)
    expect(watcher.locator("#room-items .item-block").last).to_contain_text("技术部汇报")
    assert watcher.evaluate("window.notReloaded") is True
    # the recorder can record under it at once: the entry forms offer it
    expect(console.locator("#entry-point-item option", has_text=NEW_ITEM)).to_have_count(1)
    shot(console, "room-impromptu-added-1366", full_page=False)
