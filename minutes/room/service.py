"""Rules of the live meeting room (会中记录): start, attendance, the agenda walk, points,
decisions and actions with the vague-wording check, the end-of-meeting review, finish.

Every function takes the acting user and plain values, checks permission, changes state,
flushes and returns the object; the caller commits. Every change that viewers must see bumps
the room's revision in the same transaction and records which parts of the room changed
(`minutes.room.events`); after the commit those parts are rendered and published to every
open tab (`minutes.room.live`).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from minutes.actions.models import ActionItem, ActionStatus
from minutes.admin.service import work_calendar
from minutes.core import clarity
from minutes.core.errors import NotFound, PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, cn_date, cn_datetime, cn_time, local_today, to_local, utcnow
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting, MeetingStatus, Role
from minutes.meetings import series
from minutes.meetings import service as meetings_service
from minutes.meetings.service import can_view
from minutes.people.models import Department, User
from minutes.room import events
from minutes.room.models import (Attendance, AttendanceStatus, Decision, ItemClock, Point, PointKind, RoomState,
                                 ScreenMode)

#: The formal minutes are due this long after the meeting ends (会议结束后24小时内).
MINUTES_DUE_AFTER = timedelta(hours=24)
MAX_TEXT = 2000
WRITABLE_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW)
STARTABLE_STATUSES = (MeetingStatus.DRAFT, MeetingStatus.AGENDA_SENT)
#: Starting further than this from the planned start (before or after) asks "really now?" first: an hour or two
#: early or late is an ordinary meeting; three days early is a click on the wrong meeting, or a moved meeting.
START_CONFIRM_WINDOW = timedelta(hours=2)


class StartNeedsConfirmation(RuleViolation):
    """Starting far from the planned time: the page asks to confirm, then starts with `confirmed`."""

    code = "confirm_required"
ROOM_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW, MeetingStatus.MINUTES_DUE,
                 MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)


class VagueWording(ValidationFailed):
    """A decision or action still contains vague wording; `findings` lists the terms and fixes."""

    code = "vague_wording"

    def __init__(self, message: str, findings: list, field: str = "text"):
        super().__init__(message, field=field)
        self.findings = findings


# --- permissions -----------------------------------------------------------------------------

def can_write(user, meeting: Meeting) -> bool:
    """The recorder and the host write in the room; everyone else who can see the meeting watches."""
    if not can_view(user, meeting):
        return False
    return meeting.role_of(user) in (Role.HOST, Role.RECORDER)


def can_start(user, meeting: Meeting) -> bool:
    """Tell whether `user` may start the meeting now."""
    return meeting.status in STARTABLE_STATUSES and can_write(user, meeting)


def get_meeting(user, meeting_id) -> Meeting:
    """Load a meeting whose room the user may watch; an invisible one is reported missing."""
    meeting = get_by_id(Meeting, meeting_id)
    if meeting is None or not can_view(user, meeting):
        raise NotFound(gettext("会议不存在或您无权查看"))
    return meeting


def get_meeting_to_write(user, meeting_id) -> Meeting:
    """Load a meeting for the room's writing forms: invisible is missing, a mere viewer is refused."""
    meeting = get_meeting(user, meeting_id)
    if not can_write(user, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以记录"))
    return meeting


def _require_write(actor, meeting: Meeting) -> RoomState:
    if not can_write(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以记录"))
    if meeting.status not in WRITABLE_STATUSES:
        if meeting.status in STARTABLE_STATUSES:
            raise RuleViolation(gettext("会议尚未开始，请先开始会议"))
        raise RuleViolation(gettext("会议%(status)s，会中记录已不能修改", status=meeting.status.label))
    # Writers of one room take turns: the row lock (PostgreSQL; SQLite writes are serial anyway) is held
    # until the commit, so positions and the review cursor are computed on what the previous writer left.
    room = db.session.scalars(
        select(RoomState).where(RoomState.meeting_id == meeting.id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if room is None:  # pragma: no cover - a status in progress always has a room
        raise RuleViolation(gettext("会议尚未开始，请先开始会议"))
    # The meeting holds on to it (the session keeps only weak references): rendering the change before
    # the commit finds it in the session instead of reading it again.
    set_committed_value(meeting, "room", room)
    return room


def room_of(meeting: Meeting) -> RoomState | None:
    """The room of a started meeting, or None before it starts."""
    return db.session.get(RoomState, meeting.id)


def current_revision(meeting_id: int) -> int:
    """The room's revision as committed (0 before the meeting starts)."""
    return db.session.scalar(select(RoomState.revision).where(RoomState.meeting_id == meeting_id)) or 0


def _changed(meeting: Meeting, *parts: str) -> int:
    """Bump the room's revision atomically and note which parts of the room viewers must re-read."""
    revision = db.session.execute(
        update(RoomState)
        .where(RoomState.meeting_id == meeting.id)
        .values(revision=RoomState.revision + 1)
        .returning(RoomState.revision),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    loaded = db.session.identity_map.get(db.session.identity_key(RoomState, meeting.id))
    if loaded is not None:  # the value the database now holds (so reading it costs no query)
        set_committed_value(loaded, "revision", revision)
    events.record(db.session, meeting.id, revision, parts)
    return revision


def _flush(what: str) -> None:
    """Flush, turning a concurrent write on a versioned row into a clear refusal."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit(gettext("%(what)s刚被他人修改，您的修改未保存。请查看最新内容后重试", what=what)) from None


def _clean_text(text: str, what: str, field_name: str = "text") -> str:
    text = re.sub(r"[ \t]+\n", "\n", (text or "").strip())
    if not text:
        raise ValidationFailed(gettext("请填写%(what)s内容", what=what), field=field_name)
    if len(text) > MAX_TEXT:
        raise ValidationFailed(gettext("%(what)s内容不超过%(MAX_TEXT)s个字", what=what, MAX_TEXT=MAX_TEXT), field=field_name)
    return text


def _agenda_item(meeting: Meeting, agenda_item_id) -> AgendaItem:
    item = get_by_id(AgendaItem, agenda_item_id)
    if item is None or item.meeting_id != meeting.id:
        raise ValidationFailed(gettext("请选择议题"), field="agenda_item_id")
    return item


def _department(department_id, field_name: str, required_message: str | None = None) -> Department | None:
    if department_id in (None, ""):
        if required_message:
            raise ValidationFailed(required_message, field=field_name)
        return None
    dept = get_by_id(Department, department_id)
    if dept is None:
        raise ValidationFailed(gettext("部门不存在"), field=field_name)
    return dept


def _departments(ids, field_name: str) -> list[Department]:
    result: list[Department] = []
    for dept_id in ids or ():
        dept = _department(dept_id, field_name)
        if dept is not None and dept not in result:
            result.append(dept)
    return result


def _person(user_id, field_name: str, required_message: str | None = None) -> User | None:
    if user_id in (None, ""):
        if required_message:
            raise ValidationFailed(required_message, field=field_name)
        return None
    user = get_by_id(User, user_id)
    if user is None:
        raise ValidationFailed(gettext("人员不存在"), field=field_name)
    return user


def _check_version(obj, version, what: str) -> None:
    if version in (None, ""):
        return
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("版本号无效，请刷新页面"), field="version") from None
    if version != obj.version:
        who = obj.updated_by.name if getattr(obj, "updated_by", None) else gettext("他人")
        when = (gettext("于%(updated_at)s", updated_at=cn_time(obj.updated_at))
                if getattr(obj, "updated_at", None) else "")
        if getattr(obj, "deleted_at", None) is not None:
            raise StaleEdit(gettext("%(what)s已被删除，您的修改未保存", what=what))
        raise StaleEdit(gettext("%(what)s已被%(who)s%(when)s修改，您的修改未保存。请查看最新内容后重试", what=what, who=who, when=when))


# --- lifecycle -------------------------------------------------------------------------------

def start_problems(meeting: Meeting) -> list[str]:
    """What the room still needs before the meeting can start: a recorder and at least one agenda item."""
    problems = []
    if meeting.recorder is None:
        problems.append(gettext("尚未指定记录人"))
    if not meeting.agenda_items:
        problems.append(gettext("议程中还没有议题"))
    return problems


def _distance(delta: timedelta) -> str:
    """提前3天 / 推迟2小时30分钟: how far from the plan a start is."""
    amount = abs(delta)
    if amount >= timedelta(days=1):
        text = gettext("%(days)s天", days=amount.days) + (gettext("%(hours)s小时", hours=amount.seconds // 3600)
                                                          if amount.seconds >= 3600 else "")
    else:
        hours, minutes = amount.seconds // 3600, amount.seconds % 3600 // 60
        text = (gettext("%(hours)s小时", hours=hours) if hours else "") + \
            (gettext("%(minutes)s分钟", minutes=minutes) if minutes or not hours else "")
    return gettext("提前%(amount)s", amount=text) if delta < timedelta(0) else gettext("推迟%(amount)s", amount=text)


def start_needs_confirmation(meeting: Meeting, now: datetime | None = None) -> str | None:
    """The question to ask before starting more than START_CONFIRM_WINDOW from the planned start, or None."""
    now = now or utcnow()
    delta = now - meeting.starts_at
    if abs(delta) <= START_CONFIRM_WINDOW:
        return None
    return gettext("会议原定于%(planned)s开始，现在开始将%(distance)s。确定现在开始吗？开始后，会议时间以实际开始和结束时间为准"
                   "（会议室、工作台、归档、导出和纪要均使用实际时间，原定时间另行注明）。",
                   planned=cn_datetime(meeting.starts_at), distance=_distance(delta))


def start_meeting(actor: User, meeting: Meeting, now: datetime | None = None, confirmed: bool = True) -> RoomState:
    """Start the meeting: open the room, put the first agenda item on the clock, list attendance.

    The meeting's time becomes the actual one (the plan is kept in planned_starts_at/planned_ends_at); while it
    runs it is expected to last as long as planned. Unless `confirmed`, a start far from the plan is refused with
    the question to ask (StartNeedsConfirmation)."""
    if not can_write(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以开始会议"))
    if meeting.status not in STARTABLE_STATUSES or room_of(meeting) is not None:
        raise RuleViolation(gettext("会议%(status)s，不能开始", status=meeting.status.label))
    problems = start_problems(meeting)
    if problems:
        raise RuleViolation(gettext("会议还不能开始：%(problems)s。请先在会议页面补齐", problems="；".join(problems)))
    now = now or utcnow()
    question = None if confirmed else start_needs_confirmation(meeting, now)
    if question:
        raise StartNeedsConfirmation(question, fields={"planned_starts_at": meeting.starts_at.isoformat()})
    meeting.planned_starts_at, meeting.planned_ends_at = meeting.starts_at, meeting.ends_at
    meeting.starts_at, meeting.ends_at = now, now + (meeting.planned_ends_at - meeting.planned_starts_at)
    first = meeting.agenda_items[0] if meeting.agenda_items else None
    room = RoomState(meeting=meeting, revision=1, started_at=now, started_by=actor, screen_mode=ScreenMode.LIVE,
                     current_item=first, item_started_at=now if first else None)
    db.session.add(room)
    if first is not None:
        db.session.add(ItemClock(meeting_id=meeting.id, agenda_item=first, spent_seconds=0, first_started_at=now))
    for participant in meeting.participants:
        if participant.role == Role.CC:
            continue
        status = AttendanceStatus.PRESENT if participant.user_id == actor.id else AttendanceStatus.PENDING
        db.session.add(Attendance(meeting_id=meeting.id, user_id=participant.user_id, status=status, invited=True,
                                  updated_at=now if status != AttendanceStatus.PENDING else None,
                                  updated_by_id=actor.id if status != AttendanceStatus.PENDING else None))
    meeting.status = MeetingStatus.IN_PROGRESS
    _flush(gettext("会议"))
    events.record(db.session, meeting.id, 1, (events.ALL,))
    return room


def add_agenda_item(actor: User, meeting: Meeting, title: str, minutes, department_id=None,
                    description: str = "") -> AgendaItem:
    """Add an agenda item: before the start as planning does; during the meeting a 临时议题, added last by
    the host or the recorder and shown live in every tab."""
    if meeting.status in STARTABLE_STATUSES:
        return meetings_service.add_agenda_item(actor, meeting, title, minutes, department_id, description)
    _require_write(actor, meeting)
    item = meetings_service.append_agenda_item(meeting, title, minutes, department_id, description)
    _changed(meeting, events.AGENDA, events.item_added(item.id))
    return item


def _stop_clock(room: RoomState, now: datetime) -> None:
    if room.current_item_id is None or room.item_started_at is None:
        return
    clock = _clock_for(room.meeting_id, room.current_item_id)
    if clock is not None:
        clock.spent_seconds += max(0, int((now - room.item_started_at).total_seconds()))
    room.item_started_at = None


def _clock_for(meeting_id: int, agenda_item_id: int) -> ItemClock | None:
    return db.session.scalar(select(ItemClock).where(ItemClock.agenda_item_id == agenda_item_id))


def set_current_item(actor: User, meeting: Meeting, agenda_item_id, now: datetime | None = None) -> RoomState:
    """Move the discussion to an agenda item: the previous item's clock stops, this one's runs."""
    room = _require_write(actor, meeting)
    item = _agenda_item(meeting, agenda_item_id)
    now = now or utcnow()
    if room.current_item_id == item.id and room.item_started_at is not None:
        return room
    previous = room.current_item_id
    _stop_clock(room, now)
    clock = _clock_for(meeting.id, item.id)
    if clock is None:
        db.session.add(ItemClock(meeting_id=meeting.id, agenda_item=item, spent_seconds=0, first_started_at=now))
    room.current_item = item
    room.item_started_at = now
    _flush(gettext("会议状态"))
    parts = [events.HEAD, events.AGENDA, events.item(item.id)]
    if previous is not None and previous != item.id:
        parts.append(events.item(previous))
    _changed(meeting, *parts)
    return room


def item_elapsed_seconds(room: RoomState | None, agenda_item_id: int, now: datetime | None = None) -> int:
    """Seconds spent on an agenda item so far, including the running part if it is current."""
    if room is None:
        return 0
    clock = _clock_for(room.meeting_id, agenda_item_id)
    spent = clock.spent_seconds if clock else 0
    if room.current_item_id == agenda_item_id and room.item_started_at is not None:
        spent += max(0, int(((now or utcnow()) - room.item_started_at).total_seconds()))
    return spent


def enter_review(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """Switch the screen to the end-of-meeting review: walk every decision and action one by one."""
    room = _require_write(actor, meeting)
    if meeting.status == MeetingStatus.REVIEW:
        return room
    _stop_clock(room, now or utcnow())
    meeting.status = MeetingStatus.REVIEW
    room.screen_mode = ScreenMode.REVIEW
    entries = review_entries(meeting)
    pending = [e for e in entries if not e.is_confirmed]
    room.review_key = (pending or entries)[0].review_key if entries else None
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room


def leave_review(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """Go back from the review to live recording (something needs adding); the clock runs again."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        return room
    meeting.status = MeetingStatus.IN_PROGRESS
    room.screen_mode = ScreenMode.LIVE
    if room.current_item_id is not None:
        room.item_started_at = now or utcnow()
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room


def review_entries(meeting: Meeting) -> list[Decision | ActionItem]:
    """Decisions and actions in the order the review walks them: by agenda item, decisions first."""
    order = {item.id: item.position for item in meeting.agenda_items}
    decisions = list(db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.deleted_at.is_(None))))
    actions = list(db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.deleted_at.is_(None))))
    key = lambda e: (order.get(e.agenda_item_id, 10**6), e.position, e.id)  # noqa: E731
    entries: list[Decision | ActionItem] = []
    for item_id in sorted({e.agenda_item_id for e in decisions + actions}, key=lambda i: order.get(i, 10**6)):
        entries += sorted((d for d in decisions if d.agenda_item_id == item_id), key=key)
        entries += sorted((a for a in actions if a.agenda_item_id == item_id), key=key)
    return entries


def review_entry(meeting: Meeting, key: str) -> Decision | ActionItem:
    """Load the decision ("decision:<id>") or action ("action:<id>") of this meeting named by a review key."""
    kind, _, raw = (key or "").partition(":")
    model = {"decision": Decision, "action": ActionItem}.get(kind)
    entry = get_by_id(model, raw) if model else None
    if entry is None or entry.meeting_id != meeting.id or entry.deleted_at is not None:
        raise NotFound(gettext("该决议或待办不存在或已删除"))
    return entry


def review_goto(actor: User, meeting: Meeting, key: str) -> RoomState:
    """Put one decision or action on the screen during the review."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("请先进入会末确认"))
    entry = review_entry(meeting, key)
    if room.review_key != entry.review_key:
        room.review_key = entry.review_key
        _flush(gettext("会议状态"))
        _changed(meeting, events.REVIEW)
    return room


def review_step(actor: User, meeting: Meeting, delta: int) -> RoomState:
    """Move the review cursor to the next (+1) or previous (-1) entry."""
    room = _require_write(actor, meeting)
    entries = review_entries(meeting)
    if not entries:
        return room
    keys = [e.review_key for e in entries]
    index = keys.index(room.review_key) if room.review_key in keys else -1
    target = max(0, min(len(keys) - 1, index + (1 if delta > 0 else -1)))
    return review_goto(actor, meeting, keys[target])


def _advance_cursor(room: RoomState, meeting: Meeting, after: str) -> None:
    entries = review_entries(meeting)
    keys = [e.review_key for e in entries]
    start = keys.index(after) + 1 if after in keys else 0
    for entry in entries[start:] + entries[:start]:
        if not entry.is_confirmed:
            room.review_key = entry.review_key
            return
    room.review_key = after


def confirm_entry(actor: User, meeting: Meeting, key: str, version=None, now: datetime | None = None):
    """Mark a decision or action 已确认 as read out in the review; the cursor moves to the next one."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("逐项确认须在会末确认中进行"))
    entry = review_entry(meeting, key)
    what = gettext("该决议") if isinstance(entry, Decision) else gettext("该待办")
    _check_version(entry, version, what)
    if not entry.is_confirmed:
        entry.confirmed_at = now or utcnow()
        entry.confirmed_by = actor
    _advance_cursor(room, meeting, entry.review_key)
    _flush(what)
    _changed(meeting, events.HEAD, events.REVIEW, events.item(entry.agenda_item_id))
    return entry


def reword_entry(actor: User, meeting: Meeting, key: str, text: str, due: str | date | None = None, version=None,
                 now: datetime | None = None, due_confirmed: str | None = ""):
    """Change a decision's or action's wording on the spot and confirm it; the vague check runs again."""
    room = _require_write(actor, meeting)
    if meeting.status != MeetingStatus.REVIEW:
        raise RuleViolation(gettext("当场改写须在会末确认中进行"))
    entry = review_entry(meeting, key)
    is_action = isinstance(entry, ActionItem)
    what = gettext("该待办") if is_action else gettext("该决议")
    _check_version(entry, version, what)
    text = _clean_text(text, gettext("待办") if is_action else gettext("决议"))
    if due is None:
        due = entry.due_text or entry.due_date
    due_date, due_text = _resolve_due(text, due, required=is_action, what=gettext("待办") if is_action else gettext("决议"),
                                      due_confirmed=due_confirmed)
    now = now or utcnow()
    if text != entry.text or due_date != entry.due_date:
        entry.reworded = True
    entry.text, entry.due_date, entry.due_text = text, due_date, due_text
    entry.updated_at, entry.updated_by = now, actor
    entry.confirmed_at, entry.confirmed_by = now, actor
    _advance_cursor(room, meeting, entry.review_key)
    _flush(what)
    _changed(meeting, events.HEAD, events.REVIEW, events.item(entry.agenda_item_id))
    return entry


def unconfirmed_count(meeting: Meeting) -> int:
    """Decisions and actions not yet confirmed in the review."""
    return sum(1 for e in review_entries(meeting) if not e.is_confirmed)


def finish_meeting(actor: User, meeting: Meeting, now: datetime | None = None) -> RoomState:
    """End the meeting once every decision and action is confirmed; the minutes are due in 24 hours."""
    room = _require_write(actor, meeting)
    open_count = unconfirmed_count(meeting)
    if open_count:
        raise RuleViolation(gettext("还有%(open_count)s项决议或待办未逐项确认。请在会末确认中逐项确认（或当场改写）后再结束会议", open_count=open_count))
    now = now or utcnow()
    _stop_clock(room, now)
    room.ended_at, room.ended_by = now, actor
    meeting.ends_at = max(now, meeting.starts_at)
    room.minutes_due_at = now + MINUTES_DUE_AFTER
    room.screen_mode = ScreenMode.LIVE
    meeting.status = MeetingStatus.MINUTES_DUE
    _flush(gettext("会议状态"))
    _changed(meeting, events.ALL)
    return room


def undiscussed(items: list[ItemView]) -> list[AgendaItem]:
    """The agenda items the meeting never discussed: nothing recorded on them (no point, decision or action)."""
    return [view.item for view in items if not view.count]


def undiscussed_items(meeting: Meeting) -> list[AgendaItem]:
    """The agenda items of `meeting` never discussed (see `undiscussed`)."""
    return undiscussed(room_items(meeting))


@dataclass
class Carried:
    """Where `carry_over` put the undiscussed items: `count` items now, or none when `already` carried."""

    meeting: Meeting
    count: int
    already: bool = False


def carried_into(item: AgendaItem) -> Meeting | None:
    """The meeting an undiscussed item was carried to, unless that meeting was cancelled (it may go again)."""
    target = item.carried_to
    return target if target is not None and target.status != MeetingStatus.CANCELLED else None


def carry_overview(meeting: Meeting) -> list[tuple[AgendaItem, Meeting | None]]:
    """Each undiscussed item of `meeting` with the meeting it was carried to (None: still to carry)."""
    return [(item, carried_into(item)) for item in undiscussed_items(meeting)]


def carry_over(actor: User, meeting: Meeting, into: str = "follow_up", now: datetime | None = None) -> Carried:
    """Put the agenda items an ended meeting never discussed on another meeting's agenda (待议事项), once.

    `into`="follow_up": a new meeting with the same goal, place, people and roles, at 10:00 on the first day
    that leaves the agenda its working days. `into`="series": the next meeting of its series (planned now if
    there is none yet). The host or recorder of the ended meeting does it and can change everything after.
    Each item records where it went: carrying again (a second click, a second person, a resubmitted form)
    finds that meeting and plans nothing. The meeting's row lock makes simultaneous requests take turns.
    """
    if not can_write(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以安排待议事项"))
    if meeting.status not in (MeetingStatus.MINUTES_DUE, MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL):
        raise RuleViolation(gettext("会议结束后才能将未讨论的议题转入后续会议"))
    _lock_for_carrying(meeting)
    overview = carry_overview(meeting)
    if not overview:
        raise RuleViolation(gettext("本次会议的议题都已讨论，没有待议事项"))
    items = [item for item, target in overview if target is None]
    if not items:
        return Carried(next(target for _, target in overview if target is not None), 0, already=True)
    source = gettext("上次会议（%(date)s）未及讨论的议题。", date=cn_date(meeting.starts_at))
    if into == "series":
        if meeting.series_id is None:
            raise RuleViolation(gettext("该会议不属于周期会议系列"))
        target = series.next_in_series(meeting) or series.create_next_in_series(actor, meeting)
    else:
        today = to_local(now or utcnow()).date()
        day = meetings_service.earliest_compliant_date(today)
        starts_at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=LOCAL_TZ)
        length = timedelta(minutes=sum(item.minutes for item in items) + 10)
        target = meetings_service.plan_like(actor, meeting, starts_at, length,
                                            gettext("%(topic)s（待议事项）", topic=meeting.topic)[:200])
    _add_items(actor, target, items, source)
    for item in items:
        item.carried_to = target
    db.session.flush()
    return Carried(target, len(items))


def _lock_for_carrying(meeting: Meeting) -> None:
    """Hold the meeting's row until the commit (PostgreSQL; SQLite writes are serial anyway) and read its
    agenda items afresh, so a second carry waits for the first and then sees where the items went."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    db.session.expire(meeting, ["agenda_items"])
    db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                       .execution_options(populate_existing=True)).all()


def _add_items(actor: User, meeting: Meeting, items: list[AgendaItem], source: str) -> None:
    """Append the items to `meeting`'s agenda, but not twice (carrying again adds nothing)."""
    present = {i.title for i in meeting.agenda_items}
    for item in items:
        if item.title in present:
            continue
        meetings_service.add_agenda_item(actor, meeting, item.title, item.minutes, item.department_id,
                                         "\n".join(filter(None, (source, item.description))))
    db.session.expire(meeting, ["agenda_items"])


# --- attendance ------------------------------------------------------------------------------

def attendance(meeting: Meeting) -> list[Attendance]:
    """Attendance rows: invited people by department, then those who came uninvited."""
    rows = list(db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)
                                   .options(selectinload(Attendance.user))))
    return sorted(rows, key=lambda a: (not a.invited, a.user.department_id, a.user.name))


