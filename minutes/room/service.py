"""Rules of the live meeting room (会中记录): permissions, the shared helpers, start, the agenda walk, and
reading the room. By job, the rest lives beside it: attendance (`minutes.room.attendance`), points, decisions
and actions (`minutes.room.recording`) with the vague-wording check (`minutes.room.wording`), the
end-of-meeting review and finish (`minutes.room.review`), carrying undiscussed items over (`minutes.room.carry`).

Every function takes the acting user and plain values, checks permission, changes state,
flushes and returns the object; the caller commits. Every change that viewers must see bumps
the room's revision in the same transaction and records which parts of the room changed
(`minutes.room.events`); after the commit those parts are rendered and published to every
open tab (`minutes.room.live`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from minutes.actions.models import ActionItem
from minutes.core.errors import PermissionDenied, RuleViolation, StaleEdit, ValidationFailed
from minutes.core.timefmt import cn_datetime, cn_time, utcnow
from minutes.dbtypes import get_by_id, parse_id
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting, MeetingStatus, Role
from minutes.meetings import service as meetings_service
from minutes.meetings.service import can_record
from minutes.people.models import Department, User
from minutes.room import events
from minutes.room.models import (Attendance, AttendanceStatus, Decision, ItemClock, Point, PointKind, RoomState, ScreenMode,
                                 point_party)

MAX_TEXT = 2000
#: Starting further than this from the planned start (before or after) asks "really now?" first: an hour or two
#: early or late is an ordinary meeting; three days early is a click on the wrong meeting, or a moved meeting.
START_CONFIRM_WINDOW = timedelta(hours=2)


class StartNeedsConfirmation(RuleViolation):
    """Starting far from the planned time: the page asks to confirm, then starts with `confirmed`."""

    code = "confirm_required"
ROOM_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW, MeetingStatus.MINUTES_DUE,
                 MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)


# --- permissions -----------------------------------------------------------------------------

def can_start(user, meeting: Meeting) -> bool:
    """Tell whether `user` may start the meeting now."""
    return meeting.is_planning and can_record(user, meeting)


def get_meeting_to_write(user, meeting_id) -> Meeting:
    """Load a meeting for the room's writing forms: invisible is missing, a mere viewer is refused."""
    meeting = meetings_service.get_meeting(user, meeting_id)
    if not can_record(user, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以记录"))
    return meeting


def _require_write(actor, meeting: Meeting, late: bool = False) -> RoomState:
    """The room's row, locked, for a writer of the record; `late`: an entry added after the meeting ended, while
    the meeting takes late entries (see Meeting.takes_late_entries; records.drafting.add_late_entry)."""
    if not can_record(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以记录"))
    if not (meeting.takes_late_entries if late else meeting.is_recording):
        if meeting.is_planning:
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


def with_room():
    """The loader option of a page that reads the room: its state comes with the meeting (room_of then finds it)."""
    return joinedload(Meeting.room)


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
    return _item_of(meeting, get_by_id(AgendaItem, agenda_item_id))


def _item_of(meeting: Meeting, item: AgendaItem | None) -> AgendaItem:
    if item is None or item.meeting_id != meeting.id:
        raise ValidationFailed(gettext("请选择议题"), field="agenda_item_id")
    return item


def _agenda_item_and_next_position(meeting: Meeting, agenda_item_id, model) -> tuple[AgendaItem, int]:
    """The agenda item to write under (as `_agenda_item`) and the position after the last `model` row under
    it, in one query. Called under the room's row lock (`_require_write`): no other writer takes the same."""
    item_id = parse_id(agenda_item_id)
    found = None
    if item_id is not None:
        last = select(func.max(model.position)).where(model.agenda_item_id == item_id).scalar_subquery()
        found = db.session.execute(select(AgendaItem, last).where(AgendaItem.id == item_id)).first()
    item = _item_of(meeting, found[0] if found else None)
    return item, (found[1] or 0) + 1


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
    if not can_record(actor, meeting):
        raise PermissionDenied(gettext("只有本次会议的记录人或主持人可以开始会议"))
    if not meeting.is_planning or room_of(meeting) is not None:
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
    if meeting.is_planning:
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


# --- reading the room ------------------------------------------------------------------------

@dataclass
class ItemView:
    """One agenda item as the room shows it."""

    item: AgendaItem
    #: Point objects, or PointRows for the room's pages (room_items(point_rows=True))
    points: list[Point] | list[PointRow]
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


def _item_count_query():
    item = bindparam("agenda_item_id")
    counts = [select(func.count()).select_from(model).where(model.agenda_item_id == item, model.deleted_at.is_(None))
              .scalar_subquery() for model in (Point, Decision, ActionItem)]
    return select(counts[0] + counts[1] + counts[2])


#: Built once: building the three subqueries (and the cache key SQLAlchemy derives from a new statement) took
#: ten times as long as running them, on the path of every point added.
_ITEM_COUNT = _item_count_query()


def item_count(agenda_item_id: int) -> int:
    """How many points, decisions and actions an agenda item holds (as `ItemView.count`), in one query."""
    return db.session.scalar(_ITEM_COUNT, {"agenda_item_id": agenda_item_id})


def item_view(meeting: Meeting, item: AgendaItem, room: RoomState | None = None, now: datetime | None = None) -> ItemView:
    """Everything recorded under one agenda item, in the order it was recorded."""
    return next(v for v in room_items(meeting, now, room) if v.item.id == item.id)


def room_items(meeting: Meeting, now: datetime | None = None, room: RoomState | None = None,
               clocks: bool = True, current_points_only: bool = False, point_rows: bool = False) -> list[ItemView]:
    """Every agenda item with what was recorded under it: a handful of queries, however long the meeting.
    `clocks=False` leaves out the time spent per item (elapsed_seconds 0) for readers that do not show it;
    `current_points_only` reads the points of the item under discussion only (the shared screen shows no other);
    `point_rows` gives the points as `PointRow`s (what the room's pages show) instead of `Point` objects."""
    room = room if room is not None else room_of(meeting)
    live = (Point.meeting_id == meeting.id, Point.deleted_at.is_(None))
    if current_points_only:
        live += (Point.agenda_item_id == (room.current_item_id if room else None),)
    # Each kind in one statement: its department, person and 配合部门/parties joined in (no statement per kind
    # and relation: the room is read on every resync of every tab).
    if point_rows:
        points = point_rows_where(*live)
    else:
        points = db.session.scalars(
            select(Point).where(*live).order_by(Point.position, Point.id)
            .options(joinedload(Point.parties), joinedload(Point.department), joinedload(Point.speaker))).unique().all()
    decisions = db.session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.deleted_at.is_(None))
        .order_by(Decision.position, Decision.id)
        .options(joinedload(Decision.cooperating_departments), joinedload(Decision.owner),
                 joinedload(Decision.owner_department))).unique().all()
    actions = db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id == meeting.id, ActionItem.deleted_at.is_(None))
        .order_by(ActionItem.position, ActionItem.id)
        .options(joinedload(ActionItem.cooperating_departments), joinedload(ActionItem.owner),
                 joinedload(ActionItem.owner_department))).unique().all()
    spent = dict(db.session.execute(select(ItemClock.agenda_item_id, ItemClock.spent_seconds)
                                    .where(ItemClock.meeting_id == meeting.id)).all()) if room and clocks else {}
    running = 0
    if room is not None and room.item_started_at is not None:
        running = max(0, int(((now or utcnow()) - room.item_started_at).total_seconds()))
    by_item = _by_agenda_item(points, decisions, actions)
    views = []
    for item in meeting.agenda_items:
        current = room is not None and room.current_item_id == item.id
        clock_running = current and room.item_started_at is not None
        points, decisions, actions = by_item.get(item.id, ([], [], []))
        views.append(ItemView(
            item=item, points=points, decisions=decisions, actions=actions,
            elapsed_seconds=spent.get(item.id, 0) + (running if clock_running else 0),
            is_current=current, clock_running=clock_running))
    return views


