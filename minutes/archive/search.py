"""Search of the knowledge base: the query, the permission-filtered matches, grouped results with passages,
and the API's flat hit list. Like the rest of the archive it reads only what the acting user may see
(see minutes.archive.service).
"""
from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from flask_babel import gettext
from sqlalchemy import Integer, Text, cast, exists, func, literal_column, or_, select, true

from minutes.actions.models import ActionItem, ActionStatus
from minutes.archive.backends import backend_for
from minutes.archive.indexer import read_docs
from minutes.archive.models import (CODE_BITS, CODE_KINDS, CODE_MASK, CODE_WEIGHTS,
                                    MEETING_MASK, PART_GOAL, PART_OUTCOME, PART_TOPIC, ArchiveEntry, DocKind,
                                    SearchBlock, day_range)
from minutes.archive.service import (ArchiveRow, ArchiveStatus, _meeting_options, _page_number, _scope,
                                     _status_condition, archive_rows, is_overdue)
from minutes.archive.text import MAX_QUERY_CHARS, ParsedQuery, fold, highlight, parse_query, plain
from minutes.core import dates
from minutes.core.errors import ValidationFailed
from minutes.core.timefmt import local_today, to_local, utcnow
from minutes.extensions import db
from minutes.meetings.models import SCENARIO_LABELS, AgendaItem, Meeting, Participant, Scenario
from minutes.people.models import Department, User
from minutes.people.service import list_departments
from minutes.room.models import Decision, Point

BLOCKS = SearchBlock.__table__
PER_PAGE = 20
API_PER_PAGE = 20
MAX_PER_PAGE = 100
#: Passages shown under one meeting in the grouped results.
PASSAGES_PER_MEETING = 3


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"

    @property
    def label(self) -> str:
        return {Sort.RELEVANCE: gettext("按相关度"), Sort.NEWEST: gettext("最新在前")}[self]


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
        parsed = dates.parse_day(text)
    except ValueError:
        errors[name] = gettext("日期格式应为 2026-06-30")
        return None
    if parsed.year not in dates.YEARS:
        errors[name] = gettext("日期须在2000年至2100年之间")
        return None
    return parsed


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
            passage.label = {PART_TOPIC: gettext("会议主题"), PART_GOAL: gettext("核心目标"),
                             PART_OUTCOME: gettext("预期成果")}.get(d.part, "")
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
            passage.status = action.status.label + (gettext("·已逾期") if overdue else "")
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
    return {"departments": list_departments(), "scenarios": SCENARIO_LABELS, "statuses": list(ArchiveStatus),
            "kinds": list(DocKind), "sorts": list(Sort)}