def attendance_row(meeting: Meeting, user_id) -> Attendance:
    """One person's attendance row in this meeting."""
    row = db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                     Attendance.user_id == (parse_id(user_id) or -1)))
    if row is None:
        raise NotFound(gettext("该人员不在本次会议的签到名单中"), field="user_id")
    return row


def mark_attendance(actor: User, meeting: Meeting, user_id, status: str, arrived_at: datetime | None = None,
                    reason: str = "", now: datetime | None = None) -> Attendance:
    """Mark someone present, late (with the arrival time) or absent (with a reason)."""
    _require_write(actor, meeting)
    row = attendance_row(meeting, user_id)
    try:
        status = AttendanceStatus(status)
    except ValueError:
        raise ValidationFailed(gettext("签到状态无效"), field="status") from None
    now = now or utcnow()
    reason = (reason or "").strip()
    if status == AttendanceStatus.ABSENT:
        if not reason:
            raise ValidationFailed(gettext("请注明%(user)s缺席的原因", user=row.user.name), field="reason")
        if len(reason) > 200:
            raise ValidationFailed(gettext("缺席原因不超过200个字"), field="reason")
    row.status = status
    row.arrived_at = (arrived_at or now) if status == AttendanceStatus.LATE else None
    row.absence_reason = reason if status == AttendanceStatus.ABSENT else ""
    row.updated_at, row.updated_by_id = now, actor.id
    _flush(gettext("签到"))
    _changed(meeting, events.ATTENDANCE, events.HEAD)
    return row


