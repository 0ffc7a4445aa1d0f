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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from flask_babel import gettext
from sqlalchemy import Integer, Text, and_, cast, exists, func, literal_column, or_, select, true
from sqlalchemy.orm import selectinload

from minutes.actions.models import ActionItem, ActionStatus
from minutes.archive import indexer
from minutes.archive.backends import backend_for
from minutes.archive.indexer import read_docs
from minutes.archive.models import (CODE_BITS, CODE_KINDS, CODE_MASK, CODE_WEIGHTS,
                                    MEETING_MASK, PART_GOAL, PART_OUTCOME, PART_TOPIC, ArchiveEntry, DocKind,
                                    SearchBlock, day_range)
from minutes.archive.text import MAX_QUERY_CHARS, ParsedQuery, fold, highlight, parse_query, plain, topic_label
from minutes.core.errors import NotFound, ValidationFailed
from minutes.core.timefmt import LOCAL_TZ, local_to_utc, local_today, to_local, utcnow
from minutes.extensions import db
from minutes.meetings.models import (SCENARIO_LABELS, AgendaItem, Meeting, MeetingSeries, MeetingStatus, Participant,
                                     Scenario)
from minutes.meetings.service import visible_filter
from minutes.people.models import Department, User
from minutes.records.models import Minutes, MinutesStatus
from minutes.room.models import Decision, Point, RoomState

BLOCKS = SearchBlock.__table__
#: Meetings that have taken place (or are taking place): what the archive files.
HELD_STATUSES = (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW, MeetingStatus.MINUTES_DUE,
                 MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL)
