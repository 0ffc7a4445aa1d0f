"""Administering the departments' group robots (钉钉 / 企业微信 / 飞书 webhooks): admin only."""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import func, select, update

from minutes.core.links import external_url
from minutes.core.errors import NotFound, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.notify import webhooks
from minutes.notify.models import BotVendor, OutboxMessage, OutboxStatus, WebhookBot
from minutes.notify.service import enqueue_im, im_text
from minutes.people.models import Department
from minutes.people.service import department_by_id, require_admin


def list_bots() -> list[WebhookBot]:
    """Every robot, by department."""
    return list(db.session.scalars(select(WebhookBot).join(Department, WebhookBot.department_id == Department.id)
                                   .order_by(Department.id, WebhookBot.id)))


def get_bot(bot_id) -> WebhookBot:
    bot = get_by_id(WebhookBot, bot_id)
    if bot is None:
        raise NotFound(gettext("该群机器人不存在"))
    return bot


def _bot_fields(department_id, vendor: str, name: str, webhook_url: str, secret: str, per_minute) -> tuple:
    errors: dict[str, str] = {}
    dept = None
    try:
        dept = department_by_id(department_id)
    except NotFound:
        errors["department_id"] = gettext("请选择部门")
    try:
        vendor = BotVendor(vendor)
    except ValueError:
        errors["vendor"] = gettext("请选择平台：钉钉、企业微信或飞书")
        vendor = None
    name = (name or "").strip()
    if not name:
        errors["name"] = gettext("请填写名称，例如“产品部工作群”")
    elif len(name) > 100:
        errors["name"] = gettext("名称不超过100个字")
    url = (webhook_url or "").strip()
    if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url):
        errors["webhook_url"] = gettext("请粘贴机器人的 Webhook 地址（以 https:// 开头）")
    elif len(url) > 500:
        errors["webhook_url"] = gettext("Webhook 地址过长")
    elif vendor == BotVendor.WECOM and "key=" not in url:
        errors["webhook_url"] = gettext("企业微信群机器人的地址应包含 key=…")
    secret = (secret or "").strip()
    if len(secret) > 200:
        errors["secret"] = gettext("密钥过长")
    elif secret and vendor == BotVendor.WECOM:
        errors["secret"] = gettext("企业微信群机器人没有加签密钥，请留空")
    if str(per_minute or "").strip() == "" and vendor is not None:
        limit = webhooks.DEFAULT_PER_MINUTE[vendor.value]
    else:
        try:
            limit = int(str(per_minute).strip())
            if not 1 <= limit <= 1000:
                raise ValueError
        except ValueError:
            errors["per_minute"] = gettext("每分钟条数须为1–1000之间的整数")
            limit = None
    if vendor is not None and limit and limit > webhooks.DEFAULT_PER_MINUTE[vendor.value]:
        errors["per_minute"] = (gettext("%(vendor)s机器人每分钟最多接收%(per_minute)s条消息，超过会被限流",
                                        vendor=vendor.label, per_minute=webhooks.DEFAULT_PER_MINUTE[vendor.value]))
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return dept, vendor, name, url, secret, limit


def create_bot(actor, department_id, vendor: str, name: str, webhook_url: str, secret: str = "",
               per_minute=None) -> WebhookBot:
    """Add a department's group robot (admin only)."""
    require_admin(actor)
    dept, vendor, name, url, secret, limit = _bot_fields(department_id, vendor, name, webhook_url, secret, per_minute)
    bot = WebhookBot(department=dept, vendor=vendor, name=name, webhook_url=url, secret=secret, per_minute=limit,
                     enabled=True, created_by=actor)
    db.session.add(bot)
    db.session.flush()
    return bot


def update_bot(actor, bot: WebhookBot, department_id, vendor: str, name: str, webhook_url: str, secret: str | None,
               per_minute=None, enabled: bool = True) -> WebhookBot:
    """Change a robot; an empty secret field keeps the stored secret unless `secret` is None-cleared."""
    require_admin(actor)
    keep_secret = secret == "" and bot.secret
    dept, vendor, name, url, new_secret, limit = _bot_fields(department_id, vendor, name, webhook_url,
                                                             "" if keep_secret else (secret or ""), per_minute)
    bot.department, bot.vendor, bot.name, bot.webhook_url = dept, vendor, name, url
    bot.secret = bot.secret if keep_secret else new_secret
    bot.per_minute, bot.enabled = limit, enabled
    db.session.flush()
    return bot


def delete_bot(actor, bot: WebhookBot) -> None:
    """Remove a robot; its undelivered messages are marked failed at the next delivery run."""
    require_admin(actor)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.bot_id == bot.id).values(bot_id=None))
    db.session.delete(bot)
    db.session.flush()


def send_test(actor, bot: WebhookBot) -> OutboxMessage:
    """Queue a test message to a robot (it goes out with the next delivery, within the robot's limit)."""
    require_admin(actor)
    if not bot.enabled:
        raise ValidationFailed(gettext("该机器人已停用，请先启用"))
    stamp = utcnow().strftime("%Y%m%d%H%M%S%f")
    text = gettext("这是一条测试消息，由 %(actor)s 发送。\n\n收到即表示 %(bot)s 已配置成功。", actor=im_text(actor.name),
                   bot=im_text(bot.name))
    return enqueue_im(bot, gettext("【测试消息】会议纪要系统"), text,
                      external_url("meetings.dashboard"), dedupe_key=f"bot-test:{bot.id}:{stamp}")


def bot_stats() -> dict[int, dict]:
    """Per robot: messages waiting, failed for good, sent in the last day, and the last error."""
    stats: dict[int, dict] = {}
    rows = db.session.execute(select(OutboxMessage.bot_id, OutboxMessage.status, func.count())
                              .where(OutboxMessage.bot_id.is_not(None))
                              .group_by(OutboxMessage.bot_id, OutboxMessage.status))
    for bot_id, status, n in rows:
        stats.setdefault(bot_id, {"pending": 0, "sending": 0, "sent": 0, "dead": 0, "last_error": None})
        stats[bot_id][OutboxStatus(status).value] = n
    for bot_id, error in db.session.execute(
            select(OutboxMessage.bot_id, OutboxMessage.last_error)
            .where(OutboxMessage.bot_id.is_not(None), OutboxMessage.last_error.is_not(None),
                   OutboxMessage.status != OutboxStatus.SENT)
            .order_by(OutboxMessage.id)):
        stats.setdefault(bot_id, {"pending": 0, "sending": 0, "sent": 0, "dead": 0, "last_error": None})
        stats[bot_id]["last_error"] = error
    return stats


def bot_messages(bot: WebhookBot, limit: int = 50) -> list[OutboxMessage]:
    """A robot's newest messages, failures first."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.bot_id == bot.id)
                                   .order_by((OutboxMessage.status == OutboxStatus.DEAD).desc(),
                                             OutboxMessage.id.desc()).limit(limit)))
