"""Reminders and escalation for action items (截止日期前2天提醒, 截止日期后3天内收集完成情况, 升级协调).

The schedule of one action, for its current due date D (all on working days of the company calendar):

- ``before``    — 2 working days before D (admin: N days, working or calendar days);
- ``due``       — on D, or on the last working day before D when D is not a working day;
- ``overdue_k`` — the k-th working day after D, k = 1..3: a status request to the owner;
- ``escalate``  — the working day after the last status request: the meeting's host and the owner's
  department head are told, and the action shows on the host's dashboard as 需协调.

Why working days by default: the source says 截止日期前2天. Counted in calendar days, a Monday
deadline would be reminded on Saturday, which nobody reads; counted in working days the owner
hears on Thursday and still has two working days (Thursday and Friday). Across 调休 and long
holidays the same holds: a deadline right after National Day is reminded before the holiday.
Calendar days remain an option; a calendar-day reminder that lands on a day off moves to the
working day before it.

Each stage stands from its day until the next stage's day; on any tick in that window the stage is
sent once (a missed day — server down — is caught up with the stage in force, never with a pile of
stale ones). The last status request stands for its own working day only, the escalation stands
until the action is done or moved. Every processed stage leaves a marker row in ReminderLog, and
every message one row per recipient, under a unique key: running the tick twice, or on two hosts
at once (a job lock serialises them; the unique key is the last line of defence), sends nothing twice.

Skipped on purpose (and marked so, visible on the action's page): a stage whose day passed before
the action existed, and a status request when the owner already reported after the deadline.
"""
from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import and_, case, exists, func, select

from minutes.core.links import external_url
from minutes.actions import mail
from minutes.actions.models import (ActionItem, ActionStatus, ActionUpdate, ReminderLog, ReminderSettings)
from minutes.calendar.service import work_calendar
from minutes.chat import service as chat
from minutes.core.errors import ValidationFailed
from minutes.core.timefmt import cn_date, to_local, utcnow
from minutes.dbtypes import insert_many
from minutes.extensions import db
from minutes.meetings.models import Meeting, Participant, Role
from minutes.meetings.service import visible_to
from minutes.notify import locks
from minutes.notify import service as notify
from minutes.notify.models import WebhookBot
from minutes.people.models import Department, User
from minutes.people.service import require_admin

log = logging.getLogger(__name__)

BEFORE, DUE, ESCALATE = "before", "due", "escalate"
#: The marker recipient of a processed stage (every stage gets one, even with nobody to tell).
MARKER = "*"
SKIPPED = "skipped"
CHUNK = 500


def overdue(k: int) -> str:
    return f"overdue_{k}"


def stage_label(stage: str) -> str:
    """Say in Chinese what a stage is."""
    if stage == BEFORE:
        return gettext("截止前提醒")
    if stage == DUE:
        return gettext("到期提醒")
    if stage == ESCALATE:
        return gettext("升级协调")
    if stage.startswith("overdue_"):
        return gettext("逾期第%(days)s个工作日·催报进展", days=stage.split("_")[1])
    return stage


# --- the rules -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The reminder rules in force (ReminderSettings, or the defaults of the process document)."""

    before_days: int = 2
    before_in_workdays: bool = True
    on_due: bool = True
    overdue_requests: int = 3
    escalate: bool = True
    send_hour: int = 9
    by_email: bool = True
    by_im: bool = True


RULE_FIELDS = [f.name for f in fields(Rules)]


def current_rules() -> Rules:
    """The rules an admin set, or the defaults."""
    row = db.session.get(ReminderSettings, 1)
    if row is None:
        return Rules()
    return Rules(**{name: getattr(row, name) for name in RULE_FIELDS})


