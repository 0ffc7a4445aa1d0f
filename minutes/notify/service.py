"""Enqueue messages in the caller's transaction; deliver them later, with retries, once.

Channels: email (SMTP) and group robots by webhook (钉钉 / 企业微信 / 飞书, one or more per
department). A message is claimed by exactly one deliverer with a single UPDATE before it is
sent, so several `flask minutes tick` processes (on several hosts) never send the same row.
A robot's per-minute limit is respected by counting its recent attempts while its row is
locked: messages over the limit simply stay queued for the next run, they are never dropped.
"""
from __future__ import annotations

import logging
import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import distinct, func, or_, select, update

from minutes.core.errors import NotFound, RuleViolation, ValidationFailed
from minutes.core.timefmt import utcnow
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.notify import webhooks
from minutes.notify.models import BotVendor, JobLock, OutboxMessage, OutboxStatus, WebhookBot
from minutes.people.service import department_by_id, require_admin

log = logging.getLogger(__name__)

#: After this many failed attempts a message is given up (status dead) and shown to the admin.
MAX_ATTEMPTS = 12
CLAIM_SECONDS = 120
#: Messages claimed per round trip; a run keeps claiming until nothing is due or its time is up.
BATCH = 200
#: A robot's limit is per minute; count a little more than a minute so clock skew never tips it over.
RATE_WINDOW = timedelta(seconds=65)
IM_CHANNELS = tuple(v.value for v in BotVendor)


# --- enqueueing ------------------------------------------------------------------------------

def _exists(dedupe_key: str | None) -> bool:
    return dedupe_key is not None and db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def _add(msg: OutboxMessage) -> OutboxMessage:
    db.session.add(msg)
    db.session.flush()
    db.session.info["outbox_dirty"] = True
    return msg


def enqueue_email(recipient: str, subject: str, body_text: str, body_html: str | None = None,
                  dedupe_key: str | None = None, link: str = "") -> OutboxMessage | None:
    """Add an email to the outbox in the current transaction; skip a duplicate key."""
    if not recipient or _exists(dedupe_key):
        return None
    return _add(OutboxMessage(channel="email", recipient=recipient, subject=subject, body_text=body_text,
                              body_html=body_html, dedupe_key=dedupe_key, link=link, next_attempt_at=utcnow()))


def enqueue_im(bot: WebhookBot, title: str, text: str, link: str = "",
               dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue a post to one group robot in the current transaction; skip a duplicate key."""
    if not bot.enabled or _exists(dedupe_key):
        return None
    return _add(OutboxMessage(channel=bot.vendor.value, recipient=bot.label[:500], bot_id=bot.id,
                              subject=title[:300], body_text=text, link=link, dedupe_key=dedupe_key,
                              next_attempt_at=utcnow()))


def enqueue_department_im(department_id: int, title: str, text: str, link: str = "",
                          dedupe_key: str | None = None) -> list[OutboxMessage]:
    """Queue a post to every enabled robot of a department (key suffixed with the robot)."""
    queued = []
    for bot in department_bots(department_id):
        msg = enqueue_im(bot, title, text, link, f"{dedupe_key}:bot:{bot.id}" if dedupe_key else None)
        if msg is not None:
            queued.append(msg)
    return queued


def department_bots(department_id: int) -> list[WebhookBot]:
    """The enabled robots of a department."""
    return list(db.session.scalars(select(WebhookBot).where(WebhookBot.department_id == department_id,
                                                            WebhookBot.enabled.is_(True))
                                   .order_by(WebhookBot.id)))


def keep_delivery_for_caller() -> None:
    """Tell the commit hook not to start a background delivery: the caller delivers itself."""
    db.session.info.pop("outbox_dirty", None)


# --- claiming --------------------------------------------------------------------------------

def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _due(now: datetime):
    return (OutboxMessage.next_attempt_at <= now) & or_(
        OutboxMessage.status == OutboxStatus.PENDING,
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now))


def _claim(now: datetime, where, limit: int) -> list[int]:
    """Claim up to `limit` due messages matching `where` with one UPDATE (the caller commits).

    PostgreSQL skips rows another deliverer is claiming (SKIP LOCKED) and re-checks the status of
    rows it waited for; SQLite runs the statement under its single write lock. Either way a row
    is claimed by one deliverer only.
    """
    if limit <= 0:
        return []
    # A CTE, not "id IN (subquery ... LIMIT n)": PostgreSQL may run such a subquery more than once and
    # claim more than n rows, which would break a robot's per-minute budget.
    pick = (select(OutboxMessage.id.label("id")).where(_due(now), where).order_by(OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True).cte("pick"))
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == pick.c.id, _due(now))
        .values(status=OutboxStatus.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .returning(OutboxMessage.id),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    return sorted(claimed)


@dataclass
class _Outgoing:
    """What a deliverer needs of a claimed message, read before sending so no transaction stays open meanwhile."""

    id: int
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    link: str
    attempts: int


def _load(ids: list[int]) -> list[_Outgoing]:
    """Read claimed messages and end the read transaction (SQLite must not upgrade a stale read to a write)."""
    if not ids:
        return []
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient,
                                     OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
                                     OutboxMessage.link, OutboxMessage.attempts)
                              .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)).all()
    db.session.commit()
    return [_Outgoing(*row) for row in rows]


def _record(msg_id: int, **values) -> None:
    """Write one message's outcome in its own short transaction (the UPDATE comes first: it takes the lock)."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == msg_id).values(**values),
                       execution_options={"synchronize_session": False})
    db.session.commit()


