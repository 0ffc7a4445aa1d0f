"""Personal cards through the company's chat app: who gets one, what it says, queued in the outbox.

One platform is configured (CHAT_PLATFORM = feishu, dingtalk or wecom, with that vendor's app settings). A
person with an identity on it (minutes.identity: ExternalIdentity, provider = the platform) gets a card
instead of the e-mail; everyone else keeps the e-mail. A card is an outbox message on channel "chat" under
the same dedupe key the e-mail would have had (so a person gets one or the other, once) plus a ChatCard
row that names it in the callbacks. The agenda card (查看议程) is the exception: it goes beside the agenda
e-mail, whose calendar invitation everyone needs (minutes.meetings.sending). The delivery worker sends a card
with the platform's own API (one module per vendor), retried with back-off like every other message.

What a card says is kept vendor-neutral here (a dict: title, lines, link, choices); each vendor module
turns it into its format. Pressing a button is minutes.chat.answers (above actions and records).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import deque
from datetime import date

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import insert, select, update

from minutes.chat.models import ChatCard
from minutes.core.timefmt import cn_date, cn_datetime, cn_time, to_local, utcnow
from minutes.extensions import db, write_intent
from minutes.identity.models import ExternalIdentity
from minutes.notify import service as notify
from minutes.notify.delivery import Undeliverable
from minutes.notify.models import CHANNEL_LABELS, OutboxMessage
from minutes.people.models import Department, User

CHANNEL = "chat"
PLATFORMS = ("feishu", "dingtalk", "wecom")
#: The settings each platform's cards need (its sign-in settings name the app; the callback ones verify presses).
SETTINGS = {
    "feishu": ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_CARD_ENCRYPT_KEY"),
    "wecom": ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_CALLBACK_TOKEN", "WECOM_ENCODING_AES_KEY"),
    "dingtalk": ("DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_AGENT_ID"),
}

#: Buttons of an action reminder and of a sign-off request (the labels are the tracker's and the minutes page's).
ACTION_CHOICES = {"in_progress": lazy_gettext("进行中"), "done": lazy_gettext("已完成"), "delay": lazy_gettext("延期"),
                  "support": lazy_gettext("需支持")}
MINUTES_CHOICES = {"confirm": lazy_gettext("确认无误"), "change": lazy_gettext("提出修改意见")}


def platform(config=None) -> str | None:
    """The configured chat platform when all its settings are given; None: everyone gets e-mail."""
    config = config if config is not None else current_app.config
    name = (config.get("CHAT_PLATFORM") or "").strip().lower()
    if name not in PLATFORMS or not all(config.get(key) for key in SETTINGS[name]):
        return None
    return name


def chat_subjects(user_ids) -> dict[int, str]:
    """user id → their user id on the configured platform, for those who have one (one query)."""
    name = platform()
    ids = sorted(set(user_ids))
    if name is None or not ids:
        return {}
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        found.update(db.session.execute(select(ExternalIdentity.user_id, ExternalIdentity.subject).where(
            ExternalIdentity.provider == name, ExternalIdentity.user_id.in_(ids[start:start + 500]))).all())
    return found


def _recipient(name: str, subject: str) -> str:
    """How the outbox lists a card's recipient: 飞书：<the person's user id there>."""
    return f"{CHANNEL_LABELS.get(name, name)}：{subject}"[:500]


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --- what a card says ------------------------------------------------------------------------

def short_time(when) -> str:
    """12月5日 10:32, company-local: what a card shows after a press."""
    local = to_local(when)
    return gettext("%(month)s月%(day)s日 %(time)s", month=local.month, day=local.day, time=f"{local:%H:%M}")


def action_card(text: str, due: date, status_label: str, topic: str, link: str, departments=(),
                result: str | None = None, open_: bool = True, heading: str | None = None) -> dict:
    """A reminder card for an action's owner: 进行中 / 已完成 buttons, 延期 with a date, 需支持 with a department."""
    card = {"kind": "action", "title": heading or gettext("待办提醒"), "link": link,
            "lines": [text, gettext("截止日期：%(due)s", due=cn_date(due)), gettext("当前状态：%(status)s", status=status_label),
                      gettext("会议：%(topic)s", topic=topic)],
            "result": result, "choices": [], "departments": []}
    if open_:
        card["choices"] = [[key, str(label)] for key, label in ACTION_CHOICES.items()]
        card["departments"] = [[str(d_id), name] for d_id, name in departments][:100]
    return card


def minutes_card(topic: str, version_label: str, due_on: date | None, link: str, result: str | None = None,
                 open_: bool = True) -> dict:
    """A sign-off request: 确认无误, or 提出修改意见 with a comment."""
    lines = [gettext("会议：%(topic)s", topic=topic), gettext("版本：%(version)s", version=version_label)]
    if due_on is not None:
        lines.append(gettext("请在%(due)s前回复", due=cn_date(due_on)))
    return {"kind": "minutes", "title": gettext("请确认会议纪要"), "link": link, "lines": lines, "result": result,
            "choices": [[key, str(label)] for key, label in MINUTES_CHOICES.items()] if open_ else [], "departments": []}