def add_attendee(actor: User, meeting: Meeting, user_id, now: datetime | None = None) -> Attendance:
    """Add someone who came without being invited; they are marked present."""
    _require_write(actor, meeting)
    user = _person(user_id, "user_id", gettext("请选择到会人员"))
    existing = db.session.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id,
                                                          Attendance.user_id == user.id))
    if existing is not None:
        raise RuleViolation(gettext("%(user)s已在签到名单中", user=user.name), field="user_id")
    now = now or utcnow()
    row = Attendance(meeting_id=meeting.id, user=user, status=AttendanceStatus.PRESENT, invited=False,
                     updated_at=now, updated_by_id=actor.id)
    db.session.add(row)
    _flush(gettext("签到"))
    _changed(meeting, events.ATTENDANCE, events.HEAD)
    return row


def attendance_summary(rows: list[Attendance]) -> dict[str, int]:
    """Counts per status, for the header (应到 / 实到 / 迟到 / 缺席 / 待核对)."""
    counts = {s.value: 0 for s in AttendanceStatus}
    for row in rows:
        counts[row.status.value] += 1
    counts["expected"] = sum(1 for r in rows if r.invited)
    counts["here"] = counts["present"] + counts["late"]
    return counts


# --- points ----------------------------------------------------------------------------------

