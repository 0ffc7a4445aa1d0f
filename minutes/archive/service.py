"""The knowledge base (归档与复盘): meetings filed as 主题-日期, topic pages, Chinese full-text search.

Everything here reads only what the acting user may see: every query is filtered by
`meetings.service.visible_filter(user)` before anything is counted, grouped or highlighted, so a
confidential (仅参会人员) meeting leaves no trace for someone not invited — not in results,
totals, facet counts or passages. Search applies the rule to the restricted meetings only (those
archive_entry marks confidential or cancelled) and drops the ones it refuses from the matches: a
meeting that is neither is visible to every employee (meetings.service.can_view). Should that rule
ever restrict public meetings too, `archive_entry.restricted` must cover them.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from minutes.actions.models import ActionItem, ActionStatus
from minutes.archive import indexer
from minutes.archive.backends import backend_for
from minutes.archive.models import ArchiveEntry
from minutes.archive.text import topic_label
from minutes.core.errors import NotFound
from minutes.core.timefmt import LOCAL_TZ, local_to_utc, local_today, to_local, utcnow
from minutes.extensions import db
from minutes.meetings.models import PLANNING_STATUSES, RECORDING_STATUSES, AgendaItem, Meeting, MeetingSeries, MeetingStatus, Participant
from minutes.meetings.service import visible_filter
from minutes.people.models import Department, User
from minutes.records.models import Minutes, MinutesStatus
from minutes.room.models import Decision, RoomState

#: Meetings that have taken place (or are taking place): what the archive files.
HELD_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW, MeetingStatus.MINUTES_DUE,
                 MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)
MONTH_PAGE = 200
TOPICS_PER_PAGE = 30


# --- archive status --------------------------------------------------------------------------

class ArchiveStatus(enum.StrEnum):
    """Where a meeting's minutes stand, as the archive shows it."""

    FINAL = "final"
    AWAITING = "awaiting"
    OVERDUE = "overdue"
    DUE = "due"
    IN_PROGRESS = "in_progress"
    PLANNED = "planned"

    @property
    def label(self) -> str:
        return str(ARCHIVE_STATUS_LABELS[self])

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn, bad or brand."""
        return {ArchiveStatus.FINAL: "ok", ArchiveStatus.AWAITING: "warn", ArchiveStatus.OVERDUE: "bad",
                ArchiveStatus.DUE: "brand", ArchiveStatus.IN_PROGRESS: "brand",
                ArchiveStatus.PLANNED: ""}[self]


ARCHIVE_STATUS_LABELS = {
    ArchiveStatus.FINAL: lazy_gettext("纪要已定稿"),
    ArchiveStatus.AWAITING: lazy_gettext("纪要待确认"),
    ArchiveStatus.OVERDUE: lazy_gettext("纪要逾期"),
    ArchiveStatus.DUE: lazy_gettext("待出纪要"),
    ArchiveStatus.IN_PROGRESS: lazy_gettext("会议进行中"),
    ArchiveStatus.PLANNED: lazy_gettext("未召开"),
}


def archive_status(meeting: Meeting, minutes_status: MinutesStatus | None, minutes_due_at: datetime | None,
                   now: datetime | None = None) -> ArchiveStatus:
    """Say where a meeting's minutes stand: final, awaiting sign-off, overdue (past the 24 hours), due."""
    now = now or utcnow()
    if meeting.status == MeetingStatus.FINAL or minutes_status == MinutesStatus.FINAL:
        return ArchiveStatus.FINAL
    if meeting.status == MeetingStatus.DISTRIBUTED or minutes_status == MinutesStatus.DISTRIBUTED:
        return ArchiveStatus.AWAITING
    if meeting.status == MeetingStatus.MINUTES_DUE:
        if minutes_due_at is not None and minutes_due_at < now:
            return ArchiveStatus.OVERDUE
        return ArchiveStatus.DUE
    if meeting.is_recording:
        return ArchiveStatus.IN_PROGRESS
    return ArchiveStatus.PLANNED


def _status_condition(status: ArchiveStatus, now: datetime):
    """The SQL form of archive_status(...) == status, on Meeting."""
    minutes_in = lambda s: Meeting.id.in_(select(Minutes.meeting_id).where(Minutes.status == s))  # noqa: E731
    final = or_(Meeting.status == MeetingStatus.FINAL, minutes_in(MinutesStatus.FINAL))
    awaiting = and_(~final, or_(Meeting.status == MeetingStatus.DISTRIBUTED, minutes_in(MinutesStatus.DISTRIBUTED)))
    late = Meeting.id.in_(select(RoomState.meeting_id).where(RoomState.minutes_due_at < now))
    due = and_(~final, ~awaiting, Meeting.status == MeetingStatus.MINUTES_DUE)
    return {
        ArchiveStatus.FINAL: final,
        ArchiveStatus.AWAITING: awaiting,
        ArchiveStatus.OVERDUE: and_(due, late),
        ArchiveStatus.DUE: and_(due, ~late),
        ArchiveStatus.IN_PROGRESS: and_(~final, ~awaiting,
                                        Meeting.status.in_(RECORDING_STATUSES)),
        ArchiveStatus.PLANNED: and_(~final, ~awaiting,
                                    Meeting.status.in_(PLANNING_STATUSES)),
    }[status]