#: The agenda card lists at most this many items (the page has them all), each title cut to AGENDA_TITLE_CHARS.
AGENDA_ITEMS_SHOWN = 10
AGENDA_TITLE_CHARS = 30


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def agenda_card(topic: str, starts_at, ends_at, location: str, online_link: str, host: str,
                items: list[tuple[str, int]], link: str, confidential: bool = False, heading: str | None = None,
                cancelled: bool = False) -> dict:
    """The agenda sent to an invitee: topic, time with weekday, place or online link, host, the items in order with
    their time boxes, and a 查看议程 button to the meeting page. A confidential meeting's card says no more than the
    other cards do (the topic, the time that the invitation e-mail puts in the calendar anyway, the link): place,
    online link and agenda stay behind the sign-in. `cancelled`: the meeting is off (no agenda on the card)."""
    lines = [gettext("会议：%(topic)s", topic=topic),
             gettext("时间：%(starts)s – %(ends)s", starts=cn_datetime(starts_at), ends=cn_time(ends_at))]
    if cancelled:
        lines.append(gettext("本次会议已取消"))
    elif confidential:
        lines.append(gettext("保密会议：地点、主持人和议程请登录后查看"))
    else:
        if location:
            lines.append(gettext("地点：%(location)s", location=location))
        if online_link:
            lines.append(gettext("线上会议：%(link)s", link=online_link))
        lines.append(gettext("主持人：%(host)s", host=host or "—"))
        shown = [gettext("%(position)s. %(title)s（%(minutes)s分钟）", position=n, title=_short(title, AGENDA_TITLE_CHARS),
                         minutes=minutes) for n, (title, minutes) in enumerate(items[:AGENDA_ITEMS_SHOWN], start=1)]
        if len(items) > AGENDA_ITEMS_SHOWN:
            shown.append(gettext("……共%(count)s项", count=len(items)))
        lines.append(gettext("议程：") + "\n" + "\n".join(shown))
    return {"kind": "agenda", "title": heading or gettext("会议议程"), "link": link,
            "link_label": gettext("查看会议") if cancelled else gettext("查看议程"),
            "lines": lines, "result": None, "choices": [], "departments": []}


def card_digest(card: dict) -> str:
    """What a card says, apart from its heading, in 12 hex digits: the same digest means nothing new to tell."""
    facts = json.dumps([card["lines"], card.get("link", "")], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(facts.encode("utf-8")).hexdigest()[:12]


def last_digests(key_prefix: str) -> dict[int, str]:
    """user id → digest of the latest card queued under `key_prefix`<user id>:<stamp>:<digest> (one query)."""
    keys = db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.channel == CHANNEL, OutboxMessage.dedupe_key.startswith(key_prefix, autoescape=True))
        .order_by(OutboxMessage.id)).all()
    found: dict[int, str] = {}
    for key in keys:
        parts = key[len(key_prefix):].split(":")
        if len(parts) == 3 and parts[0].isdigit():
            found[int(parts[0])] = parts[2]
    return found


def department_choices() -> list[tuple[int, str]]:
    """The departments a 需支持 card offers."""
    return list(db.session.execute(select(Department.id, Department.name).order_by(Department.name).limit(100)).all())


# --- queueing --------------------------------------------------------------------------------

def enqueue_card(user: User, subject: str, card: dict, dedupe_key: str, action_id: int | None = None,
                 version_id: int | None = None, confidential: bool = False) -> OutboxMessage | None:
    """Queue one card to one person in the current transaction; a duplicate key is a no-op (like e-mail)."""
    name = platform()
    if name is None:
        return None
    msg = notify.enqueue_other(OutboxMessage(channel=CHANNEL, recipient=_recipient(name, subject),
                                    subject=notify.one_line(card["title"] + "：" + card["lines"][0])[:300],
                                    body_text=json.dumps(card, ensure_ascii=False), link=card.get("link", ""),
                                    dedupe_key=dedupe_key, next_attempt_at=utcnow(), confidential=confidential))
    if msg is None:
        return None
    db.session.add(ChatCard(token=new_token(), platform=name, user_id=user.id, subject=subject, kind=card["kind"],
                            action_id=action_id, version_id=version_id, outbox_message_id=msg.id))
    db.session.flush()
    return msg


def outbox_row(user: User, subject: str, card: dict, dedupe_key: str, now, confidential: bool = False,
               **card_fields) -> dict:
    """An outbox row for a bulk insert (the reminder run); `add_cards` then writes its ChatCard."""
    name = platform()
    return dict(channel=CHANNEL, recipient=_recipient(name, subject),
                subject=notify.one_line(card["title"] + "：" + card["lines"][0])[:300],
                body_text=json.dumps(card, ensure_ascii=False), link=card.get("link", ""), dedupe_key=dedupe_key,
                confidential=confidential, next_attempt_at=now, created_at=now,
                _card=dict(token=new_token(), platform=name, user_id=user.id, subject=subject, kind=card["kind"],
                           created_at=now, **card_fields))