def _point_fields(kind, department_id, party_ids) -> tuple[PointKind, Department | None, list[Department]]:
    try:
        kind = PointKind(kind)
    except ValueError:
        raise ValidationFailed(gettext("请选择类型：观点、争议或共识"), field="kind") from None
    dept = _department(department_id, "department_id",
                       gettext("请选择提出该观点的部门") if kind == PointKind.VIEWPOINT else None)
    parties = _departments(party_ids, "party_ids") if kind == PointKind.DISPUTE else []
    if kind == PointKind.DISPUTE and len(parties) < 2:
        if dept is not None and dept not in parties:
            parties.insert(0, dept)
        if len(parties) < 2:
            raise ValidationFailed(gettext("请选择存在分歧的双方（至少两个部门）"), field="party_ids")
    return kind, dept, parties


_SUBMISSION = re.compile(r"[0-9a-f]{32}")


def new_submission() -> str:
    """A one-time token for an entry form (see `_insert`)."""
    return uuid.uuid4().hex


def _submission(value) -> str | None:
    """The entry form's token as sent, or None when there is none or it is not one of ours."""
    value = value.strip() if isinstance(value, str) else ""
    return value if _SUBMISSION.fullmatch(value) else None


def _insert(row, what: str):
    """Save a new point, decision or action; returns it, or what the same form saved before.

    A form carries a one-time token (`submission`). When the answer to it is lost (the recorder's
    form gives up after 10 s on a slow network and says 未保存) and the recorder sends it again, the
    unique index on (meeting, token) refuses the second row: the transaction is rolled back and the
    row saved the first time is returned, so the point is there once and the form says it was added.
    The common case costs nothing: no lookup before the insert.
    """
    db.session.add(row)
    try:
        _flush(what)
    except IntegrityError:
        if row.submission is None:
            raise
        model, meeting_id, token = type(row), row.meeting_id, row.submission
        db.session.rollback()
        earlier = db.session.scalar(select(model).where(model.meeting_id == meeting_id, model.submission == token))
        if earlier is None:
            raise
        return earlier
    return row


