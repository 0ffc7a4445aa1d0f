"""The pages this round changed, on a phone (390 px): nothing runs off the side, and each is looked at."""
import pytest
from playwright.sync_api import expect

from tests.browser.test_actions_flow import SOON, _seed, frozen  # noqa: F401 (fixture)
from tests.browser.test_everyday_paths import _people

pytestmark = pytest.mark.browser

PHONE = (390, 844)


def _fits(page, name, shot):
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, f"phone-{name}-390")
    assert width <= PHONE[0], f"{name}: the page is {width} px wide on a {PHONE[0]} px phone"


def test_the_changed_pages_fit_a_phone(live_server, users, new_page, shot, frozen):  # noqa: F811
    host, recorder, owner, colleague = _people(users)
    meeting_id, ids = _seed(live_server, host, recorder, owner, colleague)
    page = new_page(owner, viewport=PHONE)
    for name, path in (("dashboard", "/"), ("my-actions", "/actions/mine"), ("action", f"/actions/{ids[SOON]}")):
        page.goto(path)
        _fits(page, name, shot)
    page.locator("#status-panel .pills label", has_text="延期").click()
    expect(page.locator("#status-panel input[name=new_due]")).to_be_visible()
    _fits(page, "action-delay", shot)

    page = new_page(host, viewport=PHONE)
    for name, path in (("meeting", f"/meetings/{meeting_id}"), ("new-meeting", "/meetings/new"),
                       ("minutes", f"/meetings/{meeting_id}/minutes"), ("search", "/archive/search?q=投诉")):
        page.goto(path)
        _fits(page, name, shot)
