"""The outbox: enqueue messages in the caller's transaction; what became of a send, for the sender and the admin.

Channels: email (SMTP) and group robots by webhook (钉钉 / 企业微信 / 飞书, one or more per
department). A message is queued here in the caller's transaction; `minutes.notify.delivery`
delivers it later, with retries, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from minutes import aftercommit
from minutes.core.errors import NotFound, RuleViolation
from minutes.core.timefmt import relative_cn, utcnow
from minutes.dbtypes import get_by_id, insert_many
from minutes.extensions import db
from minutes.notify.delivery import deliver_in_background
from minutes.notify.models import OutboxMessage, OutboxStatus, WebhookBot
from minutes.people.service import require_admin


# --- enqueueing ------------------------------------------------------------------------------

def _exists(dedupe_key: str | None) -> bool:
    return dedupe_key is not None and db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def _add(msg: OutboxMessage) -> OutboxMessage:
    db.session.add(msg)
    db.session.flush()
    deliver_after_commit()
    return msg


def one_line(text: str) -> str:
    """Fold every run of whitespace (line breaks included) into one space: for subjects and titles."""
    return " ".join((text or "").split())


#: Characters group robots (钉钉, 企业微信) read as Markdown or HTML, and the full-width forms shown instead.
_IM_MARKUP = str.maketrans("[]()<>*_#!`|~\\", "［］（）＜＞＊＿＃！｀｜～＼")


def im_text(text) -> str:
    """User text for a robot message: no link, image, tag or emphasis can come out of it.

    A robot renders the message as Markdown, so `[点我](http://…)` or `<font>` typed into an action
    would turn into live markup in the group chat. The markup characters become their full-width
    forms (readable, never parsed); the message's own Markdown (bold names, the quote) stays.
    """
    return str(text or "").translate(_IM_MARKUP)


def enqueue_email(recipient: str, subject: str, body_text: str, body_html: str | None = None,
                  dedupe_key: str | None = None, link: str = "", confidential: bool = False,
                  calendar: bytes | str | None = None) -> OutboxMessage | None:
    """Add an email to the outbox in the current transaction; skip a duplicate key.

    `confidential`: about a confidential meeting (its subject is not shown on the outbox page).
    `calendar`: an iCalendar invitation (METHOD REQUEST or CANCEL) the e-mail carries.
    The subject is one line: user text in it (an action typed on two lines) is folded, else the
    header-injection guard at delivery would refuse the mail for good."""
    if not recipient or _exists(dedupe_key):
        return None
    return _add(OutboxMessage(channel="email", recipient=recipient, subject=one_line(subject)[:300], body_text=body_text,
                              body_html=body_html, dedupe_key=dedupe_key, link=link, next_attempt_at=utcnow(),
                              confidential=bool(confidential),
                              calendar=calendar.decode("utf-8") if isinstance(calendar, bytes) else calendar))


def enqueue_im(bot: WebhookBot, title: str, text: str, link: str = "",
               dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue a post to one group robot in the current transaction; skip a duplicate key."""
    if not bot.enabled or _exists(dedupe_key):
        return None
    return _add(OutboxMessage(channel=bot.vendor.value, recipient=bot.label[:500], bot_id=bot.id,
                              subject=one_line(title)[:300], body_text=text, link=link, dedupe_key=dedupe_key,
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


def enqueue_other(msg: OutboxMessage) -> OutboxMessage | None:
    """Queue a message of a channel another domain delivers (chat cards) in the current transaction; skip a
    duplicate key."""
    if _exists(msg.dedupe_key):
        return None
    return _add(msg)


#: Rows per statement of a bulk enqueue (the IN list of the duplicate check stays small).
BULK_CHUNK = 1000
_BULK_DEFAULTS = dict(bot_id=None, body_html=None, link="", confidential=False, calendar=None)


def enqueue_bulk(rows: list[dict], now) -> dict[str, int]:
    """Queue many messages in the current transaction at once (the reminder run: thousands of rows, no objects).

    Each row holds an outbox message's columns (channel, recipient, subject, body_text, dedupe_key, and
    optionally body_html, link, bot_id, confidential); keys starting with "_" are the caller's and ignored.
    A key already in the outbox is skipped, as `enqueue_email` does. Returns the new messages' ids by their
    dedupe key. Delivery is left to the caller (the tick delivers right after), not started on commit."""
    table = OutboxMessage.__table__
    ids: dict[str, int] = {}
    for start in range(0, len(rows), BULK_CHUNK):
        chunk = rows[start:start + BULK_CHUNK]
        keys = [r["dedupe_key"] for r in chunk]
        existing = set(db.session.scalars(select(table.c.dedupe_key).where(table.c.dedupe_key.in_(keys))))
        values, seen = [], set()
        for r in chunk:
            key = r["dedupe_key"]
            if key in existing or key in seen:
                continue
            seen.add(key)
            row = dict(_BULK_DEFAULTS)
            row.update({k: v for k, v in r.items() if not k.startswith("_")})
            row.update(subject=one_line(row["subject"])[:300], status=OutboxStatus.PENDING, attempts=0,
                       next_attempt_at=now, created_at=now)
            values.append(row)
        if not values:
            continue
        insert_many(table, values)
        ids.update(db.session.execute(select(table.c.dedupe_key, table.c.id)
                                      .where(table.c.dedupe_key.in_(list(seen)))).all())
    return ids


def department_bots(department_id: int) -> list[WebhookBot]:
    """The enabled robots of a department."""
    return list(db.session.scalars(select(WebhookBot).where(WebhookBot.department_id == department_id,
                                                            WebhookBot.enabled.is_(True))
                                   .order_by(WebhookBot.id)))


#: New outbox messages in this transaction (see minutes.aftercommit).
OUTBOX_WRITTEN = "outbox_dirty"


def init_app(app) -> None:
    """In single-process mode (OUTBOX_DELIVER_ON_COMMIT), deliver new messages right after their commit."""
    aftercommit.after_commit(OUTBOX_WRITTEN, _deliver_after_commit)


def deliver_after_commit() -> None:
    """Note that this transaction wrote outbox messages: the commit hook may deliver them at once."""
    aftercommit.note(db.session, OUTBOX_WRITTEN)


def keep_delivery_for_caller() -> None:
    """Tell the commit hook not to start a background delivery: the caller delivers itself."""
    aftercommit.forget(db.session, OUTBOX_WRITTEN)


def _deliver_after_commit(session, noted) -> None:
    """In single-process mode, deliver new outbox messages right after the commit that wrote them."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    if app.config.get("OUTBOX_DELIVER_ON_COMMIT"):
        deliver_in_background(app)


# --- delivery state for the sender ---------------------------------------------------------

#: Errors that mean the mail server cannot be reached at all (not one message refused).
_UNREACHABLE = ("ConnectionRefused", "ConnectionError", "ConnectionReset", "TimeoutError", "timed out", "gaierror",
                "SMTPConnectError", "SMTPServerDisconnected", "OSError", "邮件服务器不可用")


def unreachable(error: str | None) -> bool:
    """Whether a delivery error says the mail server could not be reached."""
    return bool(error) and any(mark in error for mark in _UNREACHABLE)


@dataclass
class Delivery:
    """One recipient's message of a send, as the sender sees it."""

    recipient: object  #: whoever the caller said the message is for (a User)
    message: OutboxMessage

    @property
    def state(self) -> str:
        """queued (待发送, including a failed attempt that will be retried), sent, or failed (given up)."""
        return {OutboxStatus.SENT: "sent", OutboxStatus.DEAD: "failed"}.get(self.message.status, "queued")

    @property
    def retrying(self) -> bool:
        return self.state == "queued" and bool(self.message.last_error)

    @property
    def retry_text(self) -> str:
        """When the next attempt is: 1分钟内重试 / 25分钟后重试."""
        if self.message.next_attempt_at <= utcnow() + timedelta(minutes=1):
            return gettext("1分钟内重试")
        return gettext("%(when)s重试", when=relative_cn(self.message.next_attempt_at))


@dataclass
class DeliveryReport:
    """What became of the messages of one send (an agenda, a minutes version): per recipient, and whether the
    mail server can be reached at all."""

    deliveries: list[Delivery]
    dev_mailbox: bool

    def count(self, state: str) -> int:
        return sum(1 for d in self.deliveries if d.state == state)

    @property
    def waiting(self) -> bool:
        """Something is still queued: the sender's page keeps asking."""
        return any(d.state == "queued" for d in self.deliveries)

    @property
    def soon(self) -> bool:
        """Something queued is due now (not waiting for a retry minutes away): ask again in seconds."""
        now = utcnow()
        return any(d.state == "queued" and (not d.retrying or d.message.next_attempt_at <= now + timedelta(seconds=30))
                   for d in self.deliveries)

    @property
    def mail_down(self) -> str | None:
        """The error when the latest attempts could not reach the mail server (None when mail goes out)."""
        tried = [d.message for d in self.deliveries
                 if d.message.channel == "email" and (d.message.last_attempt_at or d.message.last_error)]
        if not tried:
            return None
        latest = max(tried, key=lambda m: (m.last_attempt_at or m.created_at, m.id))
        if latest.status != OutboxStatus.SENT and unreachable(latest.last_error):
            return latest.last_error
        return None


def delivery_report(recipients: dict[str, object]) -> DeliveryReport:
    """The messages of one send, found by their dedupe keys (key → recipient), in the order given."""
    keys = list(recipients)
    found = {m.dedupe_key: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.in_(keys)))} if keys else {}
    return DeliveryReport([Delivery(recipients[key], found[key]) for key in keys if key in found],
                          dev_mailbox=bool(current_app.config.get("MAIL_DEV_MAILBOX")))


