"""A button pressed on a card: the same service call as the web page, as the person the card was sent to.

Above actions and records (it calls actions.service.update_status and records.signoff.respond); the
vendor views verify the callback, then call `press`. Pressing again what already took effect changes
nothing and shows the same result (idempotent); a callback seen before is refused (`take_event`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from minutes.actions import service as actions
from minutes.actions.models import ActionItem, ActionStatus, ActionUpdate
from minutes.calendar.service import work_calendar
from minutes.chat import service
from minutes.chat.models import ChatCallback, ChatCard
from minutes.core.links import external_url
from minutes.core.errors import DomainError, NotFound, PermissionDenied, RuleViolation
from minutes.core.timefmt import cn_date, to_local, utcnow
from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people.models import Department
from minutes.records import service as records
from minutes.records import signoff
from minutes.records.models import MinutesResponse, MinutesStatus, MinutesVersion, ResponseKind

#: What the card says in `note` when the person typed nothing (the tracker asks for a note; a button has none).
CARD_NOTE = lazy_gettext("（来自消息卡片）")
CHOICE_STATUS = {"in_progress": ActionStatus.IN_PROGRESS, "done": ActionStatus.DONE, "delay": ActionStatus.DELAYED,
                 "support": ActionStatus.NEED_SUPPORT}


#: How long a taken callback is remembered (far longer than CHAT_CALLBACK_WINDOW_SECONDS).
KEEP_CALLBACKS = timedelta(days=1)


class Replayed(RuleViolation):
    """The same callback arrived before."""


@dataclass
class Answer:
    """What pressing did: the card to show now, a short message (toast), whether it took effect."""

    card: dict
    message: str
    ok: bool

    @property
    def asks_again(self) -> bool:
        """Refused, and the card still offers its choices: ask for the input once more, saying why."""
        return not self.ok and bool(self.card["choices"])


def take_event(platform: str, event_key: str) -> None:
    """Remember a callback; one seen before is a replay and is refused (the unique key decides under races).

    Callbacks older than the timestamp window are refused by their timestamp, so the record of them is only
    kept a day (forgotten here, a few at a time, as new ones arrive)."""
    if not event_key:
        raise Replayed(gettext("回调缺少事件标识"))
    now = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add(ChatCallback(platform=platform, event_key=event_key[:255], received_at=now))
    except IntegrityError:
        raise Replayed(gettext("该回调已处理过（重放），未执行")) from None
    db.session.execute(delete(ChatCallback).where(ChatCallback.received_at < now - KEEP_CALLBACKS))


def card_by_token(platform: str, token: str) -> ChatCard:
    card = db.session.scalar(select(ChatCard).where(ChatCard.token == (token or "")))
    if card is None or card.platform != platform:
        raise NotFound(gettext("该消息卡片不存在"))
    return card


def card_for(platform: str, token: str, operator: str | None = None, user=None) -> ChatCard:
    """The card, once the one pressing is the person it was sent to: `operator` is their user id on the platform
    (a callback the platform signed names them), `user` the account signed in to this site (a DingTalk link, whose
    signature only proves the link is ours, not who opened it). Naming nobody is refused: a link alone never acts."""
    card = card_by_token(platform, token)
    if user is not None:
        if user.id != card.user_id:
            raise PermissionDenied(gettext("此链接是发给%(name)s的，请用本人的钉钉账号打开", name=card.user.name))
    elif operator is not None:
        identity = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.provider == platform,
                                                                    ExternalIdentity.subject == operator))
        if identity is None or identity.user_id != card.user_id:
            raise PermissionDenied(gettext("只有收到该卡片的本人可以操作"))
    else:
        raise PermissionDenied(gettext("只有收到该卡片的本人可以操作"))
    if not card.user.is_enabled:
        raise PermissionDenied(gettext("该账号已停用"))
    return card


def press(platform: str, operator: str | None, token: str, choice: str, value: str = "",
          now: datetime | None = None, user=None) -> tuple[ChatCard, Answer]:
    """Carry out a button of a card for the person it was sent to (see `card_for`)."""
    card = card_for(platform, token, operator, user)
    user = card.user
    now = now or utcnow()
    if card.kind == "action":
        return card, _press_action(card, user, choice, value, now)
    if card.kind != "minutes":  # the agenda card has only its link
        raise RuleViolation(gettext("该卡片没有可操作的按钮"))
    return card, _press_minutes(card, user, choice, value, now)


def current_view(card: ChatCard) -> dict | None:
    """What the card is about, as it stands now (the page a DingTalk link opens shows it before asking)."""
    if card.kind == "action":
        action = db.session.get(ActionItem, card.action_id) if card.action_id else None
        return action_view(card, action, card.result) if action is not None else None
    version = db.session.get(MinutesVersion, card.version_id) if card.version_id else None
    return minutes_view(card, version, card.result, True) if version is not None else None


def _apply(card: ChatCard, choice: str, result: str, now: datetime) -> None:
    card.answered_choice, card.result, card.answered_at = choice, result, now


# --- action reminders ------------------------------------------------------------------------

def action_view(card: ChatCard, action: ActionItem, result: str | None = None) -> dict:
    user = card.user
    return service.action_card(action.text, action.due_date, action.status.label, actions.meeting_topic(user, action),
                               _action_link(action), service.department_choices(), result=result,
                               open_=not action.is_done and actions.can_update(user, action))


def _action_link(action: ActionItem) -> str:
    return external_url("actions.show", action_id=action.id)


def _live_action(card: ChatCard) -> ActionItem:
    action = db.session.get(ActionItem, card.action_id) if card.action_id else None
    if action is None or action.is_deleted:
        raise NotFound(gettext("该待办已删除"))
    return action


def _pressed_again(card: ChatCard, action: ActionItem, choice: str, value: str) -> bool:
    """The card's last press again, with the same date or department, and the action still stands so."""
    if card.answered_choice != choice or action.status != CHOICE_STATUS.get(choice):
        return False
    if choice == "delay":
        return str(value).strip() == action.due_date.isoformat()
    if choice == "support":
        last = db.session.scalar(select(ActionUpdate.support_department_id).where(ActionUpdate.action_id == action.id)
                                 .order_by(ActionUpdate.id.desc()).limit(1))
        return str(value).strip() == str(last)
    return choice == "in_progress"