def _succeeded(msg: _Outgoing) -> None:
    now = utcnow()
    _record(msg.id, attempts=msg.attempts + 1, status=OutboxStatus.SENT, sent_at=now, last_attempt_at=now,
            claimed_until=None, last_error=None)


def _failed(msg: _Outgoing, error: str, now: datetime) -> datetime | None:
    """Count a failed attempt; return when it will be tried again (None: given up)."""
    attempts = msg.attempts + 1
    retry_at = None if attempts >= MAX_ATTEMPTS else now + _backoff(attempts)
    log.warning("outbox %s (%s) delivery failed: %s", msg.id, msg.channel, error)
    _record(msg.id, attempts=attempts, last_attempt_at=utcnow(), last_error=error[:2000], claimed_until=None,
            status=OutboxStatus.DEAD if retry_at is None else OutboxStatus.PENDING,
            **({"next_attempt_at": retry_at} if retry_at else {}))
    return retry_at


def _postpone(msg: _Outgoing, until: datetime, reason: str, attempted: bool = False) -> None:
    """Put a claimed message back without spending an attempt (its channel is down or throttled)."""
    extra = {"last_attempt_at": utcnow()} if attempted else {}
    _record(msg.id, status=OutboxStatus.PENDING, claimed_until=None, next_attempt_at=until,
            last_error=reason[:2000], **extra)


# --- email -----------------------------------------------------------------------------------

def _email(msg: _Outgoing) -> EmailMessage:
    cfg = current_app.config
    email = EmailMessage()
    email["Subject"] = msg.subject
    email["From"] = formataddr(("会议纪要系统", cfg["SMTP_SENDER"]))
    email["To"] = msg.recipient
    email["Message-ID"] = make_msgid(idstring=f"outbox{msg.id}")
    email.set_content(msg.body_text)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html")
    return email


def _smtp() -> smtplib.SMTP:
    cfg = current_app.config
    smtp = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=15)
    if cfg["SMTP_STARTTLS"]:
        smtp.starttls()
    if cfg["SMTP_USER"]:
        smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
    return smtp


#: Refusals of one message; the connection is still good for the next one.
_MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                    smtplib.SMTPNotSupportedError, UnicodeError, ValueError)


def _deliver_emails(messages: list[_Outgoing], now: datetime, counts: dict) -> None:
    """Send a batch over one SMTP connection; if the server is unreachable the rest wait unspent."""
    smtp = None
    down: tuple[datetime, str] | None = None
    try:
        for msg in messages:
            if down is not None:
                _postpone(msg, *down)
                counts["deferred"] += 1
                continue
            try:
                if smtp is None:
                    smtp = _smtp()
                smtp.send_message(_email(msg))
            except _MESSAGE_REFUSED as exc:
                _failed(msg, f"{type(exc).__name__}: {exc}", now)
                counts["failed"] += 1
            except Exception as exc:  # the server is down or dropped us: the batch waits
                error = f"{type(exc).__name__}: {exc}"
                retry_at = _failed(msg, error, now)
                counts["failed"] += 1
                down = (retry_at or now + _backoff(MAX_ATTEMPTS), f"邮件服务器不可用，等待重试：{error}")
                smtp = _close(smtp)
            else:
                _succeeded(msg)
                counts["sent"] += 1
    finally:
        _close(smtp)


def _close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except Exception:  # already gone
            pass
    return None


# --- group robots ----------------------------------------------------------------------------

@dataclass
class _Robot:
    id: int
    vendor: str
    label: str
    url: str
    secret: str