PER_PAGE = 20
API_PER_PAGE = 20
MAX_PER_PAGE = 100
#: Passages shown under one meeting in the grouped results.
PASSAGES_PER_MEETING = 3
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
        return ARCHIVE_STATUS_LABELS[self]

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn, bad or brand."""
        return {ArchiveStatus.FINAL: "ok", ArchiveStatus.AWAITING: "warn", ArchiveStatus.OVERDUE: "bad",
                ArchiveStatus.DUE: "brand", ArchiveStatus.IN_PROGRESS: "brand",
                ArchiveStatus.PLANNED: ""}[self]


ARCHIVE_STATUS_LABELS = {
    ArchiveStatus.FINAL: "纪要已定稿",
    ArchiveStatus.AWAITING: "纪要待确认",
    ArchiveStatus.OVERDUE: "纪要逾期",
    ArchiveStatus.DUE: "待出纪要",
    ArchiveStatus.IN_PROGRESS: "会议进行中",
    ArchiveStatus.PLANNED: "未召开",
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
    if meeting.status in (MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW):
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
                                        Meeting.status.in_((MeetingStatus.IN_PROGRESS, MeetingStatus.REVIEW))),
        ArchiveStatus.PLANNED: and_(~final, ~awaiting,
                                    Meeting.status.in_((MeetingStatus.DRAFT, MeetingStatus.AGENDA_SENT))),
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
    return (selectinload(Meeting.organizer_department),)


def departments_of(meetings: list[Meeting]) -> dict[int, list[str]]:
    """The departments involved in each meeting, as Meeting.departments orders them: the organizer
    first, then those of the invitees and of the presenters (read in two queries for all meetings)."""
    ids = [m.id for m in meetings]
    names: dict[int, dict[int, str]] = {m.id: {m.organizer_department_id: m.organizer_department.name}
                                         for m in meetings}
    invited = (select(Participant.meeting_id, Department.id, Department.name)
               .join(User, User.id == Participant.user_id).join(Department, Department.id == User.department_id)
               .where(Participant.meeting_id.in_(ids)).order_by(Participant.meeting_id, Participant.id))
    presenting = (select(AgendaItem.meeting_id, Department.id, Department.name)
                  .join(Department, Department.id == AgendaItem.department_id)
                  .where(AgendaItem.meeting_id.in_(ids)).order_by(AgendaItem.meeting_id, AgendaItem.position))
    for query in (invited, presenting):
        for meeting_id, dept_id, name in db.session.execute(query):
            names[meeting_id].setdefault(dept_id, name)
    return {meeting_id: list(found.values()) for meeting_id, found in names.items()}


def archive_rows(meetings: list[Meeting], now: datetime | None = None) -> list[ArchiveRow]:
    """Describe meetings for the archive lists, with their counts read in a few queries."""
    now = now or utcnow()
    ids = [m.id for m in meetings]
    if not ids:
        return []
    decisions = dict(db.session.execute(
        select(Decision.meeting_id, func.count()).where(Decision.meeting_id.in_(ids), Decision.deleted_at.is_(None))
        .group_by(Decision.meeting_id)).all())
    open_actions = dict(db.session.execute(
        select(ActionItem.meeting_id, func.count())
        .where(ActionItem.meeting_id.in_(ids), ActionItem.deleted_at.is_(None), ActionItem.status != ActionStatus.DONE)
        .group_by(ActionItem.meeting_id)).all())
    due_at = dict(db.session.execute(select(RoomState.meeting_id, RoomState.minutes_due_at)
                                     .where(RoomState.meeting_id.in_(ids))).all())
    minutes_status = dict(db.session.execute(select(Minutes.meeting_id, Minutes.status)
                                             .where(Minutes.meeting_id.in_(ids))).all())
    keys = dict(db.session.execute(select(ArchiveEntry.meeting_id, ArchiveEntry.topic_key)
                                   .where(ArchiveEntry.meeting_id.in_(ids))).all())
    departments = departments_of(meetings)
    return [ArchiveRow(meeting=m,
                       status=archive_status(m, minutes_status.get(m.id), due_at.get(m.id), now),
                       departments=departments[m.id],
                       decisions=decisions.get(m.id, 0),
                       open_actions=open_actions.get(m.id, 0),
                       topic_key=keys.get(m.id) or indexer.filing_key(m.topic, m.series_id))
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


# --- search ----------------------------------------------------------------------------------

class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"

    @property
    def label(self) -> str:
        return {Sort.RELEVANCE: "按相关度", Sort.NEWEST: "最新在前"}[self]


@dataclass
class SearchQuery:
    """What a search asks for, checked; build it with parse_search_args()."""

    q: str = ""
    department_id: int | None = None
    scenario: Scenario | None = None
    status: ArchiveStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: DocKind | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.q)

    def args(self, **override) -> dict:
        """The query as URL parameters (for links to other pages, sorts and kinds)."""
        values = {"q": self.q, "department": self.department_id, "scenario": self.scenario and self.scenario.value,
                  "status": self.status and self.status.value,
                  "from": self.date_from and self.date_from.isoformat(),
                  "to": self.date_to and self.date_to.isoformat(), "kind": self.kind and self.kind.value,
                  "sort": self.sort.value if self.sort != Sort.RELEVANCE else None,
                  "page": self.page if self.page > 1 else None}
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _parse_date(value, name: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        errors[name] = gettext("日期格式应为 2026-06-30")
        return None
    if not 2000 <= parsed.year <= 2100:
        errors[name] = gettext("日期须在2000年至2100年之间")
        return None
    return parsed


def _page_number(value) -> int:
    text = str(value or "").strip()
    return max(1, min(int(text), 100_000)) if text.isdecimal() and len(text) <= 6 else 1


def parse_search_args(args: Mapping, per_page: int = PER_PAGE) -> SearchQuery:
    """Read a search from request parameters: q, department (id or name), scenario, status, from, to,
    kind, sort, page, per_page. Raises ValidationFailed naming the fields that are wrong."""
    errors: dict[str, str] = {}
    q = str(args.get("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        errors["q"] = gettext("搜索词不超过%(MAX_QUERY_CHARS)s个字", MAX_QUERY_CHARS=MAX_QUERY_CHARS)
    query = SearchQuery(q=q[:MAX_QUERY_CHARS], per_page=per_page)
    department = str(args.get("department") or "").strip()
    if department:
        if department.isdecimal() and len(department) <= 9:
            dept = db.session.get(Department, int(department))
        else:
            dept = db.session.scalar(select(Department).where(Department.name == department))
        if dept is None:
            errors["department"] = gettext("部门不存在")
        else:
            query.department_id = dept.id
    for name, enum_cls, attr, message in (("scenario", Scenario, "scenario", gettext("会议场景无效")),
                                          ("status", ArchiveStatus, "status", gettext("纪要状态无效")),
                                          ("kind", DocKind, "kind", gettext("内容类型无效")),
                                          ("sort", Sort, "sort", gettext("排序方式无效"))):
        value = str(args.get(name) or "").strip()
        if value:
            try:
                setattr(query, attr, enum_cls(value))
            except ValueError:
                errors[name] = message
    query.date_from = _parse_date(args.get("from"), "from", errors)
    query.date_to = _parse_date(args.get("to"), "to", errors)
    if query.date_from and query.date_to and query.date_to < query.date_from:
        errors["to"] = gettext("结束日期不能早于开始日期")
    page = str(args.get("page") or "").strip()
    if page and not (page.isdecimal() and 0 < int(page) <= 100_000):
        errors["page"] = gettext("页码须为正整数")
    query.page = _page_number(page)
    size = str(args.get("per_page") or "").strip()
    if size:
        if size.isdecimal() and 0 < int(size) <= MAX_PER_PAGE:
            query.per_page = int(size)
        else:
            errors["per_page"] = gettext("每页条数须为1–%(MAX_PER_PAGE)s", MAX_PER_PAGE=MAX_PER_PAGE)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), fields=errors)
    return query


def _involves(department_id: int):
    """Meetings a department takes part in: it organizes them, is invited, or presents an agenda item."""
    return or_(
        Meeting.organizer_department_id == department_id,
        exists(select(Participant.id).join(User, User.id == Participant.user_id)
               .where(Participant.meeting_id == Meeting.id, User.department_id == department_id)),
        exists(select(AgendaItem.id).where(AgendaItem.meeting_id == Meeting.id,
                                           AgendaItem.department_id == department_id)),
    )


def _meeting_filters(user, query: SearchQuery, now: datetime) -> list:
    """Conditions on Meeting for the filters chosen (the date range is applied to the block ids)."""
    conditions = []
    if query.department_id:
        conditions.append(_involves(query.department_id))
    if query.scenario:
        conditions.append(Meeting.scenario == query.scenario)
    if query.status:
        conditions.append(_status_condition(query.status, now))
    return conditions


def _hidden(user, meeting_ids: np.ndarray) -> np.ndarray:
    """Of these meetings, those `user` may not find: among the restricted ones (confidential or cancelled), those
    the permission rule (meetings.service.visible_filter) refuses. Every other meeting is public.

    Only the restricted meetings that matched are checked: each check reads the meeting's row, and a search
    matches a small share of the restricted ones (100,000 meetings, 4,000 restricted: 10 ms for all of them).
    """
    restricted = _fetch_ids(select(ArchiveEntry.meeting_id).where(ArchiveEntry.restricted == true()))  # "= 1": indexed
    candidates = np.intersect1d(meeting_ids, restricted)
    if not candidates.size:
        return _NO_IDS
    backend = backend_for(db.engine.dialect.name)
    return _fetch_ids(select(Meeting.id).where(backend.among(Meeting.id, candidates.tolist()), ~_scope(user)))


def _codes(kind: DocKind | None) -> list[int]:
    """The codes of a kind of text (all of them without a kind)."""
    return sorted(c for c, k in CODE_KINDS.items() if kind is None or k == kind)


#: Per bit mask of matched codes: the relevance score, the sum of the codes' weights.
_SCORE = np.array([sum(w for c, w in CODE_WEIGHTS.items() if mask >> c & 1) for mask in range(1 << (CODE_MASK + 1))],
                  dtype=np.int64)
#: Per kind of text: the bit mask of its codes, and its weight (that of its heaviest code) for the API's ranking.
_KIND_BITS = {kind: sum(1 << c for c in _codes(kind)) for kind in DocKind}
_KIND_WEIGHT = {kind: max(CODE_WEIGHTS[c] for c in _codes(kind)) for kind in DocKind}
_NO_IDS = np.empty(0, dtype=np.int64)


def _hits(query: SearchQuery):
    """The matching blocks in the query's date range: a subquery with one column, `id`."""
    low, high = day_range(query.date_from, query.date_to)
    return backend_for(db.engine.dialect.name).hit_ids(BLOCKS, query.parsed, low, high)