def _press_action(card: ChatCard, user, choice: str, value: str, now: datetime) -> Answer:
    action = _live_action(card)
    if choice not in service.ACTION_CHOICES:
        return Answer(action_view(card, action, card.result), gettext("未知的操作"), False)
    if _pressed_again(card, action, choice, value) or (choice == "done" and action.is_done):
        result = card.result or gettext("已完成")
        return Answer(action_view(card, action, result), result, True)  # pressed again: nothing changes
    status = CHOICE_STATUS[choice]
    label = str(service.ACTION_CHOICES[choice])
    note, new_due, support = str(CARD_NOTE), None, None
    if choice == "delay":
        new_due = value or None
        note = gettext("（来自消息卡片）申请延期")
    elif choice == "support":
        support = value or None
    try:
        with db.session.begin_nested():
            actions.update_status(user, action, status, note=note, new_due=new_due, support_department_id=support,
                                  source="chat", now=now)
    except DomainError as exc:
        db.session.expire(action)
        return Answer(action_view(card, action, card.result), exc.message, False)
    result = f"{label} · {service.short_time(now)}"
    if choice == "delay":
        result += " · " + gettext("新截止日期：%(due)s", due=cn_date(action.due_date, weekday=False))
    elif choice == "support":
        dept = db.session.get(Department, int(support))
        result += " · " + gettext("请%(dept)s支持", dept=dept.name)
    _apply(card, choice, result, now)
    db.session.flush()
    return Answer(action_view(card, action, result), result, True)