def update_rules(actor, before_days, before_in_workdays: bool, on_due: bool, overdue_requests, escalate: bool,
                 send_hour, by_email: bool, by_im: bool) -> ReminderSettings:
    """Change the reminder rules (admin only); numbers are checked and reported together."""
    require_admin(actor)
    errors: dict[str, str] = {}

    def number(name, value, low, high, message):
        try:
            n = int(str(value).strip())
            if not low <= n <= high:
                raise ValueError
            return n
        except (TypeError, ValueError):
            errors[name] = message
            return None

    before_days = number("before_days", before_days, 0, 15, gettext("提前天数须为0–15之间的整数（0表示不提前提醒）"))
    overdue_requests = number("overdue_requests", overdue_requests, 0, 10, gettext("催报次数须为0–10之间的整数"))
    send_hour = number("send_hour", send_hour, 0, 23, gettext("发送时间须为0–23点之间的整点"))
    if not by_email and not by_im:
        errors["by_email"] = gettext("请至少保留一种提醒方式（邮件或群机器人）")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    row = db.session.get(ReminderSettings, 1)
    if row is None:
        row = ReminderSettings(id=1)
        db.session.add(row)
    row.before_days, row.before_in_workdays, row.on_due = before_days, bool(before_in_workdays), bool(on_due)
    row.overdue_requests, row.escalate, row.send_hour = overdue_requests, bool(escalate), send_hour
    row.by_email, row.by_im = bool(by_email), bool(by_im)
    row.updated_at, row.updated_by = utcnow(), actor
    db.session.flush()
    return row


# --- the schedule ----------------------------------------------------------------------------

def schedule(due: date, rules: Rules, calendar) -> list[tuple[str, date]]:
    """Every stage of an action due on `due`, with the working day it belongs to, in order."""
    stages: list[tuple[str, date]] = []
    on_due = due if calendar.is_workday(due) else calendar.add_workdays(due, -1)
    if rules.before_days > 0:
        if rules.before_in_workdays:
            before = calendar.add_workdays(due, -rules.before_days)
        else:
            before = due - timedelta(days=rules.before_days)
            if not calendar.is_workday(before):
                before = calendar.add_workdays(before, -1)
        if before < on_due or not rules.on_due:  # on the day of the due reminder, that one says it all
            stages.append((BEFORE, before))
    if rules.on_due:
        stages.append((DUE, on_due))
    for k in range(1, rules.overdue_requests + 1):
        stages.append((overdue(k), calendar.add_workdays(due, k)))
    if rules.escalate:
        stages.append((ESCALATE, calendar.add_workdays(due, rules.overdue_requests + 1)))
    return stages


def stage_on(due: date, today: date, rules: Rules, calendar) -> tuple[str, date] | None:
    """The stage in force on `today` for an action due on `due`, with its day; None between or after."""
    stages = schedule(due, rules, calendar)
    for index in range(len(stages) - 1, -1, -1):
        stage, day = stages[index]
        if day > today:
            continue
        if index + 1 < len(stages) or stage == ESCALATE:
            return stage, day
        # The last reminder (no escalation configured) stands for its own working day only.
        return (stage, day) if today < calendar.add_workdays(day, 1) else None
    return None


@dataclass
class StageMap:
    """For one day: the stage in force for each due date near it, and for every older due date."""

    today: date
    by_due: dict[date, tuple[str, date]]
    low: date  #: due dates before this are all in `older`
    high: date  #: due dates after this have no stage yet
    older: str | None

    def ranges(self) -> list[tuple[date, date, str]]:
        """Contiguous due-date ranges with the same stage (for one SQL CASE)."""
        out: list[tuple[date, date, str]] = []
        day = self.low
        while day <= self.high:
            stage = self.by_due.get(day, (None,))[0]
            if stage is not None:
                if out and out[-1][2] == stage and out[-1][1] == day - timedelta(days=1):
                    out[-1] = (out[-1][0], day, stage)
                else:
                    out.append((day, day, stage))
            day += timedelta(days=1)
        return out


def stage_map(today: date, rules: Rules, calendar) -> StageMap:
    """Work out, for `today`, which due dates are in which stage (a few dozen dates around today).

    Due dates are scanned over a window wide enough for the longest holiday; every due date older
    than the window is past its escalation day (checked), so it is in the escalation stage.
    """
    by_due: dict[date, tuple[str, date]] = {}
    ahead = 31 + 2 * rules.before_days  # a reminder N working days ahead, across a 9-day Spring Festival
    behind = 31 + 2 * (rules.overdue_requests + 1)
    high = today
    for offset in range(-behind, ahead + 1):
        due = today + timedelta(days=offset)
        found = stage_on(due, today, rules, calendar)
        if found:
            by_due[due] = found
            high = max(high, due)
    low = today - timedelta(days=behind)
    older = None
    if rules.escalate:
        while (stage_on(low - timedelta(days=1), today, rules, calendar) or (None,))[0] != ESCALATE:
            low -= timedelta(days=1)  # never in practice: the window already reaches past every escalation day
            found = stage_on(low, today, rules, calendar)
            if found:
                by_due[low] = found
        older = ESCALATE
    return StageMap(today=today, by_due=by_due, low=low, high=high, older=older)


