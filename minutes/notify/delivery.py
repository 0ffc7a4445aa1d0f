"""Deliver the queued messages later, with retries, once: the worker, e-mail (sent by notify/smtp.py), robots.

A message is claimed by exactly one deliverer with a single UPDATE before it is sent, so several
`flask minutes tick` processes (on several hosts) never send the same row. A robot's per-minute
limit is respected by counting its recent attempts while its row is locked: messages over the
limit simply stay queued for the next run, they are never dropped.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import bindparam, distinct, func, or_, select, update

from minutes.core.errors import describe_error
from minutes.core.timefmt import utcnow
from minutes.extensions import db
from minutes.notify import smtp as smtp_mail, webhooks
from minutes.notify.models import BotVendor, OutboxMessage, OutboxStatus, WebhookBot

log = logging.getLogger(__name__)

#: After this many failed attempts a message is given up (status dead) and shown to the admin.
MAX_ATTEMPTS = 12
CLAIM_SECONDS = 120
#: Messages claimed at a time by one sender; a run keeps claiming until nothing is due or its time is up.
BATCH = 250
#: Email senders working at once, each over its own SMTP connection (config MAIL_SENDERS).
MAIL_SENDERS = 3
#: A robot's limit is per minute; count a little more than a minute so clock skew never tips it over.
RATE_WINDOW = timedelta(seconds=65)
IM_CHANNELS = tuple(v.value for v in BotVendor)


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
    calendar: str | None = None


def _load(ids: list[int]) -> list[_Outgoing]:
    """Read claimed messages and end the read transaction (SQLite must not upgrade a stale read to a write)."""
    if not ids:
        return []
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient,
                                     OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html,
                                     OutboxMessage.link, OutboxMessage.attempts, OutboxMessage.calendar)
                              .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)).all()
    db.session.commit()
    return [_Outgoing(*row) for row in rows]


_OUTBOX = OutboxMessage.__table__
#: Built once: the SET clause comes from the parameters, so every outcome reuses a compiled statement.
_UPDATE_ONE = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id"))
_MARK_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id")).values(
    status=OutboxStatus.SENT, claimed_until=None, last_error=None)


def _record(conn, msg_id: int, **values) -> None:
    """Write one message's outcome in its own short transaction, right after sending it.

    One commit per message keeps the window in which a crash could make us send a message twice
    to the one message in flight. The UPDATE comes first in its transaction (it takes SQLite's write
    lock at once) and goes through Core on the deliverer's own connection: at thousands a minute, the
    ORM's bookkeeping and a pool checkout per message would show.
    """
    with _local_writer(conn):
        conn.execute(_UPDATE_ONE, {"message_id": msg_id, **values})
        conn.commit()


_SQLITE_WRITES = threading.Lock()


@contextmanager
def _local_writer(conn):
    """On SQLite, let this process's deliverer threads take turns in Python rather than in SQLite's busy
    handler, which sleeps in growing steps and turns a few threads' tiny commits into a queue of naps."""
    if conn.dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITES:
        yield


class _Receipts:
    """Successful sends, written in small groups: one commit per message costs more than the send itself
    on PostgreSQL (an fsync each). A crash can repeat at most the sends of the last group (20 messages
    or a tenth of a second); a concurrent deliverer never can (it cannot claim a row marked sending)."""

    GROUP, SECONDS = 20, 0.1

    def __init__(self, conn):
        self.conn, self.pending, self.since = conn, [], 0.0

    def add(self, msg: _Outgoing) -> None:
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((msg.id, msg.attempts + 1))
        if len(self.pending) >= self.GROUP or time.monotonic() - self.since >= self.SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        now = utcnow()
        with _local_writer(self.conn):
            self.conn.execute(_MARK_SENT, [{"message_id": msg_id, "attempts": attempts, "sent_at": now,
                                            "last_attempt_at": now} for msg_id, attempts in self.pending])
            self.conn.commit()
        self.pending = []


def _failed(conn, msg: _Outgoing, error: str, now: datetime) -> datetime | None:
    """Count a failed attempt; return when it will be tried again (None: given up)."""
    attempts = msg.attempts + 1
    retry_at = None if attempts >= MAX_ATTEMPTS else now + _backoff(attempts)
    log.warning("outbox %s (%s) delivery failed: %s", msg.id, msg.channel, error)
    _record(conn, msg.id, attempts=attempts, last_attempt_at=utcnow(), last_error=error[:2000], claimed_until=None,
            status=OutboxStatus.DEAD if retry_at is None else OutboxStatus.PENDING,
            **({"next_attempt_at": retry_at} if retry_at else {}))
    return retry_at