@dataclass(slots=True)
class PointRow:
    """A point as the room shows it: the columns it shows and the names of its department, speaker and parties,
    read without building ORM objects (a room page shows 300 of them, on every load and every resync)."""

    id: int
    agenda_item_id: int
    kind: PointKind
    version: int
    text: str
    #: the names (not the rows) of its department and speaker, None when it has none
    department: str | None
    speaker: str | None
    #: a dispute's parties' names, in the order of their departments' ids (as Point.parties)
    parties: list[str]

    @property
    def who(self) -> str:
        """Whose position it is: a dispute's parties (甲 ↔ 乙), else the department's name, else nothing."""
        if self.kind == PointKind.DISPUTE and self.parties:
            return " ↔ ".join(self.parties)
        return self.department or ""

    @classmethod
    def of(cls, point: Point) -> PointRow:
        """The row of a loaded point (a new point sent live is rendered by the same markup as the page's)."""
        return cls(point.id, point.agenda_item_id, point.kind, point.version, point.text,
                   point.department.name if point.department else None, point.speaker.name if point.speaker else None,
                   [d.name for d in point.parties])


_SPEAKER, _DEPARTMENT, _PARTY = aliased(User), aliased(Department), aliased(Department)
#: The row's columns, the department's and speaker's names, and one row per party (a dispute has two or more).
_POINT_ROWS = (
    select(Point.id, Point.agenda_item_id, Point.kind, Point.version, Point.text, _DEPARTMENT.name, _SPEAKER.name,
           _PARTY.name)
    .outerjoin(_DEPARTMENT, _DEPARTMENT.id == Point.department_id)
    .outerjoin(_SPEAKER, _SPEAKER.id == Point.speaker_id)
    .outerjoin(point_party, point_party.c.point_id == Point.id)
    .outerjoin(_PARTY, _PARTY.id == point_party.c.department_id)
    .order_by(Point.position, Point.id, _PARTY.id)
)


def point_rows_where(*conditions) -> list[PointRow]:
    """The points meeting `conditions` as `PointRow`s, in the room's order, in one statement."""
    rows: list[PointRow] = []
    last = None
    for point_id, item_id, kind, version, text, department, speaker, party in db.session.execute(
            _POINT_ROWS.where(*conditions)):
        if last is None or last.id != point_id:
            last = PointRow(point_id, item_id, kind, version, text, department, speaker, [])
            rows.append(last)
        if party is not None:
            last.parties.append(party)
    return rows


def _by_agenda_item(*kinds: list) -> dict[int, tuple[list, ...]]:
    """Each kind's rows by agenda item, in their order: one pass over the rows (not one per agenda item)."""
    grouped: dict[int, tuple[list, ...]] = {}
    for index, rows in enumerate(kinds):
        for row in rows:
            lists = grouped.get(row.agenda_item_id)
            if lists is None:
                grouped[row.agenda_item_id] = lists = tuple([] for _ in kinds)
            lists[index].append(row)
    return grouped


def entries_of(items: list[ItemView]) -> list[Decision | ActionItem]:
    """The review walk from already loaded items: by agenda item, decisions first (as review_entries)."""
    return [e for v in items for e in (*v.decisions, *v.actions)]