def _next_position(model, agenda_item_id: int) -> int:
    current = db.session.scalar(select(func.max(model.position)).where(model.agenda_item_id == agenda_item_id))
    return (current or 0) + 1


def add_point(actor: User, meeting: Meeting, agenda_item_id, kind: str, text: str, department_id=None,
              speaker_id=None, party_ids=(), now: datetime | None = None, submission: str | None = None) -> Point:
    """Record a viewpoint (attributed to a department), a dispute (between departments) or a consensus.

    `submission`: the entry form's one-time token; the same form sent twice saves one point (see `_insert`).
    """
    _require_write(actor, meeting)
    item = _agenda_item(meeting, agenda_item_id)
    kind, dept, parties = _point_fields(kind, department_id, party_ids)
    text = _clean_text(text, kind.label)
    speaker = _person(speaker_id, "speaker_id")
    point = Point(meeting_id=meeting.id, agenda_item=item, kind=kind, department=dept, speaker=speaker, text=text,
                  parties=parties, position=_next_position(Point, item.id), created_by=actor,
                  created_at=now or utcnow(), submission=_submission(submission))
    saved = _insert(point, gettext("要点"))
    if saved is point:
        _changed(meeting, events.point_added(point.id))
    return saved


def get_point(user, point_id) -> Point:
    """Load a point of a meeting the user may see (deleted ones are gone)."""
    point = get_by_id(Point, point_id)
    if point is None or point.deleted_at is not None or not can_view(user, point.meeting):
        raise NotFound(gettext("该要点不存在或已删除"))
    return point