def _claim_for_bot(bot_id: int, now: datetime) -> tuple[_Robot | None, list[int]]:
    """Claim as many of a robot's due messages as its per-minute limit allows right now (commits)."""
    # The first statement locks the robot (its row on PostgreSQL, the write lock on SQLite), so two
    # deliverers count the robot's recent attempts one after the other, never both at once.
    locked = db.session.execute(update(WebhookBot).where(WebhookBot.id == bot_id, WebhookBot.enabled.is_(True))
                                .values(claimed_at=now), execution_options={"synchronize_session": False}).rowcount
    if not locked:  # disabled: its messages wait, queued, until it is enabled again (or deleted)
        db.session.commit()
        return None, []
    bot = db.session.execute(select(WebhookBot.id, WebhookBot.vendor, WebhookBot.name, WebhookBot.webhook_url,
                                    WebhookBot.secret, WebhookBot.per_minute).where(WebhookBot.id == bot_id)).one()
    used = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.bot_id == bot_id,
            or_(OutboxMessage.last_attempt_at > now - RATE_WINDOW,
                (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until >= now))))
    ids = _claim(now, OutboxMessage.bot_id == bot_id, max(0, bot.per_minute - used))
    db.session.commit()
    vendor = BotVendor(bot.vendor)
    return _Robot(bot.id, vendor.value, vendor.label, bot.webhook_url, bot.secret or ""), ids


def _deliver_bot(bot: _Robot, messages: list[_Outgoing], now: datetime, counts: dict) -> None:
    """Post a robot's claimed messages in order, spaced as its platform requires."""
    interval = webhooks.MIN_INTERVAL_SECONDS.get(bot.vendor, 0.0)
    pause: tuple[datetime, str] | None = None
    last = 0.0
    for msg in messages:
        if pause is not None:
            _postpone(msg, *pause)
            counts["deferred"] += 1
            continue
        wait = last + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last = time.monotonic()
        try:
            webhooks.post(bot.vendor, bot.url, bot.secret, webhooks.Post(msg.subject, msg.body_text, msg.link))
        except webhooks.WebhookError as exc:
            if exc.throttled:
                until = now + timedelta(seconds=webhooks.THROTTLE_PAUSE_SECONDS.get(bot.vendor, 60))
                reason = f"{bot.label}限流，稍后重发：{exc}"
                _postpone(msg, until, reason, attempted=True)
                pause = (until, reason)
                counts["deferred"] += 1
            else:
                retry_at = _failed(msg, f"{bot.label}：{exc}", now)
                counts["failed"] += 1
                if exc.connection:
                    pause = (retry_at or now + _backoff(MAX_ATTEMPTS), f"机器人服务器不可用，等待重试：{exc}")
        else:
            _succeeded(msg)
            counts["sent"] += 1


def _bury_orphans(now: datetime, counts: dict) -> None:
    """IM messages whose robot was deleted cannot be delivered: mark them failed for the admin to see."""
    buried = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel.in_(IM_CHANNELS), OutboxMessage.bot_id.is_(None), _due(now))
        .values(status=OutboxStatus.DEAD, claimed_until=None, last_error="接收消息的群机器人已被删除"),
        execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    counts["failed"] += buried


# --- delivering ------------------------------------------------------------------------------

def deliver_pending(now: datetime | None = None, time_budget: float = 50.0) -> dict:
    """Deliver every due message once; failures are retried with backoff. Commits.

    Returns counts: sent, failed (an attempt that did not go through) and deferred (put back
    without an attempt because the channel is down or a robot asked us to slow down).
    """
    now = now or utcnow()
    started = time.monotonic()
    counts = {"sent": 0, "failed": 0, "deferred": 0}
    db.session.commit()  # start from a clean transaction: the claims below must be the first writes
    while time.monotonic() - started < time_budget:
        ids = _claim(now, OutboxMessage.channel == "email", BATCH)
        db.session.commit()
        if not ids:
            break
        _deliver_emails(_load(ids), now, counts)
        if len(ids) < BATCH:
            break
    bot_ids = db.session.scalars(select(distinct(OutboxMessage.bot_id)).where(
        _due(now), OutboxMessage.bot_id.is_not(None)).order_by(OutboxMessage.bot_id)).all()
    db.session.commit()
    for bot_id in bot_ids:
        if time.monotonic() - started >= time_budget:
            break
        bot, ids = _claim_for_bot(bot_id, now)
        if ids:
            _deliver_bot(bot, _load(ids), now, counts)
    _bury_orphans(now, counts)
    return counts


def deliver_in_background(app) -> threading.Thread:
    """Deliver the outbox on a thread, for single-process mode right after a commit."""
    def run():
        with app.app_context():
            try:
                deliver_pending()
            except Exception:  # logged; the tick retries whatever is left
                log.exception("background delivery failed")
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="outbox-deliver", daemon=True)
    thread.start()
    return thread


def recent_messages(limit: int = 100) -> list[OutboxMessage]:
    """List the newest outbox messages, for the admin's delivery page."""
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


# --- job locks -------------------------------------------------------------------------------

