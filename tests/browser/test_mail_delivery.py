"""The sender of an agenda sees what became of each email; `make run`'s local mailbox shows the mail itself."""
import socket
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_actions_flow import _local, frozen  # noqa: F401  (Thursday 2026-06-25 10:00)

TOPIC = "解决客户投诉处理流程卡点"


@pytest.fixture
def config(live_server):
    """Change the live server's configuration for one test."""
    saved = dict(live_server.app.config)
    yield live_server.app.config
    live_server.app.config.clear()
    live_server.app.config.update(saved)


def _seed(live_server, host, invited):
    """A meeting on Monday 2026-07-06 with an agenda item and four people invited; the agenda not sent yet."""
    from minutes.extensions import db
    from minutes.meetings import service
    from minutes.people.models import User

    with live_server.app.app_context():
        actor = db.session.get(User, host.id)
        start = _local(2026, 7, 6, 14, 0)
        meeting = service.create_meeting(actor, service.MeetingInput(
            topic=TOPIC, goal="明确投诉处理各环节的部门职责与时限", expected_outcome="形成行动方案", scenario="problem",
            starts_at=start, ends_at=start + timedelta(minutes=90), location="3号楼 301会议室",
            organizer_department_id=actor.department_id))
        service.add_agenda_item(actor, meeting, "投诉升级后的处理时效", 30, actor.department_id)
        service.invite(actor, meeting, [invited[0].id], "recorder")
        service.invite(actor, meeting, [u.id for u in invited[1:]], "participant")
        db.session.commit()
        return meeting.id


def _people(users):
    host = users("zhaomin", "赵敏", dept="客服部")
    invited = [users("lisi", "李四"), users("wangwu", "王五", dept="技术部"), users("sunqi", "孙七", dept="法务部")]
    return host, invited


def _send_agenda(live_server, users, new_page):
    """The host sends the agenda of a meeting to four people on its page; return the page and the delivery part."""
    host, invited = _people(users)
    meeting_id = _seed(live_server, host, invited)
    page = new_page(host, viewport=(1366, 768))
    page.goto(f"/meetings/{meeting_id}")
    page.locator("#send button[type=submit]").click()
    return page, page.locator("#agenda-delivery")


def test_sender_sees_the_mail_server_down_on_the_meeting_page(live_server, users, new_page, shot, frozen, config):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        config["SMTP_PORT"] = probe.getsockname()[1]  # nobody listens there
    page, delivery = _send_agenda(live_server, users, new_page)
    expect(delivery.locator(".delivery-warning")).to_contain_text("邮件发不出去", timeout=10_000)
    expect(delivery.locator(".delivery-warning")).to_contain_text("ConnectionRefused")
    expect(delivery.locator("li.delivery-queued")).to_have_count(4)
    expect(delivery.locator("li.delivery-queued").first).to_contain_text("重试")
    delivery.scroll_into_view_if_needed()
    shot(page, "agenda-delivery-mail-down", full_page=False)
    assert live_server.smtp.messages == []


def test_local_mailbox_shows_the_agenda_as_sent(live_server, users, new_page, shot, frozen, config):
    config["MAIL_DEV_MAILBOX"] = True
    page, delivery = _send_agenda(live_server, users, new_page)
    expect(delivery.locator(".delivery-head")).to_contain_text("已发送 4", timeout=10_000)
    expect(delivery.locator(".delivery-warning")).to_contain_text("本地开发模式")
    delivery.scroll_into_view_if_needed()
    shot(page, "agenda-delivery-dev-mailbox", full_page=False)
    with page.context.expect_page() as opened:
        delivery.get_by_role("link", name="打开本地邮箱 →").click()
    mailbox = opened.value
    mailbox.wait_for_load_state()
    assert mailbox.url.endswith("/dev/mailbox")
    expect(mailbox.locator(".mailbox-message")).to_have_count(4)
    expect(mailbox.locator(".mailbox-message .mailbox-text").first).to_contain_text(TOPIC)
    shot(mailbox, "dev-mailbox", full_page=False)
    with mailbox.context.expect_page() as opened:
        mailbox.locator(".mailbox-message").first.get_by_role("link", name="查看 HTML 版 →").click()
    html = opened.value
    html.wait_for_load_state()
    expect(html.locator("body")).to_contain_text("邀请您参加以下会议")
    shot(html, "dev-mailbox-html", full_page=False)
    assert live_server.smtp.messages == []  # nothing went over SMTP in this mode