def update_point(actor: User, point: Point, version, kind: str, text: str, department_id=None, speaker_id=None,
                 party_ids=(), now: datetime | None = None) -> Point:
    """Change a point; an edit based on an older version is refused, never merged."""
    _require_write(actor, point.meeting)
    _check_version(point, version, gettext("该要点"))
    kind, dept, parties = _point_fields(kind, department_id, party_ids)
    text = _clean_text(text, kind.label)
    speaker = _person(speaker_id, "speaker_id")
    with db.session.no_autoflush:
        point.text, point.kind, point.department, point.parties = text, kind, dept, parties
        point.speaker = speaker
        point.updated_at, point.updated_by = now or utcnow(), actor
    _flush(gettext("该要点"))
    _changed(point.meeting, events.item(point.agenda_item_id))
    return point


def delete_point(actor: User, point: Point, version=None, now: datetime | None = None) -> Point:
    """Remove a point (kept for the audit trail, shown nowhere)."""
    _require_write(actor, point.meeting)
    _check_version(point, version, gettext("该要点"))
    point.deleted_at, point.deleted_by_id = now or utcnow(), actor.id
    point.updated_at, point.updated_by = point.deleted_at, actor
    _flush(gettext("该要点"))
    _changed(point.meeting, events.item(point.agenda_item_id), events.AGENDA)
    return point


# --- wording and deadlines -------------------------------------------------------------------

@dataclass
class WordingCheck:
    """The live check of a decision or action: vague terms with fixes, and the deadline read."""

    clarity: clarity.Clarity
    due_clarity: clarity.Clarity | None = None
    due_date: date | None = None
    #: "due" when read from the deadline field, "text" when read from the content.
    due_source: str | None = None
    due_error: str | None = None
    findings: list = field(default_factory=list)
    #: The fix offered for a vague time: "3个工作日内" read as a date, 2026年6月3日（周三）.
    example_due: str = ""
    #: The deadline was read from a week or a month without a day (下周, 月底): an interpretation.
    due_is_period: bool = False
    #: The ISO date the writer ticked as confirmed (the check box "确认截止日期为…").
    confirmed: str = ""

    @property
    def needs_confirm(self) -> bool:
        """Tell whether the date read from a period waits for the writer's confirmation."""
        return self.due_is_period and self.due_date is not None and not self.due_error

    @property
    def is_confirmed(self) -> bool:
        return self.needs_confirm and self.confirmed == self.due_date.isoformat()

    @property
    def confirm_message(self) -> str:
        return gettext("将理解为 %(due_date)s，请确认或改为具体日期", due_date=self.due_label) if self.needs_confirm else ""

    @property
    def due_label(self) -> str:
        return clarity.describe_deadline(self.due_date) if self.due_date else ""

    @property
    def is_clear(self) -> bool:
        return not self.findings and not self.due_error


_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def _read_due(value: str, today: date, calendar) -> date | None:
    m = _ISO_DATE.match(value)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return clarity.parse_deadline(value, today, calendar)


def check_wording(text: str, due: str | date | None = "", today: date | None = None,
                  confirmed: str | None = "") -> WordingCheck:
    """Check a decision or action as typed: vague terms, and the deadline as a date.

    The deadline is read from the deadline field (a date, or a phrase such as "3个工作日内"
    counted on the company's working-day calendar from today), or, when that is empty, from
    the content itself ("…6月30日前完成"). A week or a month without a day (下周, 本月, 月底,
    下个月) is read as a date the writer must confirm (`confirmed`: that date, ISO) or replace.
    """
    today = today or local_today()
    calendar = work_calendar()
    text = text or ""
    result = WordingCheck(clarity=clarity.check_item(text, today, calendar), confirmed=(confirmed or "").strip())
    result.findings = list(result.clarity.findings)
    result.example_due = clarity.describe_deadline(calendar.add_workdays(today, 3))
    if isinstance(due, date):
        result.due_date, result.due_source = due, "due"
    elif (due or "").strip():
        due = due.strip()
        result.due_clarity = clarity.check_item(due, today, calendar)
        result.findings += result.due_clarity.findings
        result.due_date = _read_due(due, today, calendar)
        result.due_source = "due"
        deadline = result.due_clarity.deadline
        result.due_is_period = bool(deadline and deadline.period and not _ISO_DATE.match(due))
        if result.due_date is None:
            example = clarity.example_deadline(today)
            result.due_error = gettext("无法识别完成时限“%(due)s”：请填写日期（如%(iso)s、%(md)s）或“3个工作日内”“本周五”等",
                                       due=due, iso=example.isoformat(), md=f"{example.month}月{example.day}日")
    elif result.clarity.parsed_due:
        result.due_date, result.due_source = result.clarity.parsed_due, "text"
        result.due_is_period = result.clarity.deadline.period
    if result.due_date and result.due_date < today and not result.due_error:
        result.due_error = gettext("完成时限%(due_date)s早于今天", due_date=cn_date(result.due_date))
    return result