# --- one run ---------------------------------------------------------------------------------

@dataclass
class RunResult:
    """What one reminder run did."""

    skipped: str = ""  #: why nothing was computed (not a working day, too early, another host busy)
    stages: int = 0  #: (action, stage) pairs processed
    messages: int = 0  #: emails and robot posts queued
    by_stage: dict = field(default_factory=dict)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def run_reminders(now: datetime | None = None) -> RunResult:
    """Queue today's reminders and escalations, once each (commits). Safe to run as often as you like."""
    now = now or utcnow()
    local = to_local(now)
    today = local.date()
    rules = current_rules()
    calendar = work_calendar()
    db.session.commit()
    if not calendar.is_workday(today):
        return RunResult(skipped=gettext("今天不是工作日"))
    if local.hour < rules.send_hour:
        return RunResult(skipped=gettext("提醒在%(hour)s点后发送", hour=rules.send_hour))
    if not locks.lock_job("reminders", _holder()):
        return RunResult(skipped=gettext("另一进程正在计算提醒"))
    try:
        result = _run_locked(now, today, rules, calendar)
    except Exception:
        db.session.rollback()
        raise
    notify.keep_delivery_for_caller()  # the tick delivers right after; no background thread
    db.session.commit()
    return result


def _candidates(smap: StageMap):
    """Open, confirmed actions whose stage in force today has not been processed yet."""
    whens = [(ActionItem.due_date.between(a, b), stage) for a, b, stage in smap.ranges()]
    if smap.older:
        whens.insert(0, (ActionItem.due_date < smap.low, smap.older))
    if not whens:
        return []
    stage_expr = case(*whens, else_=None)
    query = (select(ActionItem.id, ActionItem.due_date, ActionItem.owner_id, ActionItem.owner_department_id,
                    ActionItem.meeting_id, ActionItem.created_at, ActionItem.text, ActionItem.status,
                    stage_expr.label("stage"))
             .where(ActionItem.deleted_at.is_(None), ActionItem.status != ActionStatus.DONE,
                    ActionItem.confirmed_at.is_not(None), ActionItem.due_date <= smap.high,
                    stage_expr.is_not(None),
                    ~exists().where(ReminderLog.action_id == ActionItem.id, ReminderLog.due_date == ActionItem.due_date,
                                    ReminderLog.stage == stage_expr))
             .order_by(ActionItem.id))
    if not smap.older:
        query = query.where(ActionItem.due_date >= smap.low)
    return db.session.execute(query).all()


@dataclass
class _Context:
    """What the messages of one run need, loaded in bulk."""

    users: dict[int, User]
    departments: dict[int, Department]
    meetings: dict[int, Meeting]
    hosts: dict[int, int]
    heads: dict[int, list[int]]
    bots: dict[int, list[WebhookBot]]
    last_update: dict[int, ActionUpdate]
    invited: set[tuple[int, int]]


