"""The everyday paths in a real browser: the status form on every page that shows it, vague deadlines,
the minutes after 结束会议, and the agenda items the meeting never reached."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_for_htmx
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