def add_cards(rows: list[dict]) -> None:
    """Write the ChatCard rows of bulk-inserted outbox rows (each with its `_card` and `outbox_message_id`)."""
    cards = [dict(row["_card"], outbox_message_id=row["outbox_message_id"]) for row in rows]
    if cards:
        db.session.execute(insert(ChatCard.__table__), cards)


# --- delivery (the outbox worker calls this for channel "chat") -----------------------------

#: Sends a second one app may make (飞书 im/v1/messages: 50/s; 企业微信 and 钉钉 kept at 20/s, under their
#: per-minute limits); CHAT_SENDS_PER_SECOND overrides. A "too fast" answer is a failed attempt, retried later.
PER_SECOND = {"feishu": 50, "wecom": 20, "dingtalk": 20}


def share(config) -> tuple[int, float]:
    """(cards, seconds) one delivery pass (a tick, or the delivery after a commit) gives the cards: at most
    CHAT_SECONDS_PER_PASS of sending, and no more cards than the platform's pace allows in it (飞书: 150 at 50 a
    second, under its 1,000 a minute), so the tick keeps its few seconds; the rest go out in the next ticks."""
    name = platform(config)
    rate = int(config.get("CHAT_SENDS_PER_SECOND") or PER_SECOND.get(name or "", 20))
    seconds = float(config.get("CHAT_SECONDS_PER_PASS") or 3)
    return max(1, int(rate * seconds)), seconds


#: Process-local like the robots' pace (minutes.notify.delivery._Pace): one deliverer thread sends the cards.
_sent_at: deque[float] = deque()
_pace_lock = threading.Lock()


def _pace(limit: int) -> None:
    """Wait until fewer than `limit` cards went out in the last second, then count this one."""
    while True:
        with _pace_lock:
            now = time.monotonic()
            while _sent_at and now - _sent_at[0] >= 1.0:
                _sent_at.popleft()
            if len(_sent_at) < limit:
                _sent_at.append(now)
                return
            wait = 1.0 - (now - _sent_at[0])
        time.sleep(wait)


class CardRefused(Exception):
    """The platform refused the card or could not be reached (the message is retried with back-off)."""


class RecipientUnknown(CardRefused):
    """The platform does not know the person or the app may not reach them (left the company, outside the app's
    visibility range): the card will never go out, the person gets it by e-mail instead."""


def fallback_email(message, card: dict, user: User) -> str:
    """Queue the card's content as an e-mail to its person (once); say what was done."""
    if not user.email:
        return gettext("该用户没有邮箱，未能改发邮件")
    text = "\n".join([card["title"], "", *card["lines"], "", gettext("查看详情：%(link)s", link=card.get("link", ""))])
    confidential = db.session.scalar(select(OutboxMessage.confidential).where(OutboxMessage.id == message.id))
    notify.enqueue_email(user.email, message.subject, text, dedupe_key=f"{message.id}:email-fallback",
                         link=card.get("link", ""), confidential=bool(confidential))
    return gettext("已改发邮件至%(email)s", email=user.email)


def deliver(message) -> None:
    """Send one queued card with its platform's API; remember the platform's message id."""
    from minutes.chat import vendors  # cycle: each platform module imports this service's errors

    card = db.session.execute(select(ChatCard.id, ChatCard.platform, ChatCard.subject, ChatCard.token, ChatCard.user_id,
                                     ChatCard.kind)
                              .where(ChatCard.outbox_message_id == message.id)).one_or_none()
    db.session.commit()
    if card is None:
        raise CardRefused(gettext("消息卡片记录不存在"))
    content = json.loads(message.body_text)
    config = current_app.config
    _pace(int(config.get("CHAT_SENDS_PER_SECOND") or PER_SECOND[card.platform]))
    try:
        vendor_id = vendors.MODULES[card.platform].send(config, card.subject, content, card.token)
    except RecipientUnknown as exc:
        if card.kind == "agenda":  # the agenda e-mail with the calendar invitation went to everyone anyway
            raise Undeliverable(f"{exc}；{gettext('议程已随日历邀请邮件发出')}") from exc
        token = write_intent.set(True)
        try:
            done = fallback_email(message, content, db.session.get(User, card.user_id))
            notify.keep_delivery_for_caller()
            db.session.commit()
        finally:
            write_intent.reset(token)
        raise Undeliverable(f"{exc}；{done}") from exc
    token = write_intent.set(True)
    try:
        db.session.execute(update(ChatCard).where(ChatCard.id == card.id).values(vendor_message_id=str(vendor_id or "")[:200]))
        db.session.commit()
    finally:
        write_intent.reset(token)