def _resolve_due(text: str, due, required: bool, what: str, due_confirmed: str | None = "") -> tuple[date | None, str]:
    """Refuse vague wording, unreadable or missing deadlines, and a deadline read from a week or a month
    without a day until its date is confirmed; return the date and the phrase typed."""
    check = check_wording(text, due, confirmed=due_confirmed)
    if check.findings:
        terms = "、".join(f"“{f.term}”" for f in check.findings)
        raise VagueWording(gettext("%(what)s含模糊表述%(terms)s，请按提示改为具体的时限、标准或责任人后再保存", what=what, terms=terms),
                           check.findings)
    if check.due_error:
        raise ValidationFailed(check.due_error, field="due")
    if required and check.due_date is None:
        raise ValidationFailed(gettext("%(what)s须有明确的完成时限（日期，或“3个工作日内”等）", what=what), field="due")
    if check.needs_confirm and not check.is_confirmed:
        if not required and check.due_source == "text":
            # a decision's wording that names a week or a quarter ("Q2预算上调5%") sets no deadline unless confirmed
            return None, ""
        raise ValidationFailed(check.confirm_message, field="due")
    due_text = due.strip()[:100] if isinstance(due, str) else ""
    return check.due_date, due_text


# --- decisions -------------------------------------------------------------------------------

def add_decision(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
                 cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
                 submission: str | None = None, due_confirmed: str | None = "") -> Decision:
    """Record a decision (决议); refused while it contains vague wording. `submission`: see add_point."""
    _require_write(actor, meeting)
    item = _agenda_item(meeting, agenda_item_id)
    text = _clean_text(text, gettext("决议"))
    owner_dept = _department(owner_department_id, "owner_department_id")
    owner = _person(owner_id, "owner_id")
    if owner is not None and owner_dept is None:
        owner_dept = owner.department
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=False, what=gettext("决议"), due_confirmed=due_confirmed)
    decision = Decision(meeting_id=meeting.id, agenda_item=item, text=text, owner_department=owner_dept, owner=owner,
                        cooperating_departments=cooperating, due_date=due_date, due_text=due_text,
                        position=_next_position(Decision, item.id), created_by=actor, created_at=now or utcnow(),
                        submission=_submission(submission))
    saved = _insert(decision, gettext("决议"))
    if saved is decision:
        _changed(meeting, events.item(item.id), events.AGENDA, events.REVIEW, events.HEAD)
    return saved


def get_decision(user, decision_id) -> Decision:
    """Load a decision of a meeting the user may see."""
    decision = get_by_id(Decision, decision_id)
    if decision is None or decision.deleted_at is not None or not can_view(user, decision.meeting):
        raise NotFound(gettext("该决议不存在或已删除"))
    return decision


def update_decision(actor: User, decision: Decision, version, text: str, owner_department_id=None, owner_id=None,
                    cooperating_department_ids=(), due: str | date | None = "",
                    now: datetime | None = None, due_confirmed: str | None = "") -> Decision:
    """Change a decision; a confirmed one needs confirming again. Stale edits are refused."""
    _require_write(actor, decision.meeting)
    _check_version(decision, version, gettext("该决议"))
    text = _clean_text(text, gettext("决议"))
    owner_dept = _department(owner_department_id, "owner_department_id")
    owner = _person(owner_id, "owner_id")
    if owner is not None and owner_dept is None:
        owner_dept = owner.department
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=False, what=gettext("决议"), due_confirmed=due_confirmed)
    with db.session.no_autoflush:
        decision.text, decision.owner_department, decision.owner = text, owner_dept, owner
        decision.cooperating_departments, decision.due_date, decision.due_text = cooperating, due_date, due_text
        decision.confirmed_at = decision.confirmed_by = None
        decision.updated_at, decision.updated_by = now or utcnow(), actor
    _flush(gettext("该决议"))
    _changed(decision.meeting, events.item(decision.agenda_item_id), events.REVIEW, events.HEAD)
    return decision


def delete_decision(actor: User, decision: Decision, version=None, now: datetime | None = None) -> Decision:
    """Remove a decision (kept for the audit trail, shown nowhere)."""
    _require_write(actor, decision.meeting)
    _check_version(decision, version, gettext("该决议"))
    decision.deleted_at, decision.deleted_by_id = now or utcnow(), actor.id
    decision.updated_at, decision.updated_by = decision.deleted_at, actor
    _flush(gettext("该决议"))
    room = room_of(decision.meeting)
    if room is not None and room.review_key == decision.review_key:
        _advance_cursor(room, decision.meeting, decision.review_key)
    _changed(decision.meeting, events.item(decision.agenda_item_id), events.AGENDA, events.REVIEW, events.HEAD)
    return decision


# --- actions ---------------------------------------------------------------------------------

def _action_owner(meeting: Meeting, owner_department_id, owner_id) -> tuple[Department, User]:
    """The owner of an action: required, and for a confidential meeting someone who may see it, since the
    action (with the meeting's topic) reaches its owner's lists, reminders and calendar."""
    owner = _person(owner_id, "owner_id", gettext("待办须指定负责人（部门及具体人员）"))
    if meeting.confidential and not can_view(owner, meeting):
        raise ValidationFailed(gettext("本会议仅参会人可见，%(name)s未受邀参会，不能负责其中的待办。请记录人先邀请%(name)s参会，再指派",
                                       name=owner.name), field="owner_id")
    dept = _department(owner_department_id, "owner_department_id") or owner.department
    return dept, owner


def add_action(actor: User, meeting: Meeting, agenda_item_id, text: str, owner_department_id=None, owner_id=None,
               cooperating_department_ids=(), due: str | date | None = "", now: datetime | None = None,
               submission: str | None = None, due_confirmed: str | None = "") -> ActionItem:
    """Record an action item (待办); refused without an owner and a date, or with vague wording.
    `submission`: see add_point."""
    _require_write(actor, meeting)
    item = _agenda_item(meeting, agenda_item_id)
    text = _clean_text(text, gettext("待办"))
    dept, owner = _action_owner(meeting, owner_department_id, owner_id)
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=True, what=gettext("待办"), due_confirmed=due_confirmed)
    action = ActionItem(meeting_id=meeting.id, agenda_item=item, text=text, owner_department=dept, owner=owner,
                        cooperating_departments=cooperating, due_date=due_date, due_text=due_text,
                        status=ActionStatus.NOT_STARTED, position=_next_position(ActionItem, item.id),
                        created_by=actor, created_at=now or utcnow(), submission=_submission(submission))
    saved = _insert(action, gettext("待办"))
    if saved is action:
        _changed(meeting, events.item(item.id), events.AGENDA, events.REVIEW, events.HEAD)
    return saved


