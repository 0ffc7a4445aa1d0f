"""Enqueue messages in the caller's transaction; deliver them later, with retries, once."""
import logging
import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from sqlalchemy import or_, select, update

from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.notify.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120


def enqueue_email(recipient: str, subject: str, body_text: str, body_html: str | None = None,
                  dedupe_key: str | None = None) -> OutboxMessage | None:
    """Add an email to the outbox in the current transaction; skip a duplicate key."""
    if not recipient:
        return None
    if dedupe_key is not None:
        existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    msg = OutboxMessage(channel="email", recipient=recipient, subject=subject, body_text=body_text,
                        body_html=body_html, dedupe_key=dedupe_key, next_attempt_at=utcnow())
    db.session.add(msg)
    db.session.flush()
    db.session.info["outbox_dirty"] = True
    return msg


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _claim(now) -> list[int]:
    """Claim due messages for this deliverer; a concurrent deliverer cannot claim the same ones."""
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.next_attempt_at <= now)
        .where(or_(OutboxMessage.status == OutboxStatus.PENDING,
                   (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now)))
        .order_by(OutboxMessage.id)
        .limit(500)
    ).all()
    claimed = []
    for msg_id in due:
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == msg_id)
            .where(or_(OutboxMessage.status == OutboxStatus.PENDING,
                       (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now)))
            .values(status=OutboxStatus.SENDING, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        )
        if result.rowcount == 1:
            claimed.append(msg_id)
    db.session.commit()
    return claimed


def _send_email(msg: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["Subject"] = msg.subject
    email["From"] = formataddr(("会议纪要系统", cfg["SMTP_SENDER"]))
    email["To"] = msg.recipient
    email["Message-ID"] = make_msgid(idstring=f"outbox{msg.id}")
    email.set_content(msg.body_text)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html")
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=15) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(email)


SENDERS = {"email": _send_email}


def deliver_pending(now=None) -> dict:
    """Deliver every due message once; failures are retried with backoff. Commits."""
    now = now or utcnow()
    counts = {"sent": 0, "failed": 0}
    for msg_id in _claim(now):
        msg = db.session.get(OutboxMessage, msg_id)
        try:
            SENDERS[msg.channel](msg)
        except Exception as exc:  # any channel failure is retried, never lost
            msg.attempts += 1
            msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = OutboxStatus.DEAD
            else:
                msg.status = OutboxStatus.PENDING
                msg.next_attempt_at = now + _backoff(msg.attempts)
            counts["failed"] += 1
            log.warning("outbox %s delivery failed: %s", msg.id, msg.last_error)
        else:
            msg.attempts += 1
            msg.status = OutboxStatus.SENT
            msg.sent_at = utcnow()
            msg.last_error = None
            counts["sent"] += 1
        db.session.commit()
    return counts


def deliver_in_background(app) -> threading.Thread:
    """Deliver the outbox on a thread, for single-process mode right after a commit."""
    def run():
        with app.app_context():
            try:
                deliver_pending()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="outbox-deliver", daemon=True)
    thread.start()
    return thread


def recent_messages(limit: int = 100) -> list[OutboxMessage]:
    """List the newest outbox messages, for the admin's delivery page."""
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