def dev_mailbox_messages(limit: int = 200) -> list[OutboxMessage]:
    """The email the app sent in local-mailbox mode, newest first (the page that shows it exists only then)."""
    if not current_app.config.get("MAIL_DEV_MAILBOX"):
        raise NotFound(gettext("页面不存在或您无权查看"))
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")
                                   .order_by(OutboxMessage.id.desc()).limit(limit)))


def dev_mailbox_message(message_id) -> OutboxMessage:
    """One email of the local mailbox (the page exists only in that mode)."""
    if not current_app.config.get("MAIL_DEV_MAILBOX"):
        raise NotFound(gettext("页面不存在或您无权查看"))
    message = get_by_id(OutboxMessage, message_id)
    if message is None or message.channel != "email":
        raise NotFound(gettext("该消息不存在"))
    return message


def recent_messages(limit: int = 100) -> list[OutboxMessage]:
    """List the newest outbox messages, for the admin's delivery page."""
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


def retry(actor, message_id) -> OutboxMessage:
    """Make a failed (or backed-off) message due now; the next delivery tries it again (admin only).

    The one retry, for the outbox page and the robots' pages alike. An administrator retries once the cause is
    mended, so the attempt count starts over: the back-off starts again from its first step.
    """
    require_admin(actor)
    msg = get_by_id(OutboxMessage, message_id)
    if msg is None:
        raise NotFound(gettext("该消息不存在"))
    if msg.status not in (OutboxStatus.DEAD, OutboxStatus.PENDING):
        raise RuleViolation(gettext("该消息状态为“%(status)s”，只有发送失败或待发送的消息可以重试", status=msg.status.label))
    msg.status, msg.next_attempt_at, msg.claimed_until, msg.attempts = OutboxStatus.PENDING, utcnow(), None, 0
    db.session.flush()
    deliver_after_commit()
    return msg
