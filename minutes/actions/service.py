"""Action tracking (待办事项跟踪表): the tracker and my actions, status reports with history,
coordination (需协调) and follow-up meetings (二次沟通会议).

Reminders and escalation live in `minutes.actions.reminders`, the personal calendar feed in
`minutes.actions.feeds`; the API calls these same functions:

- ``list_actions(user, filters)`` / ``ActionFilters`` for ``GET /actions``;
- ``get_action(user, action_id)`` and ``update_status(actor, action, status, note, new_due=...)``
  for ``PATCH /actions/<id>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import and_, case, exists, func, insert, or_, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.exc import StaleDataError

from minutes.core import dates
from minutes.core.links import external_url
from minutes.actions import mail, reminders
from minutes.actions.models import (ACTION_STATUS_LABELS, ActionItem, ActionStatus, ActionUpdate,
                                    action_follow_up)
from minutes.calendar.service import work_calendar
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, cn_date, cn_datetime, local_today, to_local, utcnow
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings import service as meetings
from minutes.meetings.models import Meeting, MeetingStatus, Participant, Role
from minutes.notify import service as notify
from minutes.people.models import Department, User
from minutes.people.service import department_by_id

OPEN = (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.DELAYED, ActionStatus.NEED_SUPPORT)
MAX_NOTE = 2000
PAGE_SIZE = 50
SORTS = {"due", "status", "department", "owner", "meeting", "created"}
#: Minutes per overdue action on a follow-up meeting's agenda.
FOLLOW_UP_ITEM_MINUTES = 10
FOLLOW_UP_TITLE_CHARS = 60


# --- seeing and changing ---------------------------------------------------------------------

def visible_filter(user):
    """A WHERE clause for actions `user` may see: of a meeting they may see, or their own."""
    return or_(meetings.visible_filter(user), ActionItem.owner_id == user.id)


def can_view(user, action: ActionItem) -> bool:
    """The owner always sees their action; anyone else when they may see its meeting."""
    if user is None or not getattr(user, "is_authenticated", False) or action.is_deleted:
        return False
    return action.owner_id == user.id or meetings.can_view(user, action.meeting)


def meeting_topic(user, action: ActionItem) -> str:
    """The topic of the action's meeting as `user` may read it: an owner who may not see a confidential meeting
    (an action assigned before owners had to be invited) sees the action, not the meeting's topic."""
    if meetings.can_view(user, action.meeting):
        return action.meeting.topic
    return gettext("（仅参会人可见的会议）")


def can_update(user, action: ActionItem) -> bool:
    """The owner reports; the meeting's host, recorder and creator keep the tracking table (更新责任人),
    and so do the host and recorder of a later meeting of the same series reviewing it."""
    if not can_view(user, action):
        return False
    if action.owner_id == user.id:
        return True
    meeting = action.meeting
    if meeting.created_by_id == user.id or meeting.role_of(user) in (Role.HOST, Role.RECORDER):
        return True
    if meeting.series_id is not None and db.session.scalar(select(exists().where(
            Participant.user_id == user.id, Participant.role.in_((Role.HOST, Role.RECORDER)),
            Participant.meeting_id == Meeting.id, Meeting.series_id == meeting.series_id))):
        return True
    return bool(user.is_admin) and not meeting.confidential


def get_action(user, action_id) -> ActionItem:
    """Load an action the user may see; a deleted or invisible one is reported missing."""
    action = get_by_id(ActionItem, action_id)
    if action is None or not can_view(user, action):
        raise NotFound(gettext("该待办不存在或您无权查看"))
    return action


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    return action.status != ActionStatus.DONE and action.due_date < (today or local_today())