def _load_context(rows, rules: Rules) -> _Context:
    action_ids = [r.id for r in rows]
    meeting_ids = sorted({r.meeting_id for r in rows})
    dept_ids = sorted({r.owner_department_id for r in rows})
    hosts: dict[int, int] = {}
    meetings: dict[int, Meeting] = {}
    invited: set[tuple[int, int]] = set()
    for chunk in _chunks(meeting_ids):
        for m in db.session.scalars(select(Meeting).where(Meeting.id.in_(chunk))):
            meetings[m.id] = m
        for meeting_id, user_id, role in db.session.execute(
                select(Participant.meeting_id, Participant.user_id, Participant.role).where(Participant.meeting_id.in_(chunk))):
            invited.add((meeting_id, user_id))
            if role == Role.HOST:
                hosts[meeting_id] = user_id
    heads: dict[int, list[int]] = defaultdict(list)
    user_ids = {r.owner_id for r in rows} | set(hosts.values())
    for chunk in _chunks(dept_ids):
        for user_id, dept_id in db.session.execute(
                select(User.id, User.department_id).where(User.department_id.in_(chunk), User.is_department_head.is_(True),
                                                          User.is_enabled.is_(True)).order_by(User.id)):
            heads[dept_id].append(user_id)
            user_ids.add(user_id)
    users: dict[int, User] = {}
    for chunk in _chunks(sorted(user_ids)):
        for user in db.session.scalars(select(User).where(User.id.in_(chunk))):
            users[user.id] = user
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    bots: dict[int, list[WebhookBot]] = defaultdict(list)
    if rules.by_im:
        for bot in db.session.scalars(select(WebhookBot).where(WebhookBot.enabled.is_(True)).order_by(WebhookBot.id)):
            bots[bot.department_id].append(bot)
    last_update: dict[int, ActionUpdate] = {}
    for chunk in _chunks(action_ids):
        latest = (select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(chunk))
                  .group_by(ActionUpdate.action_id))
        for update in db.session.scalars(select(ActionUpdate).where(ActionUpdate.id.in_(latest))):
            last_update[update.action_id] = update
    return _Context(users, departments, meetings, hosts, heads, bots, last_update, invited)


def _may_read_meeting(ctx: _Context, meeting: Meeting, user_id: int) -> bool:
    """meetings.service.can_view for the run's bulk-loaded meetings: a confidential one only for its people."""
    return visible_to(meeting, user_id, invited=(meeting.id, user_id) in ctx.invited)


def _run_locked(now: datetime, today: date, rules: Rules, calendar) -> RunResult:
    smap = stage_map(today, rules, calendar)
    rows = _candidates(smap)
    result = RunResult()
    if not rows:
        return result
    ctx = _load_context(rows, rules)
    follow_up_link = external_url("actions.follow_up")
    texts = mail.ReminderTexts()
    # Owners with an identity on the company's chat platform get a card with buttons instead of the e-mail.
    chat_ids = chat.chat_subjects(r.owner_id for r in rows)
    departments = chat.department_choices() if chat_ids else []
    outbox_rows: list[dict] = []
    log_rows: list[dict] = []
    for row in rows:
        stage = row.stage
        # Escalations of older due dates are not in the map; they are never skipped, so their day does not matter.
        stage_day = smap.by_due.get(row.due_date, (stage, today))[1]
        marker = dict(action_id=row.id, due_date=row.due_date, stage=stage, recipient=MARKER, channel="",
                      recipient_user_id=None, outbox_message_id=None, sent_on=today, created_at=now)
        result.stages += 1
        created_on = to_local(row.created_at).date()
        last = ctx.last_update.get(row.id)
        reported = last is not None and to_local(last.created_at).date() > row.due_date
        if (stage != ESCALATE and created_on > stage_day) or (stage.startswith("overdue_") and reported):
            marker["channel"] = SKIPPED
            log_rows.append(marker)
            continue
        log_rows.append(marker)
        meeting = ctx.meetings[row.meeting_id]
        owner = ctx.users[row.owner_id]
        dept = ctx.departments[row.owner_department_id]
        host = ctx.users.get(ctx.hosts.get(row.meeting_id))
        context = dict(stage=stage, action_id=row.id, text=row.text, due=row.due_date, status=ActionStatus(row.status),
                       owner=owner, department=dept, meeting=meeting, host=host, rules=rules, today=today,
                       link=external_url("actions.show", action_id=row.id), follow_up_link=follow_up_link,
                       overdue_days=max(0, calendar.workdays_between(row.due_date, today)),
                       days_left=max(0, calendar.workdays_between(today, row.due_date)),
                       due_is_workday=calendar.is_workday(row.due_date), last=last, cn_date=cn_date,
                       request_no=int(stage.split("_")[1]) if stage.startswith("overdue_") else 0)
        if stage == ESCALATE:
            people = []
            if host is not None:
                people.append(host)
            for head_id in ctx.heads.get(row.owner_department_id, []):
                head = ctx.users[head_id]
                # Never tell someone about a confidential meeting they were not invited to.
                if not _may_read_meeting(ctx, meeting, head_id):
                    continue
                people.append(head)
            people = [p for i, p in enumerate(people) if p.id != owner.id and p.id not in {q.id for q in people[:i]}]
        else:
            people = [owner]
        key = f"remind:{row.id}:{row.due_date:%Y%m%d}:{stage}"
        subject = mail.reminder_subject(stage, row.text, row.due_date, owner.name, context["overdue_days"])
        if rules.by_email:
            for person in people:
                # an owner outside a confidential meeting (assigned before owners had to be invited) reads the
                # action, not the meeting's topic (as actions.service.meeting_topic shows it on the pages)
                topic = meeting.topic if _may_read_meeting(ctx, meeting, person.id) else gettext("（仅参会人可见的会议）")
                chat_id = chat_ids.get(person.id) if stage != ESCALATE else None
                if chat_id and person.is_enabled:
                    card = chat.action_card(row.text, row.due_date, ActionStatus(row.status).label, topic,
                                            context["link"], departments,
                                            heading=gettext("待办%(stage)s", stage=stage_label(stage)))
                    outbox_rows.append(dict(chat.outbox_row(person, chat_id, card, f"{key}:user:{person.id}", now,
                                                            confidential=bool(meeting.confidential), action_id=row.id),
                                            _log=dict(marker, recipient=f"user:{person.id}", channel=chat.CHANNEL,
                                                      recipient_user_id=person.id)))
                    continue
                if not person.email or not person.is_enabled:
                    continue
                body_text, body_html = texts.email(dict(context, recipient=person, topic=topic))
                outbox_rows.append(dict(channel="email", recipient=person.email, subject=subject,
                                        body_text=body_text, body_html=body_html,
                                        link=context["link"], dedupe_key=f"{key}:user:{person.id}",
                                        confidential=bool(meeting.confidential),
                                        _log=dict(marker, recipient=f"user:{person.id}", channel="email",
                                                  recipient_user_id=person.id)))
        if rules.by_im and not meeting.confidential:  # a group chat is no place for a confidential meeting's work
            for bot in ctx.bots.get(row.owner_department_id, []):
                outbox_rows.append(dict(channel=bot.vendor.value, recipient=bot.label[:500], bot_id=bot.id,
                                        subject=subject, body_text=texts.robot(context),
                                        link=context["link"], dedupe_key=f"{key}:bot:{bot.id}",
                                        _log=dict(marker, recipient=f"bot:{bot.id}", channel=bot.vendor.value)))
        result.by_stage[stage] = result.by_stage.get(stage, 0) + 1
    _write(outbox_rows, log_rows, now)
    result.messages = len(outbox_rows)
    return result