def _matches(user, query: SearchQuery, now: datetime) -> "Matches":
    """The meetings with matching blocks in the date range that pass the filters and that `user` may see."""
    hits = _hits(query)
    matches = Matches.collect(_fetch_ids(select(hits.c.id)))
    matches = matches.without(_hidden(user, matches.meeting_ids))
    filters = _meeting_filters(user, query, now)
    if filters:
        matches = matches.among(_fetch_ids(select(Meeting.id).where(*filters)))
    return matches


def _fetch_ids(stmt) -> np.ndarray:
    """The integers a one-column SELECT gives, as one array, in the session's transaction.

    A frequent word matches 85,000 blocks. The database joins their ids into one string, which numpy
    reads in one call: a row, or a Python int, per id would cost more than finding them (85,000 ids:
    fetching rows 19 ms, splitting the joined string in Python 9 ms, numpy 1.6 ms).
    """
    fetched = stmt.subquery("fetched")
    value = list(fetched.c)[0]
    if db.session.get_bind().dialect.name == "sqlite":
        joined = func.group_concat(value)
    else:
        joined = func.string_agg(cast(value, Text), ",")
    text = db.session.execute(select(joined)).scalar()
    return np.fromstring(text, dtype=np.int64, sep=",") if text else _NO_IDS