def _parse_date(value, field_name: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = dates.parse_day(value)
    except ValueError:
        raise ValidationFailed(gettext("%(label)s格式不正确，请选择日期", label=label), field=field_name) from None
    if parsed.year not in dates.YEARS:
        raise ValidationFailed(gettext("%(label)s须在2000年至2100年之间", label=label), field=field_name)
    return parsed


def update_status(actor: User, action: ActionItem, status, note: str = "", new_due=None, support_department_id=None,
                  version=None, source: str = "tracker", now: datetime | None = None) -> ActionUpdate:
    """Report on an action: a new status with a progress note, kept as history.

    延期 needs a new proposed date (later than the current one, not in the past, a working day of the company
    calendar) and the reason in
    `note`; the deadline moves to it and the reminders start again for it. 需支持 needs the
    department asked for support and what is needed in `note`. Other statuses need a progress note
    (optional for 已完成). The host hears of 延期 and 需支持 by email, the department asked for
    support by email to its heads and in its group robots.
    """
    if not can_update(actor, action):
        raise PermissionDenied(gettext("只有负责人、会议主持人或记录人可以更新该待办"))
    if version not in (None, "") and str(version) != str(action.version):
        raise StaleEdit(gettext("该待办刚被他人更新，您的更新未保存。请查看最新状态后重试"))
    errors: dict[str, str] = {}
    try:
        status = ActionStatus(status)
    except ValueError:
        raise ValidationFailed(gettext("请选择状态：未开始、进行中、已完成、延期或需支持"), field="status") from None
    note = (note or "").strip()
    now = now or utcnow()
    today = to_local(now).date()
    try:
        new_due = _parse_date(new_due, "new_due", gettext("新的截止日期"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
        new_due = None
    support = None
    if status == ActionStatus.DELAYED:
        if new_due is None and "new_due" not in errors:
            errors["new_due"] = gettext("延期请填写新的截止日期")
        elif new_due is not None and new_due <= action.due_date:
            errors["new_due"] = gettext("新的截止日期须晚于原截止日期（%(due_date)s）", due_date=cn_date(action.due_date))
        elif new_due is not None and new_due < today:
            errors["new_due"] = gettext("新的截止日期不能早于今天")
        elif new_due is not None and not work_calendar().is_workday(new_due):
            errors["new_due"] = gettext("新的截止日期%(day)s不是工作日，请选择工作日", day=cn_date(new_due))
        if not note:
            errors["note"] = gettext("请说明延期原因")
    elif new_due is not None:
        errors["new_due"] = gettext("只有选择“延期”时才需要填写新的截止日期")
    if status == ActionStatus.NEED_SUPPORT:
        if str(support_department_id or "").strip() == "":
            errors["support_department_id"] = gettext("请选择需要哪个部门支持")
        else:
            try:
                support = department_by_id(support_department_id)
            except NotFound:
                errors["support_department_id"] = gettext("所选部门不存在")
        if not note:
            errors["note"] = gettext("请说明需要什么支持")
    elif str(support_department_id or "").strip():
        errors["support_department_id"] = gettext("只有选择“需支持”时才需要选择支持部门")
    if not note and status not in (ActionStatus.DONE, ActionStatus.DELAYED, ActionStatus.NEED_SUPPORT):
        errors["note"] = gettext("请填写进展说明")
    if len(note) > MAX_NOTE:
        errors["note"] = gettext("说明不超过%(MAX_NOTE)s个字", MAX_NOTE=MAX_NOTE)
    if status == action.status and status in (ActionStatus.DONE, ActionStatus.NOT_STARTED) and not note:
        errors["status"] = gettext("该待办已是“%(status)s”", status=status.label)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    update = ActionUpdate(action=action, old_status=action.status, new_status=status, note=note,
                          old_due=action.due_date if status == ActionStatus.DELAYED else None,
                          new_due=new_due if status == ActionStatus.DELAYED else None,
                          support_department=support, source=source, created_by=actor, created_at=now)
    db.session.add(update)
    action.status = status
    if status == ActionStatus.DELAYED:
        action.due_date = new_due
    action.updated_at, action.updated_by = now, actor
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit(gettext("该待办刚被他人更新，您的更新未保存。请查看最新状态后重试")) from None
    _tell_about(update)
    return update


def _tell_about(update: ActionUpdate) -> None:
    """Let the host know of a delay or a call for support; ask the supporting department."""
    action = update.action
    if update.new_status not in (ActionStatus.DELAYED, ActionStatus.NEED_SUPPORT):
        return
    meeting = action.meeting
    link = external_url("actions.show", action_id=action.id)
    people: list[tuple[User, str]] = []
    host = meeting.host
    if host is not None:
        people.append((host, "host"))
    if update.new_status == ActionStatus.NEED_SUPPORT and update.support_department is not None:
        for head in update.support_department.heads:
            if meetings.can_view(head, meeting) or not meeting.confidential:
                people.append((head, "supporter"))
    seen = {update.created_by_id}
    for person, role in people:
        if person.id in seen or not person.email or not person.is_enabled:
            continue
        seen.add(person.id)
        notify.enqueue_email(person.email, *mail.status_email(update, action, meeting, person, role, link),
                             dedupe_key=f"status:{update.id}:user:{person.id}", link=link,
                             confidential=meeting.confidential)
    if update.new_status == ActionStatus.NEED_SUPPORT and update.support_department and not meeting.confidential:
        notify.enqueue_department_im(update.support_department.id, *mail.support_im(update, action), link,
                                     dedupe_key=f"status:{update.id}")


def history(action: ActionItem) -> list[ActionUpdate]:
    """Every status report on the action, newest first."""
    return list(db.session.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action.id)
                                   .options(selectinload(ActionUpdate.created_by), selectinload(ActionUpdate.support_department))
                                   .order_by(ActionUpdate.id.desc())))


def original_due(action: ActionItem) -> date | None:
    """The deadline agreed in the meeting, when 延期 moved it since."""
    return db.session.scalar(select(ActionUpdate.old_due).where(ActionUpdate.action_id == action.id,
                                                                ActionUpdate.old_due.is_not(None))
                             .order_by(ActionUpdate.id).limit(1))


# --- the tracker -----------------------------------------------------------------------------

@dataclass
class ActionFilters:
    """What the tracker (and GET /api/v1/actions) filters and sorts by; empty means any."""

    department_id: int | None = None
    owner_id: int | None = None
    #: A status value, or "open", "overdue", "escalated" (需协调).
    status: str = ""
    meeting_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    #: Exclusive upper bound, for GET /api/v1/actions?due_before=…
    due_before: date | None = None
    q: str = ""
    sort: str = "due"
    descending: bool = False
    page: int = 1

    def query_args(self, **override) -> dict:
        """The filters as URL query arguments (for links that change one of them)."""
        args = {"department": self.department_id, "owner": self.owner_id, "status": self.status,
                "meeting": self.meeting_id, "due_from": self.due_from, "due_to": self.due_to, "q": self.q,
                "sort": self.sort if self.sort != "due" else None, "desc": "1" if self.descending else None}
        args.update(override)
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in args.items() if v not in (None, "")}


