"""Small things a first-week user trips over: uploads, confirmations, the browser's own messages."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx
from tests.browser.test_planning_flow import _make_meeting, _today

pytestmark = pytest.mark.browser


def _planning_page(live_server, users, new_page, viewport=(1366, 768)):
    from minutes.core.workdays import add_workdays
    from tests.browser.test_planning_flow import _local

    host = users("wangli", "王丽", dept="客服部", head=True)
    starts = _local(add_workdays(_today(), 5), 14)
    meeting_id = _make_meeting(live_server, host, starts, items=[("投诉数据复盘", 30), ("交接规范", 20)])
    page = new_page(host, viewport=viewport)
    page.goto(f"/meetings/{meeting_id}")
    return page, meeting_id


def _open_material_form(page, item_title):
    item = page.locator("#agenda-list > li", has_text=item_title)
    item.locator("summary", has_text="需提前准备的资料").click()
    return item.locator("form[data-max-bytes]")


def test_oversized_material_is_refused_in_the_browser_beside_the_field(live_server, users, new_page, shot, tmp_path):
    page, _ = _planning_page(live_server, users, new_page)
    form = _open_material_form(page, "投诉数据复盘")
    big = tmp_path / "全年投诉明细.pdf"
    big.write_bytes(b"%PDF" + b"x" * (3 * 1024 * 1024))  # the live server's limit is 1 MB
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/materials" in r.url else None)
    form.locator("input[type=file]").set_input_files(str(big))
    form.locator("button[type=submit]").click()
    status = form.locator("[data-upload-status]")
    expect(status).to_be_visible()
    expect(status).to_contain_text("全年投诉明细.pdf")
    expect(status).to_contain_text("超过上限 1.0 MB")
    assert sent == [], "the file must not travel when the browser already knows it is too large"
    expect(page.locator("#agenda-list > li")).to_have_count(2)
    shot(page, "material-too-large-1366", full_page=False)

    # the server's own limit, when the browser's check is skipped: same place, agenda kept
    page.evaluate("document.querySelectorAll('form[data-max-bytes]').forEach(f => f.removeAttribute('data-max-bytes'))")
    form = page.locator("#agenda-list > li", has_text="投诉数据复盘").locator("form.subform").first
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-upload-status]")).to_contain_text("大小上限（1 MB）")
    expect(page.locator("#agenda-list > li")).to_have_count(2)
    expect(page.locator("#agenda .item-title").first).to_have_text("投诉数据复盘")


def test_material_upload_shows_progress_and_keeps_its_title(live_server, users, new_page, tmp_path):
    page, _ = _planning_page(live_server, users, new_page)
    form = _open_material_form(page, "投诉数据复盘")
    page.evaluate("""() => { window.__progress = [];
        document.addEventListener('htmx:xhr:progress', e => window.__progress.push(e.detail.loaded)); }""")
    small = tmp_path / "q3.pdf"
    small.write_bytes(b"%PDF-1.4 " + b"y" * 300_000)
    form.locator("input[type=file]").set_input_files(str(small))
    form.locator("input[name=title]").fill("三季度投诉报表")
    form.locator("button[type=submit]").click()
    material = page.locator("#agenda .materials li", has_text="三季度投诉报表")
    expect(material).to_be_visible()
    expect(material).to_contain_text("293.0 KB")
    assert page.evaluate("window.__progress.length") > 0, "htmx reported no upload progress"


def test_confirmations_use_a_styled_dialog_not_the_browsers(live_server, users, new_page, shot):
    page, _ = _planning_page(live_server, users, new_page)
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    item = page.locator("#agenda-list > li", has_text="交接规范")
    item.get_by_title("删除议题").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("删除议题“交接规范”及其资料？")
    shot(page, "confirm-dialog-1366", full_page=False)
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#agenda-list > li")).to_have_count(2)
    item.get_by_title("删除议题").click()
    dialog.get_by_role("button", name="确定").click()
    expect(page.locator("#agenda-list > li")).to_have_count(1)
    assert native == [], f"the browser's own confirm() appeared: {native}"


def test_the_browsers_validation_messages_are_in_chinese(live_server, users, new_page):
    page, _ = _planning_page(live_server, users, new_page)
    minutes = page.locator("#item-minutes")
    page.fill("#item-title", "预算")
    minutes.fill("999")
    page.locator("#add-item button[type=submit]").click()
    assert minutes.evaluate("el => el.validationMessage") == "不能大于 480"
    minutes.fill("0")
    page.locator("#add-item button[type=submit]").click()
    assert minutes.evaluate("el => el.validationMessage") == "不能小于 1"
    # nothing was sent while the browser refused the value
    expect(page.locator("#agenda-list > li")).to_have_count(2)


def test_a_long_topic_wraps_and_leaves_the_header_buttons_whole(live_server, users, new_page, shot):
    from minutes.core.workdays import add_workdays
    from tests.browser.test_planning_flow import _local

    host = users("wangli", "王丽", dept="客服部", head=True)
    topic = "关于二〇二七年度华东华南两大区域客户投诉处理流程、售后服务时效、技术支持升级路径与跨部门协同机制的全面梳理" * 2
    meeting_id = _make_meeting(live_server, host, _local(add_workdays(_today(), 5), 14), topic=topic[:200],
                               items=[("投诉数据复盘", 30)])
    page = new_page(host, viewport=(1366, 768))
    page.goto(f"/meetings/{meeting_id}")
    for button in page.locator(".page-head .button").all():
        box = button.bounding_box()
        assert box["width"] > 60 and box["height"] < 50, f"header button squeezed: {button.inner_text()} {box}"
    title = page.locator(".page-head h1").bounding_box()
    assert title["x"] + title["width"] <= 1366
    shot(page, "meeting-long-topic-1366", full_page=False)
    page.goto("/meetings/new")
    page.fill("#topic", "预算")
    expect(page.locator("#topic-count")).to_have_text("2/200")
    shot(page, "meeting-form-counter-1366", full_page=False)


def test_invite_people_from_several_departments_by_pinyin(live_server, users, new_page, shot):
    page, meeting_id = _planning_page(live_server, users, new_page)
    users("zhangwei", "张伟", dept="技术部", head=True, title="技术经理")
    users("zhangwei2", "张薇", dept="财务部")
    users("liufang", "刘芳", dept="法务部", title="法务专员")
    page.reload()
    page.fill("#invite-search", "zw")
    picker = page.locator("#picker")
    expect(picker.locator("label", has_text="张伟")).to_be_visible()
    expect(picker.locator("label", has_text="张薇")).to_be_visible()
    picker.locator("label", has_text="张伟").locator("input").check()
    page.fill("#invite-search", "lf")
    expect(picker.locator("label", has_text="刘芳")).to_be_visible()
    expect(picker.locator("label", has_text="张伟").locator("input")).to_be_checked()  # still ticked
    expect(picker.locator("label", has_text="张薇")).to_have_count(0)
    picker.locator("label", has_text="刘芳").locator("input").check()
    shot(page.locator("#people"), "invite-search-1366")
    page.select_option("#invite-role", label="参会人")
    page.locator("#invite-form button[type=submit]").click()
    expect(page.locator("#people .person .name", has_text="张伟")).to_have_count(1)
    expect(page.locator("#people .person .name", has_text="刘芳")).to_have_count(1)
    expect(page.locator("#people .person .name", has_text="张薇")).to_have_count(0)