@dataclass
class Matches:
    """The meetings a search found, from block ids alone: the meeting keys (day << 31 | id, ascending) and,
    for each, the bit mask of the codes that matched. Grouping, counting and ordering are array operations."""

    keys: np.ndarray
    masks: np.ndarray

    @classmethod
    def collect(cls, ids) -> "Matches":
        """Group block ids (in any order; SQLite gives them sorted) by meeting."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size > 1 and not (ids[1:] >= ids[:-1]).all():
            ids = np.sort(ids)
        keys = ids >> CODE_BITS
        if not keys.size:
            return cls(_NO_IDS, _NO_IDS)
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        return cls(keys[starts], np.bitwise_or.reduceat(np.left_shift(1, ids & CODE_MASK), starts))

    @property
    def meeting_ids(self) -> np.ndarray:
        return self.keys & MEETING_MASK

    def where(self, chosen: np.ndarray) -> "Matches":
        """The matches where `chosen` (a boolean array) is true."""
        return Matches(self.keys[chosen], self.masks[chosen])

    def among(self, meeting_ids) -> "Matches":
        """The matches of these meetings only."""
        return self.where(np.isin(self.meeting_ids, np.asarray(meeting_ids, dtype=np.int64)))

    def without(self, meeting_ids) -> "Matches":
        """The matches of all but these meetings."""
        return self.where(~np.isin(self.meeting_ids, np.asarray(meeting_ids, dtype=np.int64)))

    def mask_by_meeting(self) -> dict[int, int]:
        """{meeting id: mask of the codes that matched}."""
        return dict(zip(self.meeting_ids.tolist(), self.masks.tolist()))

    def facets(self) -> dict[str, int]:
        """Matching meetings per kind of text (DocKind values), for the kinds that have any."""
        counts = {kind.value: int(np.count_nonzero(self.masks & bits)) for kind, bits in _KIND_BITS.items()}
        return {kind: count for kind, count in counts.items() if count}

    def results(self, kind: DocKind | None, sort: "Sort", page: int, per_page: int) -> tuple[int, list[tuple]]:
        """(total, [(meeting id, DocKind)]): one result per meeting and kind of text (the API's results),
        by relevance (the kind's weight, then newest) or newest first."""
        parts = [(k, self.keys[(self.masks & _KIND_BITS[k]) != 0]) for k in DocKind if kind in (None, k)]
        keys = np.concatenate([found for _k, found in parts])
        weights = np.concatenate([np.full(found.size, _KIND_WEIGHT[k] if sort == Sort.RELEVANCE else 0)
                                  for k, found in parts])
        kinds = list(DocKind)  # at equal weight and key, the kind listed first comes first
        later = np.concatenate([np.full(found.size, -kinds.index(k)) for k, found in parts])
        best_first = np.lexsort((later, keys, weights))[::-1][(page - 1) * per_page:page * per_page]
        return int(keys.size), [(int(keys[i] & MEETING_MASK), kinds[-int(later[i])]) for i in best_first]

    def page(self, kind: DocKind | None, sort: "Sort", page: int, per_page: int) -> tuple[int, list[tuple]]:
        """(total, [(meeting id, score, mask)]) for one page, by relevance (score, then newest) or newest first."""
        chosen = _KIND_BITS[kind] if kind else sum(_KIND_BITS.values())
        found = self.where((self.masks & chosen) != 0)
        scores = _SCORE[found.masks & chosen]
        best_first = (np.lexsort((found.keys, scores)) if sort == Sort.RELEVANCE else np.arange(found.keys.size))[::-1]
        shown = best_first[(page - 1) * per_page:page * per_page]
        return int(found.keys.size), [(int(found.keys[i] & MEETING_MASK), int(scores[i]), int(found.masks[i]))
                                      for i in shown]


def matching_meetings(query: SearchQuery) -> set[int]:
    """All meetings with a matching block, before any permission filter (for checks and benchmarks).

    The database reduces the blocks to distinct meetings: a frequent word is in three blocks of each
    of tens of thousands of meetings, and only the meetings leave it.
    """
    hits = _hits(query)
    meeting = hits.c.id.op(">>")(_int(CODE_BITS)).op("&")(_int(MEETING_MASK))
    return set(_fetch_ids(select(meeting).distinct()).tolist())


def _int(value: int):
    """An integer constant written into the SQL: PostgreSQL has no `bigint >> bigint`, which a parameter would make."""
    return literal_column(str(int(value)), Integer)


@dataclass
class Passage:
    """A matching passage: where it comes from and its text cut into plain and highlighted segments."""

    kind: DocKind
    segments: list[tuple[str, bool]]
    #: Where in the meeting: the agenda item's title (points, decisions, actions).
    where: str = ""
    #: Who: the department (and person) it is attributed to.
    who: str = ""
    #: A finer label (观点 / 争议 / 共识 for points; 核心目标 for a goal...).
    label: str = ""
    #: For actions: the status label and whether it is overdue.
    status: str = ""
    status_tone: str = ""
    due: date | None = None

    @property
    def snippet(self) -> str:
        return plain(self.segments)


@dataclass
class MeetingHit:
    """A meeting in the grouped results, with its best passages."""

    row: ArchiveRow
    score: int
    matches: int
    passages: list[Passage]

    @property
    def more(self) -> int:
        return max(0, self.matches - len(self.passages))


@dataclass
class SearchResults:
    """A page of results grouped by meeting, with the total and the matching meetings per kind of text."""

    query: SearchQuery
    terms: tuple[str, ...]
    hits: list[MeetingHit] = field(default_factory=list)
    total: int = 0  #: matching meetings
    facets: dict[str, int] = field(default_factory=dict)  #: matching meetings per DocKind value, ignoring `kind`

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def searched(self) -> bool:
        return bool(self.terms)


def search(user, query: SearchQuery, now: datetime | None = None) -> SearchResults:
    """Search what the user may see; results grouped by meeting, by relevance or newest first.

    A meeting matches when one kind of its text (its topic, its goal, its agenda, its points, its
    decisions, its actions or its final minutes) contains every term.
    """
    now = now or utcnow()
    parsed = query.parsed
    results = SearchResults(query=query, terms=parsed.terms)
    if not parsed:
        return results
    matches = _matches(user, query, now)
    results.facets = matches.facets()
    results.total, page = matches.page(query.kind, query.sort, query.page, query.per_page)
    if not page:
        return results
    ids = [meeting_id for meeting_id, _score, _mask in page]
    meetings = {m.id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.id.in_(ids), _scope(user)).options(*_meeting_options()))}
    rows = {row.meeting.id: row for row in archive_rows(list(meetings.values()), now)}
    found = _passages(ids, parsed, query.kind, {meeting_id: mask for meeting_id, _score, mask in page})
    shown = _describe([doc for meeting_id in ids for doc in found.get(meeting_id, [])[:PASSAGES_PER_MEETING]], parsed)
    for meeting_id, score, _mask in page:
        if meeting_id not in rows:  # never for a meeting the user may not see: the count excluded it already
            continue
        results.hits.append(MeetingHit(row=rows[meeting_id], score=score, matches=len(found.get(meeting_id, [])),
                                       passages=[passage for doc, passage in shown if doc.meeting_id == meeting_id]))
    return results