def get_action(user, action_id) -> ActionItem:
    """Load an action item of a meeting the user may see."""
    action = get_by_id(ActionItem, action_id)
    if action is None or action.deleted_at is not None or not can_view(user, action.meeting):
        raise NotFound(gettext("该待办不存在或已删除"))
    return action


def update_action(actor: User, action: ActionItem, version, text: str, owner_department_id=None, owner_id=None,
                  cooperating_department_ids=(), due: str | date | None = "",
                  now: datetime | None = None, due_confirmed: str | None = "") -> ActionItem:
    """Change an action item in the room; a confirmed one needs confirming again. Stale edits are refused."""
    _require_write(actor, action.meeting)
    _check_version(action, version, gettext("该待办"))
    text = _clean_text(text, gettext("待办"))
    dept, owner = _action_owner(action.meeting, owner_department_id, owner_id)
    cooperating = _departments(cooperating_department_ids, "cooperating_department_ids")
    due_date, due_text = _resolve_due(text, due, required=True, what=gettext("待办"), due_confirmed=due_confirmed)
    with db.session.no_autoflush:
        action.text, action.owner_department, action.owner = text, dept, owner
        action.cooperating_departments, action.due_date, action.due_text = cooperating, due_date, due_text
        action.confirmed_at = action.confirmed_by = None
        action.updated_at, action.updated_by = now or utcnow(), actor
    _flush(gettext("该待办"))
    _changed(action.meeting, events.item(action.agenda_item_id), events.REVIEW, events.HEAD)
    return action


def delete_action(actor: User, action: ActionItem, version=None, now: datetime | None = None) -> ActionItem:
    """Remove an action item (kept for the audit trail, shown nowhere)."""
    _require_write(actor, action.meeting)
    _check_version(action, version, gettext("该待办"))
    action.deleted_at, action.deleted_by_id = now or utcnow(), actor.id
    action.updated_at, action.updated_by = action.deleted_at, actor
    _flush(gettext("该待办"))
    room = room_of(action.meeting)
    if room is not None and room.review_key == action.review_key:
        _advance_cursor(room, action.meeting, action.review_key)
    _changed(action.meeting, events.item(action.agenda_item_id), events.AGENDA, events.REVIEW, events.HEAD)
    return action


# --- reading the room ------------------------------------------------------------------------

@dataclass
class ItemView:
    """One agenda item as the room shows it."""

    item: AgendaItem
    points: list[Point]
    decisions: list[Decision]
    actions: list[ActionItem]
    elapsed_seconds: int = 0
    is_current: bool = False
    clock_running: bool = False

    @property
    def estimate_seconds(self) -> int:
        return self.item.minutes * 60

    @property
    def count(self) -> int:
        return len(self.points) + len(self.decisions) + len(self.actions)


def item_count(agenda_item_id: int) -> int:
    """How many points, decisions and actions an agenda item holds (as `ItemView.count`), in one query."""
    counts = [select(func.count()).select_from(model).where(model.agenda_item_id == agenda_item_id,
                                                            model.deleted_at.is_(None)).scalar_subquery()
              for model in (Point, Decision, ActionItem)]
    return db.session.scalar(select(counts[0] + counts[1] + counts[2]))


def item_view(meeting: Meeting, item: AgendaItem, room: RoomState | None = None, now: datetime | None = None) -> ItemView:
    """Everything recorded under one agenda item, in the order it was recorded."""
    return next(v for v in room_items(meeting, now, room) if v.item.id == item.id)


def room_items(meeting: Meeting, now: datetime | None = None, room: RoomState | None = None) -> list[ItemView]:
    """Every agenda item with what was recorded under it: a handful of queries, however long the meeting."""
    room = room if room is not None else room_of(meeting)
    live = (Point.meeting_id == meeting.id, Point.deleted_at.is_(None))
    points = db.session.scalars(
        select(Point).where(*live).order_by(Point.position, Point.id)
        .options(selectinload(Point.parties), selectinload(Point.department), selectinload(Point.speaker))).all()
    decisions = db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.deleted_at.is_(None))
        .order_by(Decision.position, Decision.id)
        .options(selectinload(Decision.cooperating_departments), selectinload(Decision.owner),
                 selectinload(Decision.owner_department))).all()
    actions = db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.deleted_at.is_(None))
        .order_by(ActionItem.position, ActionItem.id)
        .options(selectinload(ActionItem.cooperating_departments), selectinload(ActionItem.owner),
                 selectinload(ActionItem.owner_department))).all()
    spent = dict(db.session.execute(select(ItemClock.agenda_item_id, ItemClock.spent_seconds)
                                    .where(ItemClock.meeting_id == meeting.id)).all()) if room else {}
    running = 0
    if room is not None and room.item_started_at is not None:
        running = max(0, int(((now or utcnow()) - room.item_started_at).total_seconds()))
    views = []
    for item in meeting.agenda_items:
        current = room is not None and room.current_item_id == item.id
        clock_running = current and room.item_started_at is not None
        views.append(ItemView(
            item=item,
            points=[p for p in points if p.agenda_item_id == item.id],
            decisions=[d for d in decisions if d.agenda_item_id == item.id],
            actions=[a for a in actions if a.agenda_item_id == item.id],
            elapsed_seconds=spent.get(item.id, 0) + (running if clock_running else 0),
            is_current=current, clock_running=clock_running))
    return views


def entries_of(items: list[ItemView]) -> list[Decision | ActionItem]:
    """The review walk from already loaded items: by agenda item, decisions first (as review_entries)."""
    return [e for v in items for e in (*v.decisions, *v.actions)]