# --- one meeting as the archive lists it -----------------------------------------------------

@dataclass
class ArchiveRow:
    """A meeting filed in the archive: 主题-日期, status, departments, decisions and open actions."""

    meeting: Meeting
    status: ArchiveStatus
    departments: list[str]
    decisions: int
    open_actions: int
    topic_key: str

    @property
    def day(self) -> date:
        return to_local(self.meeting.starts_at).date()

    @property
    def label(self) -> str:
        """主题-日期, e.g. 解决客户投诉处理流程卡点-2026-06-12."""
        return f"{self.meeting.topic}-{self.day.isoformat()}"


def _meeting_options():
    return (joinedload(Meeting.organizer_department),)


def departments_of(meetings: list[Meeting]) -> dict[int, list[str]]:
    """The departments involved in each meeting, as Meeting.departments orders them: the organizer
    first, then those of the invitees and of the presenters (read in two queries for all meetings)."""
    ids = [m.id for m in meetings]
    names: dict[int, dict[int, str]] = {m.id: {m.organizer_department_id: m.organizer_department.name}
                                         for m in meetings}
    invited = (select(Participant.meeting_id.label("meeting_id"), Department.id.label("dept_id"),
                      Department.name.label("name"), literal(1).label("source"), Participant.id.label("seq"))
               .join(User, User.id == Participant.user_id).join(Department, Department.id == User.department_id)
               .where(Participant.meeting_id.in_(ids)))
    presenting = (select(AgendaItem.meeting_id, Department.id, Department.name, literal(2), AgendaItem.position)
                  .join(Department, Department.id == AgendaItem.department_id)
                  .where(AgendaItem.meeting_id.in_(ids)))
    both = union_all(invited, presenting)
    order = both.selected_columns
    for meeting_id, dept_id, name, _source, _seq in db.session.execute(
            both.order_by(order.meeting_id, order.source, order.seq)):
        names[meeting_id].setdefault(dept_id, name)
    return {meeting_id: list(found.values()) for meeting_id, found in names.items()}


def archive_rows(meetings: list[Meeting], now: datetime | None = None) -> list[ArchiveRow]:
    """Describe meetings for the archive lists, with their counts read in a few queries."""
    now = now or utcnow()
    ids = [m.id for m in meetings]
    if not ids:
        return []
    # What each row tells, read in one statement (a subquery per fact, each answered from an index).
    decisions = (select(func.count()).select_from(Decision)
                 .where(Decision.meeting_id == Meeting.id, Decision.deleted_at.is_(None)).scalar_subquery())
    open_actions = (select(func.count()).select_from(ActionItem)
                    .where(ActionItem.meeting_id == Meeting.id, ActionItem.deleted_at.is_(None),
                           ActionItem.status != ActionStatus.DONE).scalar_subquery())
    due_at = select(RoomState.minutes_due_at).where(RoomState.meeting_id == Meeting.id).scalar_subquery()
    minutes_status = select(Minutes.status).where(Minutes.meeting_id == Meeting.id).scalar_subquery()
    topic_key = select(ArchiveEntry.topic_key).where(ArchiveEntry.meeting_id == Meeting.id).scalar_subquery()
    facts = {row.id: row for row in db.session.execute(
        select(Meeting.id, decisions.label("decisions"), open_actions.label("open_actions"), due_at.label("due_at"),
               minutes_status.label("minutes_status"), topic_key.label("topic_key"))
        .where(Meeting.id.in_(ids)))}
    departments = departments_of(meetings)
    return [ArchiveRow(meeting=m,
                       status=archive_status(m, facts[m.id].minutes_status, facts[m.id].due_at, now),
                       departments=departments[m.id],
                       decisions=facts[m.id].decisions,
                       open_actions=facts[m.id].open_actions,
                       topic_key=facts[m.id].topic_key or indexer.filing_key(m.topic, m.series_id))
            for m in meetings]


def _scope(user):
    """Meetings the user may see and that were not cancelled."""
    return and_(visible_filter(user), Meeting.status != MeetingStatus.CANCELLED)