# --- sign-off requests -----------------------------------------------------------------------

def minutes_view(card: ChatCard, version: MinutesVersion, result: str | None, open_: bool) -> dict:
    return service.minutes_card(version.meeting.topic, version.label, None, records.version_link(version),
                                result=result, open_=open_)


def _final_result(version: MinutesVersion) -> str | None:
    minutes = version.minutes
    if minutes.status != MinutesStatus.FINAL:
        return None
    final = records.final_version(minutes)
    return gettext("纪要已定稿（%(version)s），不能再回复", version=final.label if final else version.label)


def _press_minutes(card: ChatCard, user, choice: str, value: str, now: datetime) -> Answer:
    version = db.session.get(MinutesVersion, card.version_id) if card.version_id else None
    if version is None:
        raise NotFound(gettext("该纪要版本不存在"))
    if card.answered_choice == choice == "confirm":  # pressed again: the first press stands
        final = _final_result(version)
        return Answer(minutes_view(card, version, card.result + (f"；{final}" if final else ""), False), card.result, True)
    final = _final_result(version)
    if final:
        return Answer(minutes_view(card, version, card.result or final, False), final, False)
    if choice not in service.MINUTES_CHOICES:
        return Answer(minutes_view(card, version, card.result, True), gettext("未知的操作"), False)
    mine = db.session.scalar(select(MinutesResponse).where(MinutesResponse.version_id == version.id,
                                                           MinutesResponse.user_id == user.id,
                                                           MinutesResponse.kind == ResponseKind.CONFIRM).limit(1))
    if choice == "confirm" and mine is not None:  # confirmed already (on the web page, or a card press)
        result = gettext("确认于 %(when)s", when=service.short_time(mine.created_at))
        _apply(card, choice, result, now)
        return Answer(minutes_view(card, version, result, False), result, True)
    if card.answered_choice == choice == "change" and value.strip() and db.session.scalar(
            select(MinutesResponse.id).where(MinutesResponse.version_id == version.id,
                                             MinutesResponse.user_id == user.id,
                                             MinutesResponse.kind == ResponseKind.CHANGE,
                                             MinutesResponse.comment == value.strip()).limit(1)):
        # the same comment sent again (a link's form posted twice): given once, the same result
        return Answer(minutes_view(card, version, card.result, True), card.result, True)
    try:
        with db.session.begin_nested():
            signoff.respond(user, version.id, choice, comment=value if choice == "change" else "", now=now,
                            source="chat")
    except DomainError as exc:
        return Answer(minutes_view(card, version, card.result, True), exc.message, False)
    if choice == "confirm":
        result = gettext("确认于 %(when)s", when=service.short_time(now))
    else:
        result = gettext("已提出修改意见 · %(when)s", when=service.short_time(now))
    _apply(card, choice, result, now)
    db.session.flush()
    db.session.refresh(version.minutes)
    final = _final_result(version)
    return Answer(minutes_view(card, version, result + (f"；{final}" if final else ""), choice == "change" and not final),
                  result, True)


# --- buttons whose input the card cannot hold (WeCom) ----------------------------------------

#: How many working days a 延期 list offers (WeCom's select list holds at most 10 options).
DELAY_DAYS_OFFERED = 10


def delay_days(action: ActionItem, now: datetime) -> list[date]:
    """The days a 延期 from a card can move the deadline to: the next working days of the company calendar after
    the deadline, none before today (the actions service refuses any other day the same way)."""
    calendar = work_calendar()
    day = calendar.next_workday_on_or_after(max(action.due_date + timedelta(days=1), to_local(now).date()))
    days: list[date] = []
    while len(days) < DELAY_DAYS_OFFERED:
        days.append(day)
        day = calendar.add_workdays(day, 1)
    return days