def lock_job(name: str, holder: str = "") -> bool:
    """Lock a named job for the rest of the current transaction; False when another run holds it.

    Call it as the transaction's first statement. PostgreSQL waits at most a few seconds for the
    row; SQLite waits its busy timeout for the write lock. The lock ends with commit or rollback.
    """
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.exc import OperationalError

    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(JobLock).values(name=name, holder="").on_conflict_do_nothing(index_elements=["name"]))
    db.session.commit()
    try:
        if dialect == "postgresql":
            db.session.execute(select(func.set_config("lock_timeout", "3s", True)))
        locked = db.session.execute(update(JobLock).where(JobLock.name == name)
                                    .values(locked_at=utcnow(), holder=holder[:100])).rowcount
    except OperationalError:
        db.session.rollback()
        return False
    return bool(locked)


# --- administering robots --------------------------------------------------------------------

def list_bots() -> list[WebhookBot]:
    """Every robot, by department."""
    from minutes.people.models import Department

    return list(db.session.scalars(select(WebhookBot).join(Department, WebhookBot.department_id == Department.id)
                                   .order_by(Department.id, WebhookBot.id)))


def get_bot(bot_id) -> WebhookBot:
    bot = get_by_id(WebhookBot, bot_id)
    if bot is None:
        raise NotFound("该群机器人不存在")
    return bot


def _bot_fields(department_id, vendor: str, name: str, webhook_url: str, secret: str, per_minute) -> tuple:
    errors: dict[str, str] = {}
    dept = None
    try:
        dept = department_by_id(department_id)
    except NotFound:
        errors["department_id"] = "请选择部门"
    try:
        vendor = BotVendor(vendor)
    except ValueError:
        errors["vendor"] = "请选择平台：钉钉、企业微信或飞书"
        vendor = None
    name = (name or "").strip()
    if not name:
        errors["name"] = "请填写名称，例如“产品部工作群”"
    elif len(name) > 100:
        errors["name"] = "名称不超过100个字"
    url = (webhook_url or "").strip()
    if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url):
        errors["webhook_url"] = "请粘贴机器人的 Webhook 地址（以 https:// 开头）"
    elif len(url) > 500:
        errors["webhook_url"] = "Webhook 地址过长"
    elif vendor == BotVendor.WECOM and "key=" not in url:
        errors["webhook_url"] = "企业微信群机器人的地址应包含 key=…"
    secret = (secret or "").strip()
    if len(secret) > 200:
        errors["secret"] = "密钥过长"
    elif secret and vendor == BotVendor.WECOM:
        errors["secret"] = "企业微信群机器人没有加签密钥，请留空"
    if str(per_minute or "").strip() == "" and vendor is not None:
        limit = webhooks.DEFAULT_PER_MINUTE[vendor.value]
    else:
        try:
            limit = int(str(per_minute).strip())
            if not 1 <= limit <= 1000:
                raise ValueError
        except ValueError:
            errors["per_minute"] = "每分钟条数须为1–1000之间的整数"
            limit = None
    if vendor is not None and limit and limit > webhooks.DEFAULT_PER_MINUTE[vendor.value]:
        errors["per_minute"] = (f"{vendor.label}机器人每分钟最多接收{webhooks.DEFAULT_PER_MINUTE[vendor.value]}条消息，"
                                "超过会被限流")
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
        raise ValidationFailed("该机器人已停用，请先启用")
    base_url = current_app.config["BASE_URL"].rstrip("/")
    stamp = utcnow().strftime("%Y%m%d%H%M%S%f")
    return enqueue_im(bot, "【测试消息】会议纪要系统", f"这是一条测试消息，由 {actor.name} 发送。\n\n收到即表示 {bot.name} 已配置成功。",
                      f"{base_url}/", dedupe_key=f"bot-test:{bot.id}:{stamp}")


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


def retry(actor, message_id) -> OutboxMessage:
    """Make a failed (or backed-off) message due now; the next delivery tries it again (admin only)."""
    require_admin(actor)
    msg = get_by_id(OutboxMessage, message_id)
    if msg is None:
        raise NotFound("该消息不存在")
    if msg.status not in (OutboxStatus.DEAD, OutboxStatus.PENDING):
        raise RuleViolation(f"该消息状态为“{msg.status.label}”，只有发送失败或待发送的消息可以重试")
    msg.status, msg.next_attempt_at, msg.claimed_until = OutboxStatus.PENDING, utcnow(), None
    if msg.attempts >= MAX_ATTEMPTS:
        msg.attempts = MAX_ATTEMPTS - 1  # one more try; a new failure gives up again
    db.session.flush()
    db.session.info["outbox_dirty"] = True
    return msg


def bot_messages(bot: WebhookBot, limit: int = 50) -> list[OutboxMessage]:
    """A robot's newest messages, failures first."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.bot_id == bot.id)
                                   .order_by((OutboxMessage.status == OutboxStatus.DEAD).desc(),
                                             OutboxMessage.id.desc()).limit(limit)))