def _write(outbox_rows: list[dict], log_rows: list[dict], now: datetime) -> None:
    """Queue the messages through the outbox in bulk and write the run's log rows: a message whose key is already
    queued (a second host's run) is skipped with its log row, so nothing is sent or logged twice."""
    ids = notify.enqueue_bulk(outbox_rows, now)
    fresh = [dict(r, outbox_message_id=ids[r["dedupe_key"]]) for r in outbox_rows if r["dedupe_key"] in ids]
    logs = list(log_rows) + [dict(r["_log"], outbox_message_id=r["outbox_message_id"]) for r in fresh]
    chat.add_cards([r for r in fresh if "_card" in r])
    for start in range(0, len(logs), 5000):
        insert_many(ReminderLog.__table__, logs[start:start + 5000])
    db.session.flush()


# --- reading what happened -------------------------------------------------------------------

def reminders_of(action: ActionItem) -> list[ReminderLog]:
    """The reminders and escalations logged for an action, oldest first (markers included)."""
    return list(db.session.scalars(select(ReminderLog).where(ReminderLog.action_id == action.id)
                                   .order_by(ReminderLog.id)))


def escalated_filter():
    """A WHERE clause: the action was escalated for its current due date."""
    return exists().where(ReminderLog.action_id == ActionItem.id, ReminderLog.due_date == ActionItem.due_date,
                          ReminderLog.stage == ESCALATE, ReminderLog.recipient == MARKER,
                          ReminderLog.channel != SKIPPED)


def is_escalated(action: ActionItem) -> bool:
    return db.session.scalar(select(
        exists().where(and_(ReminderLog.action_id == action.id, ReminderLog.due_date == action.due_date,
                            ReminderLog.stage == ESCALATE, ReminderLog.recipient == MARKER)))) or False
