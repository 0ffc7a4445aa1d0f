"""Admin pages for the departments' group robots: add, validate, test, see failures, retry."""
import pytest
from sqlalchemy import select

from minutes.extensions import db
from minutes.notify.models import OutboxMessage, OutboxStatus, WebhookBot
from minutes.notify.delivery import deliver_pending

HX = {"HX-Request": "true"}


@pytest.fixture
def admin(login_as, make_user):
    return login_as(make_user("admin", "系统管理员", dept="信息部", admin=True))


@pytest.fixture
def dept(make_user):
    return make_user("wangwei", "王伟", dept="研发部").department


def test_robots_are_for_admins_only(client, login_as, make_user):
    login_as(make_user("zhaomin", "赵敏", dept="客服部"))
    assert client.get("/notify/bots").status_code == 403
    assert client.post("/notify/bots", data={"name": "x"}).status_code == 403


def test_adding_a_robot_with_mistakes_reports_each_beside_its_field_and_keeps_what_was_typed(client, admin, dept):
    response = client.post("/notify/bots", headers=HX, data={
        "department_id": "", "vendor": "wecom", "name": "研发群", "webhook_url": "qyapi.weixin.qq.com/send",
        "secret": "abc", "per_minute": "50"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请选择部门", "请粘贴机器人的 Webhook 地址（以 https:// 开头）",
                    "企业微信群机器人没有加签密钥，请留空", "企业微信机器人每分钟最多接收20条消息，超过会被限流"):
        assert message in body
    assert 'value="研发群"' in body and 'value="qyapi.weixin.qq.com/send"' in body
    assert db.session.scalar(select(WebhookBot)) is None


def test_admin_adds_a_robot_tests_it_and_sees_it_delivered(client, admin, dept, robots, clock):
    clock(2026, 6, 15, 10, 0)
    url = robots.add("dingtalk", "rd", "SECrd")
    response = client.post("/notify/bots", headers=HX, data={
        "department_id": dept.id, "vendor": "dingtalk", "name": "研发部工作群", "webhook_url": url,
        "secret": "SECrd", "per_minute": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已添加 研发部 · 钉钉 · 研发部工作群" in body and "已加签" in body
    bot = db.session.scalar(select(WebhookBot))
    assert bot.per_minute == 20 and bot.secret == "SECrd"
    assert "SECrd" not in body  # the secret is never shown again
    client.post(f"/notify/bots/{bot.id}/test", headers=HX)
    assert deliver_pending()["sent"] == 1
    assert "这是一条测试消息，由 系统管理员 发送" in robots.texts("dingtalk", "rd")[0]
    page = client.get("/notify/bots").get_data(as_text=True)
    assert "已发送 1" in page


def test_editing_a_robot_with_an_empty_secret_keeps_the_stored_one(client, admin, dept, make_bot, robots):
    bot = make_bot(db.session.get(type(admin), admin.id), dept.id, "feishu", robots.add("feishu", "f", "s1"), "s1")
    response = client.post(f"/notify/bots/{bot.id}/edit", data={
        "department_id": dept.id, "vendor": "feishu", "name": "研发飞书群", "webhook_url": bot.webhook_url,
        "secret": "", "per_minute": "60", "enabled": "on"})
    assert response.status_code == 303
    db.session.refresh(bot)
    assert bot.secret == "s1" and bot.name == "研发飞书群" and bot.per_minute == 60 and bot.enabled


def test_failed_robot_messages_are_shown_and_can_be_retried(client, admin, dept, make_bot, robots, clock):
    from minutes.core import timefmt
    from minutes.notify.delivery import MAX_ATTEMPTS
    from minutes.notify.service import enqueue_im

    clock(2026, 6, 15, 10, 0)
    robots.fail_with_500 = True
    bot = make_bot(db.session.get(type(admin), admin.id), dept.id, "wecom", robots.add("wecom", "k"))
    msg = enqueue_im(bot, "【待办提醒】整理投诉分级标准", "正文", "", "k1")
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        deliver_pending()
        timefmt.freeze(db.session.get(OutboxMessage, msg.id).next_attempt_at)
    assert db.session.get(OutboxMessage, msg.id).status == OutboxStatus.DEAD
    overview = client.get("/notify/bots").get_data(as_text=True)
    assert "失败 1" in overview and "HTTP 500" in overview
    page = client.get(f"/notify/bots/{bot.id}").get_data(as_text=True)
    assert "【待办提醒】整理投诉分级标准" in page and "发送失败" in page and "立即重试" in page
    robots.fail_with_500 = False
    assert client.post(f"/notify/messages/{msg.id}/retry").status_code == 303
    assert deliver_pending()["sent"] == 1
    assert db.session.get(OutboxMessage, msg.id).status == OutboxStatus.SENT


def test_deleting_a_robot_marks_its_queue_failed(client, admin, dept, make_bot, robots):
    from minutes.notify.service import enqueue_im

    bot = make_bot(db.session.get(type(admin), admin.id), dept.id, "dingtalk", robots.add("dingtalk", "d"))
    enqueue_im(bot, "标题", "正文", "", "k")
    db.session.commit()
    assert client.post(f"/notify/bots/{bot.id}/delete").status_code == 303
    deliver_pending()
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == OutboxStatus.DEAD and msg.bot_id is None