STATUS_FILTERS = {"open": lazy_gettext("未完成"), "overdue": lazy_gettext("已逾期"), "escalated": lazy_gettext("需协调"),
                  **{s.value: label for s, label in ACTION_STATUS_LABELS.items()}}


def _filtered(user, filters: ActionFilters, today: date, with_department: bool = True):
    query = (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
             .where(ActionItem.deleted_at.is_(None), visible_filter(user)))
    if with_department and filters.department_id:
        query = query.where(ActionItem.owner_department_id == filters.department_id)
    if filters.owner_id:
        query = query.where(ActionItem.owner_id == filters.owner_id)
    if filters.meeting_id:
        query = query.where(ActionItem.meeting_id == filters.meeting_id)
    if filters.due_from:
        query = query.where(ActionItem.due_date >= filters.due_from)
    if filters.due_to:
        query = query.where(ActionItem.due_date <= filters.due_to)
    if filters.due_before:
        query = query.where(ActionItem.due_date < filters.due_before)
    if filters.q:
        query = query.where(ActionItem.text.contains(filters.q.strip(), autoescape=True))
    if filters.status == "open":
        query = query.where(ActionItem.status != ActionStatus.DONE)
    elif filters.status == "overdue":
        query = query.where(ActionItem.status != ActionStatus.DONE, ActionItem.due_date < today)
    elif filters.status == "escalated":
        query = query.where(ActionItem.status != ActionStatus.DONE,
                            or_(reminders.escalated_filter(), ActionItem.status == ActionStatus.NEED_SUPPORT))
    elif filters.status:
        query = query.where(ActionItem.status == ActionStatus(filters.status))
    return query


@dataclass
class ActionPage:
    """One page of the tracker: `page` is the page asked for, empty when it lies past the last one."""

    items: list[ActionItem]
    total: int
    page: int
    pages: int
    escalated: set[int] = field(default_factory=set)