def _passages(meeting_ids: list[int], parsed: ParsedQuery, kind: DocKind | None,
              masks: dict[int, int] | None = None) -> dict[int, list]:
    """The texts of some meetings with the most terms any of them has (all, nearly always), best first.

    They are read from the source tables by the same builders the index is made from; `masks` (the
    codes that matched, per meeting) spares reading the kinds of text that did not match.
    """
    codes = frozenset(_codes(kind))
    masks = masks or {}
    matched = {meeting_id: frozenset(c for c in codes if meeting_id not in masks or masks[meeting_id] >> c & 1)
               for meeting_id in meeting_ids}
    wanted = frozenset().union(*matched.values()) if matched else codes
    connection = db.session.connection()
    present_in = lambda doc: sum(1 for term in parsed.terms if term in fold(doc.body))  # noqa: E731
    read = read_docs(connection, meeting_ids, wanted, containing=parsed.terms)
    docs = {meeting_id: [(d, present_in(d)) for d in items if d.code in matched[meeting_id]]
            for meeting_id, items in read.items()}
    missing = [meeting_id for meeting_id, items in docs.items() if not any(n for _d, n in items)]
    if missing:  # matched only after NFKC folding (full-width letters): read those meetings in full
        for meeting_id, items in read_docs(connection, missing, wanted).items():
            docs[meeting_id] = [(d, present_in(d)) for d in items if d.code in matched[meeting_id]]
    found: dict[int, list] = {}
    for meeting_id, items in docs.items():
        scored = []
        for position, (doc, present) in enumerate(items):
            if present:
                scored.append((-present, -CODE_WEIGHTS[doc.code], position, doc))
        best = min((s[0] for s in scored), default=0)  # the most terms any passage has: show those
        found[meeting_id] = [doc for *_key, doc in sorted((s for s in scored if s[0] == best), key=lambda s: s[:3])]
    return found