def _postpone(conn, msg: _Outgoing, until: datetime, reason: str, attempted: bool = False) -> None:
    """Put a claimed message back without spending an attempt (its channel is down or throttled)."""
    extra = {"last_attempt_at": utcnow()} if attempted else {}
    _record(conn, msg.id, status=OutboxStatus.PENDING, claimed_until=None, next_attempt_at=until,
            last_error=reason[:2000], **extra)


# --- email -----------------------------------------------------------------------------------

def _deliver_emails(messages: list[_Outgoing], now: datetime, counts: dict) -> None:
    """Send a batch over one SMTP connection; if the server is unreachable the rest wait unspent."""
    smtp = None
    down: tuple[datetime, str] | None = None
    sender = current_app.config["SMTP_SENDER"]
    domain = sender.rsplit("@", 1)[-1] or "minutes"
    with db.engine.connect() as conn:
        receipts = _Receipts(conn)
        try:
            for msg in messages:
                if down is not None:
                    _postpone(conn, msg, *down)
                    counts["deferred"] += 1
                    continue
                try:
                    data = smtp_mail.build_email(msg, sender, domain)
                    if smtp is None:
                        smtp = smtp_mail.connect()
                    smtp.send_one(sender, msg.recipient, data)
                except smtp_mail.MESSAGE_REFUSED as exc:
                    receipts.flush()
                    _failed(conn, msg, f"{type(exc).__name__}: {exc}", now)
                    counts["failed"] += 1
                except Exception as exc:  # the server is down or dropped us: the batch waits
                    receipts.flush()
                    error = f"{type(exc).__name__}: {exc}"
                    retry_at = _failed(conn, msg, error, now)
                    counts["failed"] += 1
                    down = (retry_at or now + _backoff(MAX_ATTEMPTS), f"邮件服务器不可用，等待重试：{error}")
                    smtp = smtp_mail.close(smtp)
                else:
                    receipts.add(msg)
                    counts["sent"] += 1
        finally:
            receipts.flush()
            smtp_mail.close(smtp)


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
    with _local_writer(db.session.connection()):
        return _claim_for_bot_locked(bot_id, now)


def _claim_for_bot_locked(bot_id: int, now: datetime) -> tuple[_Robot | None, list[int]]:
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
    vendor = BotVendor(bot.vendor)
    budget = min(bot.per_minute, webhooks.PACED_PER_MINUTE.get(vendor.value, bot.per_minute)) - used
    ids = _claim(now, OutboxMessage.bot_id == bot_id, max(0, budget))
    db.session.commit()
    return _Robot(bot.id, vendor.value, vendor.label, bot.webhook_url, bot.secret or ""), ids


#: Per-second pacing is process-local (a robot's other posts this second can only come from here, unless
#: two hosts post to one robot in the same second; then the platform says "too fast" and the robot rests).
_PACES: dict[int, "_Pace"] = {}
_PACES_LOCK = threading.Lock()


class _Pace:
    """A robot's pace within one run, for platforms with a per-second limit (飞书: 5 a second).

    A sliding window: a post may go when fewer than the limit went out in the last second (plus a
    margin for the network); so no one-second window ever holds more than the limit.
    """

    WINDOW = 1.1

    def __init__(self, vendor: str):
        self.limit = webhooks.PER_SECOND.get(vendor)
        self.sent: deque[float] = deque()

    @classmethod
    def of(cls, bot: "_Robot") -> "_Pace":
        """The robot's pace in this process, kept across runs: a run that starts right after another
        must see the posts the other made in the last second."""
        with _PACES_LOCK:
            pace = _PACES.get(bot.id)
            if pace is None or pace.limit != webhooks.PER_SECOND.get(bot.vendor):
                pace = _PACES[bot.id] = cls(bot.vendor)
            return pace

    def reserve(self) -> float:
        """Take a slot for a post now and return 0, or return the seconds until one frees up."""
        if not self.limit:
            return 0.0
        with _PACES_LOCK:
            now = time.monotonic()
            while self.sent and now - self.sent[0] >= self.WINDOW:
                self.sent.popleft()
            if len(self.sent) < self.limit:
                self.sent.append(now)
                return 0.0
            return self.WINDOW - (now - self.sent[0])