def ask(platform: str, operator: str | None, token: str, choice: str,
        now: datetime | None = None) -> tuple[ChatCard, Answer]:
    """A button whose input the card cannot carry was pressed: the card now asks for it. 延期: a list of the next
    working days to choose one from and submit; 需支持: a list of the departments; 提出修改意见: the person's next
    text message to the app (within CHAT_COMMENT_WAIT_MINUTES) is the comment. The answer's card has an `ask`
    ({key, title, options, submit}) for the two lists."""
    card = card_for(platform, token, operator)
    now = now or utcnow()
    if card.kind == "minutes" and choice == "change":
        return card, _await_comment(card, now)
    if card.kind != "action" or choice not in ("delay", "support"):
        raise RuleViolation(gettext("该按钮不需要填写内容"))
    action = _live_action(card)
    view = action_view(card, action, card.result)
    if not view["choices"]:  # done meanwhile, or no longer theirs to update
        return card, Answer(view, card.result or gettext("该待办已不能从卡片更新"), False)
    view["ask"] = input_for(card, choice, now)
    if not view["ask"]["options"]:
        return card, Answer(view, gettext("还没有可选的部门，请在网页上操作"), False)
    return card, Answer(view, gettext("请选择后提交"), True)


def input_for(card: ChatCard, choice: str, now: datetime) -> dict | None:
    """What a button needs before it is carried out — {key, title, submit, options: [[value, text]]} (no options:
    a text to write) — or None when it needs nothing."""
    if choice == "delay" and card.kind == "action":
        days = delay_days(_live_action(card), now)
        return {"key": "delay", "title": gettext("延期至"), "submit": gettext("确认延期"),
                "options": [[day.isoformat(), cn_date(day)] for day in days]}
    if choice == "support" and card.kind == "action":
        return {"key": "support", "title": gettext("需要哪个部门支持"), "submit": gettext("请求支持"),
                "options": [[str(d_id), name] for d_id, name in service.department_choices()]}
    if choice == "change" and card.kind == "minutes":
        return {"key": "change", "title": gettext("修改意见"), "submit": gettext("提交修改意见"), "options": []}
    return None


def _await_comment(card: ChatCard, now: datetime) -> Answer:
    version = db.session.get(MinutesVersion, card.version_id) if card.version_id else None
    if version is None:
        raise NotFound(gettext("该纪要版本不存在"))
    final = _final_result(version)
    if final:
        return Answer(minutes_view(card, version, card.result or final, False), final, False)
    minutes = int(current_app.config["CHAT_COMMENT_WAIT_MINUTES"])
    # one card waits at a time: the person's next message answers this one, never an older card asked before it
    db.session.execute(update(ChatCard).where(ChatCard.platform == card.platform, ChatCard.subject == card.subject,
                                              ChatCard.id != card.id, ChatCard.awaiting_comment_until.is_not(None))
                       .values(awaiting_comment_until=None).execution_options(synchronize_session=False))
    card.awaiting_comment_until = now + timedelta(minutes=minutes)
    db.session.flush()
    message = gettext("请在%(minutes)s分钟内直接回复一条消息写下修改意见", minutes=minutes)
    return Answer(minutes_view(card, version, message, True), message, True)


def comment_reply(platform: str, operator: str, text: str,
                  now: datetime | None = None) -> tuple[ChatCard, Answer] | None:
    """A person's text message to the app: the comment of their card that waits for one (the latest asked), given
    through the same call as 提出修改意见 on the web page, as them. None: no card of theirs waits for a comment."""
    now = now or utcnow()
    waiting = db.session.scalar(select(ChatCard).where(
        ChatCard.platform == platform, ChatCard.subject == operator, ChatCard.kind == "minutes",
        ChatCard.awaiting_comment_until > now).order_by(ChatCard.awaiting_comment_until.desc()).limit(1))
    if waiting is None:
        return None
    card, answer = press(platform, operator, waiting.token, "change", text, now)
    if not answer.asks_again:  # taken, or the minutes became final: nothing waits any more
        card.awaiting_comment_until = None
        db.session.flush()
    return card, answer