def _describe(docs, parsed: ParsedQuery) -> list[tuple]:
    """Turn texts into (text, passage) pairs, naming their agenda item, department, person and status."""
    points = _by_id(docs, DocKind.POINT, Point.speaker_id, Point.kind)
    decisions = _by_id(docs, DocKind.DECISION, Decision.owner_id, Decision.due_date)
    actions = _by_id(docs, DocKind.ACTION, ActionItem.owner_id, ActionItem.due_date, ActionItem.status)
    item_ids = {d.agenda_item_id for d in docs if d.agenda_item_id}
    items = dict(db.session.execute(select(AgendaItem.id, AgendaItem.title).where(AgendaItem.id.in_(item_ids))).all()) \
        if item_ids else {}
    dept_ids = {d.department_id for d in docs if d.department_id}
    depts = dict(db.session.execute(select(Department.id, Department.name).where(Department.id.in_(dept_ids))).all()) \
        if dept_ids else {}
    today = local_today()
    out: list[tuple] = []
    for d in docs:
        passage = Passage(kind=d.kind, segments=highlight(d.body, parsed.terms),
                          where=items.get(d.agenda_item_id, "") if d.kind != DocKind.AGENDA else "",
                          who=depts.get(d.department_id, "") if d.kind != DocKind.MEETING else "")
        if d.kind == DocKind.MEETING:
            passage.label = {PART_TOPIC: "会议主题", PART_GOAL: "核心目标", PART_OUTCOME: "预期成果"}.get(d.part, "")
        elif d.kind == DocKind.POINT and d.source_id in points:
            point = points[d.source_id]
            passage.label = point.kind.label
            if point.person:
                passage.who = f"{passage.who}·{point.person}" if passage.who else point.person
        elif d.kind == DocKind.DECISION and d.source_id in decisions:
            decision = decisions[d.source_id]
            passage.due = decision.due_date
            if decision.person:
                passage.who = f"{passage.who}·{decision.person}" if passage.who else decision.person
        elif d.kind == DocKind.ACTION and d.source_id in actions:
            action = actions[d.source_id]
            passage.due = action.due_date
            if action.person:
                passage.who = f"{passage.who}·{action.person}" if passage.who else action.person
            overdue = is_overdue(action, today)
            passage.status = action.status.label + ("·已逾期" if overdue else "")
            passage.status_tone = "ok" if action.status == ActionStatus.DONE else ("bad" if overdue else "warn")
        out.append((d, passage))
    return out


