"""The sender sees the meeting's event in the chat platform's calendar beside the agenda e-mails (here: Feishu down,
retried); the administrator sees it on the outbox page."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_actions_flow import frozen  # noqa: F401  (Thursday 2026-06-25 10:00)
from tests.browser.test_mail_delivery import _people, _seed, config  # noqa: F401
from tests.chat.calendar_servers import FeishuCalendarServer

pytestmark = pytest.mark.browser


@pytest.fixture
def feishu_down(config):  # noqa: F811
    server = FeishuCalendarServer()
    server.members.update({"fs_zhaomin": {"name": "赵敏"}, "fs_lisi": {"name": "李四"}})
    server.down = True
    config.update(CHAT_PLATFORM="feishu", CHAT_CALENDAR_EVENTS=True, FEISHU_APP_ID=server.app_id,
                  FEISHU_APP_SECRET=server.app_secret, FEISHU_BASE_URL=server.url, FEISHU_CARD_ENCRYPT_KEY="k")
    yield server
    server.stop()


def _link(live_server, user, subject):
    from minutes.extensions import db
    from minutes.identity.models import ExternalIdentity

    with live_server.app.app_context():
        db.session.add(ExternalIdentity(user_id=user.id, provider="feishu", subject=subject))
        db.session.commit()


def test_sender_and_admin_see_the_calendar_event_waiting_for_a_retry(
        live_server, users, new_page, shot, frozen, feishu_down):  # noqa: F811
    host, invited = _people(users)
    admin = users("admin", "系统管理员", dept="信息部", admin=True)
    meeting_id = _seed(live_server, host, invited)
    _link(live_server, host, "fs_zhaomin")
    _link(live_server, invited[0], "fs_lisi")
    for width, height in ((1366, 768), (390, 844)):
        page = new_page(host, viewport=(width, height))
        page.goto(f"/meetings/{meeting_id}")
        if width == 1366:
            page.locator("#send button[type=submit]").click()
        row = page.locator("#agenda-delivery li[data-user=calendar]")
        expect(row).to_contain_text("日历日程", timeout=10_000)
        expect(row).to_contain_text("飞书日历（2人）")
        expect(row.locator(".delivery-reason")).to_contain_text("502")
        expect(row).to_contain_text("重试")
        expect(page.locator("#agenda-delivery li.delivery-sent")).to_have_count(4, timeout=10_000)  # the e-mails
        shot(page.locator("#agenda-delivery"), f"agenda-delivery-calendar-down-{width}")
    for width, height in ((1366, 768), (390, 844)):
        page = new_page(viewport=(width, height))
        login(page, live_server.url, admin)
        page.goto("/admin/outbox?status=pending")
        expect(page.locator("#outbox tbody tr")).to_contain_text(["日历日程"])
        shot(page, f"outbox-calendar-pending-{width}", full_page=False)