def _post_one(conn, receipts: "_Receipts", bot: _Robot, msg: _Outgoing, now: datetime,
              counts: dict) -> tuple[datetime, str] | None:
    """Post one message; return a pause (until, reason) when the robot's other messages must wait."""
    try:
        webhooks.post(bot.vendor, bot.url, bot.secret, webhooks.Post(msg.subject, msg.body_text, msg.link))
    except webhooks.WebhookError as exc:
        receipts.flush()
        if exc.throttled:
            until = now + timedelta(seconds=webhooks.THROTTLE_PAUSE_SECONDS.get(bot.vendor, 60))
            reason = gettext("%(bot)s限流，稍后重发：%(error)s", bot=bot.label, error=exc)
            _postpone(conn, msg, until, reason, attempted=True)
            counts["deferred"] += 1
            return until, reason
        retry_at = _failed(conn, msg, f"{bot.label}：{exc}", now)
        counts["failed"] += 1
        if exc.connection:
            return retry_at or now + _backoff(MAX_ATTEMPTS), gettext("机器人服务器不可用，等待重试：%(error)s", error=exc)
        return None
    receipts.add(msg)
    counts["sent"] += 1
    return None


def _deliver_bots(batches: list[tuple[_Robot, list[_Outgoing]]], now: datetime, counts: dict) -> None:
    """Post the robots' claimed messages, each robot's in order, taking turns so one robot's pace
    (飞书: 5 a second) never holds up the others."""
    queues = [(bot, deque(messages), _Pace.of(bot)) for bot, messages in batches if messages]
    if not queues:
        return
    with db.engine.connect() as conn:
        receipts = _Receipts(conn)
        try:
            _take_turns(conn, receipts, queues, now, counts)
        finally:
            receipts.flush()


def _take_turns(conn, receipts: "_Receipts", queues: list, now: datetime, counts: dict) -> None:
    """One post per robot per round; when every remaining robot must wait for its pace, sleep."""
    while queues:
        posted, soonest = False, None
        for entry in list(queues):
            bot, queue, pace = entry
            wait = pace.reserve()
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            posted = True
            pause = _post_one(conn, receipts, bot, queue.popleft(), now, counts)
            if pause is not None:
                while queue:
                    _postpone(conn, queue.popleft(), *pause)
                    counts["deferred"] += 1
            if not queue:
                queues.remove(entry)
        if not posted and soonest is not None:
            receipts.flush()  # nothing else to do meanwhile: record what went out
            time.sleep(soonest)


def _bury_orphans(now: datetime, counts: dict) -> None:
    """IM messages whose robot was deleted cannot be delivered: mark them failed for the admin to see."""
    with _local_writer(db.session.connection()):
        buried = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel.in_(IM_CHANNELS), OutboxMessage.bot_id.is_(None), _due(now))
            .values(status=OutboxStatus.DEAD, claimed_until=None, last_error=gettext("接收消息的群机器人已被删除")),
            execution_options={"synchronize_session": False}).rowcount
        db.session.commit()
    counts["failed"] += buried


# --- channels other domains deliver (chat cards) ---------------------------------------------

class Undeliverable(Exception):
    """A message of a registered channel that can never go out (its recipient is unknown there): failed at once,
    not retried; the message says what was done instead."""


def register_channel(app, channel: str, send, share=None) -> None:
    """Have `send(message)` deliver the outbox messages of `channel` (an exception is a failed attempt, retried
    with back-off). `share(config)`, when given, is (most messages, most seconds) one delivery pass gives the
    channel (a paced one): what is left waits, due, for the next pass, as a robot's messages over its minute do.
    Registered by the owning domain's blueprint when the app is made."""
    app.extensions.setdefault("outbox_channels", {})[channel] = (send, share)


def _release(conn, ids: list[int]) -> None:
    """Put claimed messages that were not attempted back in the queue, due at once, no attempt counted."""
    if ids:
        with _local_writer(conn):
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                         .values(status=OutboxStatus.PENDING, claimed_until=None))
            conn.commit()