def _by_id(docs, kind: DocKind, person_id, *columns) -> dict:
    """The rows (id, *columns, person: the name of the user `person_id` names) behind the texts of one kind."""
    ids = [d.source_id for d in docs if d.kind == kind]
    if not ids:
        return {}
    model = person_id.class_
    return {row.id: row for row in db.session.execute(
        select(model.id, *columns, User.name.label("person")).outerjoin(User, User.id == person_id)
        .where(model.id.in_(ids)))}


def search_api(user, q="", department=None, date_from=None, date_to=None, kind=None, page=1,
               per_page=API_PER_PAGE, sort=None, scenario=None, status=None) -> dict:
    """Search for the API (GET /api/v1/search): one result per meeting and kind of text, best first.

    Parameters are taken as typed in the URL (strings) or as values; wrong ones raise
    ValidationFailed with `fields` keyed by the URL parameter (q, department, from, to, kind, page,
    per_page, sort, scenario, status). Returns {"total": <results>, "results": [{"meeting_id",
    "topic", "date" (YYYY-MM-DD, local), "kind" (meeting, agenda, point, decision, action, minutes),
    "snippet" (plain text around the first match of the best passage)}]}. An empty q finds nothing.
    """
    args = {"q": q, "department": department, "from": date_from, "to": date_to, "kind": kind, "page": page,
            "per_page": per_page, "sort": sort, "scenario": scenario, "status": status}
    query = parse_search_args({k: (v.isoformat() if isinstance(v, date) else v) for k, v in args.items()
                               if v is not None}, per_page=API_PER_PAGE)
    now = utcnow()
    parsed = query.parsed
    if not parsed:
        return {"total": 0, "results": []}
    matches = _matches(user, query, now)
    total, page = matches.results(query.kind, query.sort, query.page, query.per_page)
    if not page:
        return {"total": total, "results": []}
    ids = sorted({meeting_id for meeting_id, _kind in page})
    meetings = {m.id: m for m in db.session.execute(
        select(Meeting.id, Meeting.topic, Meeting.starts_at).where(Meeting.id.in_(ids)))}
    masks = matches.among(ids).mask_by_meeting()
    docs = _passages(ids, parsed, query.kind, masks)
    results = []
    for meeting_id, kind in page:
        best = next((d for d in docs.get(meeting_id, []) if d.kind == kind), None)
        meeting = meetings[meeting_id]
        results.append({"meeting_id": meeting_id, "topic": meeting.topic,
                        "date": to_local(meeting.starts_at).date().isoformat(), "kind": kind.value,
                        "snippet": plain(highlight(best.body, parsed.terms)) if best else ""})
    return {"total": total, "results": results}


def search_form_choices() -> dict:
    """Choices for the search filters."""
    from minutes.people.service import list_departments

    return {"departments": list_departments(), "scenarios": SCENARIO_LABELS, "statuses": list(ArchiveStatus),
            "kinds": list(DocKind), "sorts": list(Sort)}


# --- maintenance -----------------------------------------------------------------------------

def reindex() -> dict[str, int]:
    """Rebuild every search document and archive entry from the meetings, room and minutes."""
    counts = indexer.reindex_all(db.session)
    db.session.flush()
    return counts