def _held():
    return Meeting.status.in_(HELD_STATUSES)


# --- browsing by date ------------------------------------------------------------------------

@dataclass
class MonthCount:
    year: int
    month: int
    count: int


@dataclass
class DateBrowse:
    """The archive by date: years with their months (and counts), and the chosen month's meetings."""

    years: list[tuple[int, list[MonthCount]]]
    year: int | None
    month: int | None
    rows: list[ArchiveRow]
    total: int

    @property
    def month_count(self) -> int:
        return sum(m.count for _, months in self.years for m in months
                   if (m.year, m.month) == (self.year, self.month))


def _utc_offset_hours() -> int:
    return int(datetime.now(LOCAL_TZ).utcoffset().total_seconds() // 3600)


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = local_to_utc(datetime(year, month, 1))
    nxt = local_to_utc(datetime(year + (month == 12), month % 12 + 1, 1))
    return start, nxt


def browse_by_date(user, year=None, month=None, now: datetime | None = None) -> DateBrowse:
    """The archive by year and month; without a choice, the latest month that has meetings."""
    backend = backend_for(db.engine.dialect.name)
    month_expr = backend.local_month(Meeting.starts_at, str(LOCAL_TZ), _utc_offset_hours()).label("ym")
    counts = db.session.execute(select(month_expr, func.count()).where(_scope(user), _held())
                                .group_by(month_expr).order_by(month_expr.desc())).all()
    months = [MonthCount(int(ym[:4]), int(ym[5:7]), n) for ym, n in counts if ym]
    years: dict[int, list[MonthCount]] = {}
    for m in months:
        years.setdefault(m.year, []).append(m)
    chosen = _int_or_none(year), _int_or_none(month)
    if chosen[0] is not None and chosen[1] is None:
        chosen = (chosen[0], next((m.month for m in months if m.year == chosen[0]), 1))
    if chosen[0] is None or chosen[1] is None or not 1 <= chosen[1] <= 12 or not 2000 <= chosen[0] <= 2100:
        chosen = (months[0].year, months[0].month) if months else (None, None)
    rows: list[ArchiveRow] = []
    if chosen[0] is not None:
        start, end = _month_bounds(*chosen)
        meetings = list(db.session.scalars(
            select(Meeting).where(_scope(user), _held(), Meeting.starts_at >= start, Meeting.starts_at < end)
            .options(*_meeting_options()).order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(MONTH_PAGE)))
        rows = archive_rows(meetings, now)
    return DateBrowse(years=sorted(years.items(), reverse=True), year=chosen[0], month=chosen[1], rows=rows,
                      total=sum(m.count for m in months))


def _int_or_none(value) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdecimal() and len(text) <= 4 else None


def _page_number(value) -> int:
    text = str(value or "").strip()
    return max(1, min(int(text), 100_000)) if text.isdecimal() and len(text) <= 6 else 1


# --- browsing by topic -----------------------------------------------------------------------

@dataclass
class TopicSummary:
    """A topic in the archive: its meetings over time."""

    key: str
    label: str
    meetings: int
    first: datetime
    last: datetime
    decisions: int
    open_actions: int
    recent: list[ArchiveRow]


@dataclass
class TopicBrowse:
    topics: list[TopicSummary]
    total: int
    page: int
    pages: int


def browse_by_topic(user, page=1, now: datetime | None = None) -> TopicBrowse:
    """The archive by topic: meetings sharing a topic (or belonging to one series), latest topic first."""
    page = _page_number(page)
    grouped = (select(ArchiveEntry.topic_key, func.count().label("n"), func.min(Meeting.starts_at).label("first"),
                      func.max(Meeting.starts_at).label("last"), func.count().over().label("total"))
               .join(Meeting, Meeting.id == ArchiveEntry.meeting_id).where(_scope(user), _held())
               .group_by(ArchiveEntry.topic_key)
               .order_by(func.max(Meeting.starts_at).desc(), ArchiveEntry.topic_key)
               .limit(TOPICS_PER_PAGE).offset((page - 1) * TOPICS_PER_PAGE))
    groups = db.session.execute(grouped).all()
    total = groups[0].total if groups else _count_topics(user)
    keys = [g.topic_key for g in groups]
    meetings = list(db.session.scalars(
        select(Meeting).join(ArchiveEntry, ArchiveEntry.meeting_id == Meeting.id)
        .where(ArchiveEntry.topic_key.in_(keys), _scope(user), _held())
        .options(*_meeting_options()).order_by(Meeting.starts_at.desc(), Meeting.id.desc()))) if keys else []
    rows = archive_rows(meetings, now)
    by_key: dict[str, list[ArchiveRow]] = {}
    for row in rows:
        by_key.setdefault(row.topic_key, []).append(row)
    topics = []
    for g in groups:
        members = by_key.get(g.topic_key, [])
        topics.append(TopicSummary(
            key=g.topic_key, label=_topic_title(g.topic_key, members[0].meeting if members else None),
            meetings=g.n, first=g.first, last=g.last,
            decisions=sum(r.decisions for r in members), open_actions=sum(r.open_actions for r in members),
            recent=members[:3]))
    return TopicBrowse(topics=topics, total=total, page=page, pages=max(1, math.ceil(total / TOPICS_PER_PAGE)))


def _topic_title(key: str, latest: Meeting | None) -> str:
    """How a topic is called: its series' name, or the latest meeting's topic without dates and ordinals."""
    if latest is not None and latest.series_id and key == indexer.filing_key(latest.topic, latest.series_id):
        series = db.session.get(MeetingSeries, latest.series_id)
        if series is not None:
            return series.name
    return topic_label(latest.topic) if latest is not None else key


def _count_topics(user) -> int:
    inner = (select(ArchiveEntry.topic_key).join(Meeting, Meeting.id == ArchiveEntry.meeting_id)
             .where(_scope(user), _held()).group_by(ArchiveEntry.topic_key).subquery())
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


# --- the topic page --------------------------------------------------------------------------

@dataclass
class TopicMeeting:
    """One meeting on a topic page, with what it decided and the actions it started."""

    row: ArchiveRow
    decisions: list[Decision]
    actions: list[ActionItem]


@dataclass
class TopicView:
    """Every meeting on a topic over time, the decision log people otherwise keep by hand."""

    key: str
    label: str
    meetings: list[TopicMeeting]
    today: date

    @property
    def decisions(self) -> int:
        return sum(len(m.decisions) for m in self.meetings)

    @property
    def actions(self) -> list[ActionItem]:
        return [a for m in self.meetings for a in m.actions]

    @property
    def done_actions(self) -> int:
        return sum(1 for a in self.actions if a.status == ActionStatus.DONE)

    @property
    def open_actions(self) -> int:
        return sum(1 for a in self.actions if a.status != ActionStatus.DONE)

    @property
    def overdue_actions(self) -> int:
        return sum(1 for a in self.actions if is_overdue(a, self.today))

    @property
    def departments(self) -> list[str]:
        seen: dict[str, None] = {}
        for m in self.meetings:
            for name in m.row.departments:
                seen.setdefault(name)
        return list(seen)


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    """An action not done whose due date has passed."""
    today = today or local_today()
    return action.status != ActionStatus.DONE and action.due_date is not None and action.due_date < today


def topic_view(user, key: str, now: datetime | None = None) -> TopicView:
    """A topic's meetings in order, oldest first, each with its decisions and actions and their outcome."""
    key = (key or "")[:200]
    meetings = list(db.session.scalars(
        select(Meeting).join(ArchiveEntry, ArchiveEntry.meeting_id == Meeting.id)
        .where(ArchiveEntry.topic_key == key, _scope(user)).options(*_meeting_options())
        .order_by(Meeting.starts_at, Meeting.id)))
    if not meetings:
        raise NotFound(gettext("该主题不存在或您无权查看"))
    ids = [m.id for m in meetings]
    decisions = list(db.session.scalars(
        select(Decision).where(Decision.meeting_id.in_(ids), Decision.deleted_at.is_(None))
        .options(selectinload(Decision.owner), selectinload(Decision.owner_department),
                 selectinload(Decision.agenda_item))
        .order_by(Decision.agenda_item_id, Decision.position, Decision.id)))
    actions = list(db.session.scalars(
        select(ActionItem).where(ActionItem.meeting_id.in_(ids), ActionItem.deleted_at.is_(None))
        .options(selectinload(ActionItem.owner), selectinload(ActionItem.owner_department))
        .order_by(ActionItem.agenda_item_id, ActionItem.position, ActionItem.id)))
    rows = archive_rows(meetings, now)
    entries = [TopicMeeting(row=row,
                            decisions=[d for d in decisions if d.meeting_id == row.meeting.id],
                            actions=[a for a in actions if a.meeting_id == row.meeting.id])
               for row in rows]
    return TopicView(key=key, label=_topic_title(key, meetings[-1]), meetings=entries,
                     today=to_local(now or utcnow()).date())


# --- maintenance -----------------------------------------------------------------------------

def reindex() -> dict[str, int]:
    """Rebuild every search document and archive entry from the meetings, room and minutes."""
    counts = indexer.reindex_all(db.session)
    db.session.flush()
    return counts