def list_actions(user, filters: ActionFilters, today: date | None = None, page_size: int = PAGE_SIZE) -> ActionPage:
    """Actions the user may see, filtered and sorted (deadline first by default), one page."""
    today = today or local_today()
    query = _filtered(user, filters, today)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    owner, dept = aliased(User), aliased(Department)
    status_order = case({s: i for i, s in enumerate((ActionStatus.NEED_SUPPORT, ActionStatus.DELAYED,
                                                     ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS,
                                                     ActionStatus.DONE))}, value=ActionItem.status)
    keys = {
        "due": [ActionItem.due_date],
        "status": [status_order, ActionItem.due_date],
        "department": [dept.name, ActionItem.due_date],
        "owner": [owner.name, ActionItem.due_date],
        "meeting": [Meeting.starts_at, ActionItem.position],
        "created": [ActionItem.created_at],
    }[filters.sort if filters.sort in SORTS else "due"]
    if filters.sort == "department":
        query = query.join(dept, dept.id == ActionItem.owner_department_id)
    if filters.sort == "owner":
        query = query.join(owner, owner.id == ActionItem.owner_id)
    order = [k.desc() for k in keys] if filters.descending else list(keys)
    pages = max(1, -(-total // page_size))
    page = max(1, filters.page)
    items = list(db.session.scalars(
        query.order_by(*order, ActionItem.id).offset((page - 1) * page_size).limit(page_size)
        .options(selectinload(ActionItem.owner), selectinload(ActionItem.owner_department),
                 selectinload(ActionItem.meeting), selectinload(ActionItem.cooperating_departments))))
    return ActionPage(items=items, total=total, page=page, pages=pages, escalated=escalated_ids(items))


def escalated_ids(actions: list[ActionItem]) -> set[int]:
    """Which of these actions were escalated for their current deadline (需协调)."""
    if not actions:
        return set()
    return set(db.session.scalars(select(ActionItem.id).where(ActionItem.id.in_([a.id for a in actions]),
                                                                 ActionItem.status != ActionStatus.DONE,
                                                                 reminders.escalated_filter())))


def department_counts(user, filters: ActionFilters, today: date | None = None) -> list[dict]:
    """Per owner department: all, open, overdue and done actions under the other filters."""
    today = today or local_today()
    base = _filtered(user, filters, today, with_department=False).subquery()
    done = base.c.status == ActionStatus.DONE
    rows = db.session.execute(
        select(Department, func.count(), func.sum(case((done, 0), else_=1)),
               func.sum(case((and_(~done, base.c.due_date < today), 1), else_=0)), func.sum(case((done, 1), else_=0)))
        .join(base, base.c.owner_department_id == Department.id)
        .group_by(Department.id).order_by(Department.id))
    return [{"department": d, "total": total, "open": int(open_ or 0), "overdue": int(late or 0), "done": int(n_done or 0)}
            for d, total, open_, late, n_done in rows]


def my_actions(user, today: date | None = None) -> dict:
    """My actions: overdue, due within 5 working days, later, and done in the last 30 days."""
    today = today or local_today()
    soon_limit = work_calendar().add_workdays(today, 5)
    rows = list(db.session.scalars(
        select(ActionItem).where(ActionItem.owner_id == user.id, ActionItem.deleted_at.is_(None))
        .order_by(ActionItem.due_date, ActionItem.id)
        .options(selectinload(ActionItem.meeting), selectinload(ActionItem.owner_department),
                 selectinload(ActionItem.cooperating_departments))))
    groups = {"overdue": [], "soon": [], "later": [], "done": []}
    for action in rows:
        if action.status == ActionStatus.DONE:
            if action.updated_at is None or action.updated_at >= utcnow() - timedelta(days=30):
                groups["done"].append(action)
        elif action.due_date < today:
            groups["overdue"].append(action)
        elif action.due_date <= soon_limit:
            groups["soon"].append(action)
        else:
            groups["later"].append(action)
    groups["done"].reverse()
    groups["escalated"] = escalated_ids(rows)
    return groups


# --- coordination (需协调) and follow-up meetings (二次沟通会议) ----------------------------------

def _led_by(user):
    """Meetings the user hosts or records, or created."""
    led = select(Participant.meeting_id).where(Participant.user_id == user.id,
                                               Participant.role.in_((Role.HOST, Role.RECORDER)))
    return or_(Meeting.id.in_(led), Meeting.created_by_id == user.id)


def coordination(user, limit: int | None = None) -> list[ActionItem]:
    """Actions of meetings the user hosts that need coordination: escalated, their owner asked for support,
    or their owner is gone (the account deactivated: left the company directory)."""
    hosted = select(Participant.meeting_id).where(Participant.user_id == user.id, Participant.role == Role.HOST)
    owner_gone = ActionItem.owner_id.in_(select(User.id).where(User.is_enabled.is_(False)))
    query = (select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
             .where(ActionItem.meeting_id.in_(hosted), ActionItem.deleted_at.is_(None),
                    ActionItem.status != ActionStatus.DONE,
                    or_(reminders.escalated_filter(), ActionItem.status == ActionStatus.NEED_SUPPORT, owner_gone))
             .order_by(ActionItem.due_date, ActionItem.id)
             .options(selectinload(ActionItem.owner), selectinload(ActionItem.owner_department),
                      selectinload(ActionItem.meeting)))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def due_soon(user, today: date | None = None, limit: int = 8) -> list[ActionItem]:
    """The user's open actions that are overdue or due within 5 working days, soonest first."""
    today = today or local_today()
    horizon = work_calendar().add_workdays(today, 5)
    return list(db.session.scalars(
        select(ActionItem).where(ActionItem.owner_id == user.id, ActionItem.deleted_at.is_(None),
                                 ActionItem.status != ActionStatus.DONE, ActionItem.due_date <= horizon)
        .order_by(ActionItem.due_date, ActionItem.id).limit(limit)
        .options(selectinload(ActionItem.meeting))))


def follow_up_candidates(user, today: date | None = None) -> list[ActionItem]:
    """Overdue (or 需支持) open actions of meetings the user leads: what a follow-up meeting takes up."""
    today = today or local_today()
    return list(db.session.scalars(
        select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(_led_by(user), ActionItem.deleted_at.is_(None), ActionItem.status != ActionStatus.DONE,
               ActionItem.confirmed_at.is_not(None),
               or_(ActionItem.due_date < today, ActionItem.status == ActionStatus.NEED_SUPPORT))
        .order_by(ActionItem.due_date, ActionItem.id)
        .options(selectinload(ActionItem.owner), selectinload(ActionItem.owner_department),
                 selectinload(ActionItem.meeting))))


def follow_ups_of(actions: list[ActionItem]) -> dict[int, list[Meeting]]:
    """For each action, the follow-up meetings already arranged for it."""
    if not actions:
        return {}
    out: dict[int, list[Meeting]] = {}
    for action_id, meeting in db.session.execute(
            select(action_follow_up.c.action_id, Meeting).join(Meeting, Meeting.id == action_follow_up.c.meeting_id)
            .where(action_follow_up.c.action_id.in_([a.id for a in actions]), Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.starts_at)):
        out.setdefault(action_id, []).append(meeting)
    return out


def suggested_follow_up_start(today: date | None = None) -> datetime:
    """The earliest slot that leaves the agenda its 2 working days: that day at 10:00 local time."""
    day = meetings.earliest_compliant_date(today or local_today())
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=LOCAL_TZ)


def _follow_up_description(action: ActionItem, last: ActionUpdate | None, today: date) -> str:
    calendar = work_calendar()
    late = calendar.workdays_between(action.due_date, today)
    lines = [gettext("待办：%(text)s", text=action.text)] if len(action.text) > FOLLOW_UP_TITLE_CHARS else []
    due = gettext("截止日期：%(due)s", due=cn_date(action.due_date))
    if late > 0:
        due += gettext("，已逾期%(days)s个工作日", days=late)
    lines += [gettext("负责人：%(owner)s（%(department)s）", owner=action.owner.name,
                      department=action.owner_department.name), due,
              gettext("当前状态：%(status)s", status=action.status.label),
              gettext("来源会议：%(topic)s（%(day)s）", topic=action.meeting.topic, day=cn_date(action.meeting.starts_at))]
    if last is not None:
        lines.append(gettext("最近进展：%(note)s（%(name)s，%(time)s）", note=last.note or last.new_status.label,
                             name=last.created_by.name, time=cn_datetime(last.created_at)))
    lines.append(gettext("本议题需明确：未完成原因、所需资源与支持、新的完成日期。"))
    return "\n".join(lines)


def create_follow_up(actor: User, action_ids, starts_at: datetime | None, minutes=None, location: str = "",
                     online_link: str = "", topic: str = "", now: datetime | None = None) -> Meeting:
    """Plan a follow-up meeting (二次沟通会议) on overdue actions: one agenda item each, owners invited.

    The actor becomes the host; when every action comes from one meeting its recorder records this one too.
    """
    now = now or utcnow()
    today = to_local(now).date()
    ids = []
    for raw in action_ids or []:
        action_id = parse_id(raw)
        if action_id is not None and action_id not in ids:
            ids.append(action_id)
    if not ids:
        raise ValidationFailed(gettext("请至少选择一项逾期待办"), field="action_ids")
    actions = [get_action(actor, action_id) for action_id in ids]
    for action in actions:
        if not meetings.can_edit(actor, action.meeting):
            raise PermissionDenied(gettext("只有会议“%(topic)s”的主持人、记录人或发起人可以就其待办发起二次沟通会议", topic=action.meeting.topic))
        if action.status == ActionStatus.DONE or not (action.due_date < today or action.status == ActionStatus.NEED_SUPPORT):
            raise RuleViolation(gettext("待办“%(action)s”未逾期，无需发起二次沟通会议", action=action.text[:30]), field="action_ids")
    sources = list({a.meeting_id: a.meeting for a in actions}.values())
    try:
        length = int(str(minutes).strip()) if str(minutes or "").strip() else None
    except ValueError:
        length = None
    if length is None or not 15 <= length <= 720:
        length = max(30, FOLLOW_UP_ITEM_MINUTES * len(actions) + 10)
    topic = (topic or "").strip() or (gettext("二次沟通会议：%(topic)s", topic=sources[0].topic) if len(sources) == 1
                                      else gettext("二次沟通会议：逾期待办协调"))[:200]
    data = meetings.MeetingInput(
        topic=topic[:200],
        goal=gettext("逐项沟通逾期待办未完成的原因，协调所需资源和支持，确定新的完成日期。"),
        expected_outcome=gettext("每项逾期待办都有明确的负责人、所需支持和新的截止日期。"),
        scenario="problem",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=length) if starts_at else None,
        location=(location or "").strip() or sources[0].location,
        online_link=(online_link or "").strip() or ("" if (location or "").strip() else sources[0].online_link),
        organizer_department_id=actor.department_id,
        confidential=any(m.confidential for m in sources),
    )
    meeting = meetings.create_meeting(actor, data)
    last = _last_updates([a.id for a in actions])
    per_item = max(5, min(FOLLOW_UP_ITEM_MINUTES, (length - 5) // len(actions))) if len(actions) else FOLLOW_UP_ITEM_MINUTES
    for action in actions:
        short = action.text if len(action.text) <= FOLLOW_UP_TITLE_CHARS else action.text[:FOLLOW_UP_TITLE_CHARS - 1] + "…"
        meetings.add_agenda_item(actor, meeting, gettext("逾期待办：%(text)s", text=short), per_item,
                                 action.owner_department_id, _follow_up_description(action, last.get(action.id), today))
    owners = [a.owner_id for a in actions if a.owner_id != actor.id and a.owner.is_enabled]
    if owners:
        meetings.invite(actor, meeting, sorted(set(owners)), Role.PARTICIPANT.value)
    if len(sources) == 1:
        recorder = sources[0].recorder
        if recorder is not None and recorder.id != actor.id and recorder.is_enabled:
            meetings.assign_lead_role(actor, meeting, Role.RECORDER, recorder)
    db.session.execute(insert(action_follow_up), [{"action_id": a.id, "meeting_id": meeting.id} for a in actions])
    db.session.flush()
    return meeting


def _last_updates(action_ids: list[int]) -> dict[int, ActionUpdate]:
    if not action_ids:
        return {}
    latest = select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(action_ids)).group_by(ActionUpdate.action_id)
    return {u.action_id: u for u in db.session.scalars(select(ActionUpdate).where(ActionUpdate.id.in_(latest)))}


def last_updates(actions: list[ActionItem]) -> dict[int, ActionUpdate]:
    """The newest status report of each action."""
    return _last_updates([a.id for a in actions])