def _deliver_channels(now: datetime, counts: dict, time_budget: float) -> None:
    started = time.monotonic()
    for channel, (send, share) in (current_app.extensions.get("outbox_channels") or {}).items():
        left, seconds = share(current_app.config) if share else (None, time_budget)
        until = min(started + time_budget, time.monotonic() + seconds)
        while time.monotonic() < until and (left is None or left > 0):
            with _local_writer(db.session.connection()):
                ids = _claim(now, OutboxMessage.channel == channel, BATCH if left is None else min(BATCH, left))
                db.session.commit()
            if not ids:
                break
            if left is not None:
                left -= len(ids)
            messages = _load(ids)
            with db.engine.connect() as conn:
                receipts = _Receipts(conn)
                try:
                    for n, msg in enumerate(messages):
                        if time.monotonic() >= until:  # the channel's share of this pass is spent
                            receipts.flush()
                            _release(conn, [m.id for m in messages[n:]])
                            break
                        try:
                            send(msg)
                        except Undeliverable as exc:
                            db.session.rollback()
                            receipts.flush()
                            _record(conn, msg.id, attempts=msg.attempts + 1, last_attempt_at=utcnow(),
                                    last_error=str(exc)[:2000], claimed_until=None, status=OutboxStatus.DEAD)
                            counts["failed"] += 1
                        except Exception as exc:  # the platform refused it or is down: retried later
                            db.session.rollback()
                            receipts.flush()
                            _failed(conn, msg, describe_error(exc), now)
                            counts["failed"] += 1
                        else:
                            receipts.add(msg)
                            counts["sent"] += 1
                finally:
                    receipts.flush()
            if len(ids) < BATCH:
                break


# --- delivering ------------------------------------------------------------------------------

def deliver_pending(now: datetime | None = None, time_budget: float = 50.0) -> dict:
    """Deliver every due message once; failures are retried with backoff. Commits.

    Returns counts: sent, failed (an attempt that did not go through) and deferred (put back
    without an attempt because the channel is down or a robot asked us to slow down).

    The work runs on a few threads, each with its own app context, session and connections: email
    senders (each claims its own batches, so they never share a message) and one for the robots,
    which are paced (飞书: 4 a second). Most of the time is spent waiting on servers; the waits overlap.
    """
    now = now or utcnow()
    db.session.commit()  # start from a clean transaction: the claims below must be the first writes
    app = current_app._get_current_object()
    senders = max(1, int(app.config.get("MAIL_SENDERS", MAIL_SENDERS)))
    # The other email senders start once the first has claimed its batch: a short queue is one batch for
    # one sender (and a mail server that is down costs one attempt, not one per sender racing for the rows).
    first_claim = threading.Event()

    def follow(counts):
        if first_claim.wait(time_budget):
            _deliver_email_batches(now, counts, time_budget)

    jobs = [lambda c: _deliver_robots(now, c), lambda c: _deliver_email_batches(now, c, time_budget, first_claim)]
    if app.extensions.get("outbox_channels"):
        jobs.append(lambda c: _deliver_channels(now, c, time_budget))
    jobs += [follow] * (senders - 1)
    results = [{"sent": 0, "failed": 0, "deferred": 0} for _ in jobs]
    errors: list[BaseException] = []

    def run(job, counts):
        with app.app_context():
            try:
                job(counts)
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job, counts), name="outbox-deliver")
               for job, counts in zip(jobs, results)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {key: sum(r[key] for r in results) for key in results[0]}


def _deliver_email_batches(now: datetime, counts: dict, time_budget: float,
                           claimed: threading.Event | None = None) -> None:
    """Claim and send batches of due email until none is left or the time is up; `claimed` is set once
    the first claim is committed (or came to nothing)."""
    started = time.monotonic()
    try:
        while time.monotonic() - started < time_budget:
            with _local_writer(db.session.connection()):
                ids = _claim(now, OutboxMessage.channel == "email", BATCH)
                db.session.commit()
            if claimed is not None:
                claimed.set()
            if not ids:
                return
            _deliver_emails(_load(ids), now, counts)
            if len(ids) < BATCH:
                return
    finally:
        if claimed is not None:
            claimed.set()  # whatever happened, the others must not wait for it


def _deliver_robots(now: datetime, counts: dict) -> None:
    bot_ids = db.session.scalars(select(distinct(OutboxMessage.bot_id)).where(
        _due(now), OutboxMessage.bot_id.is_not(None)).order_by(OutboxMessage.bot_id)).all()
    db.session.commit()
    batches = []
    for bot_id in bot_ids:
        bot, ids = _claim_for_bot(bot_id, now)
        if ids:
            batches.append((bot, _load(ids)))
    _deliver_bots(batches, now, counts)
    _bury_orphans(now, counts)


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
