"""Keep the search documents in step with what they are made of, in the same transaction.

No other domain calls in here: session hooks (after_flush, after_flush_postexec) look at the
meetings, agenda items, points, decisions, actions and minutes versions that a flush wrote, and
rewrite their search documents with Core statements on the same connection. So an edit is searchable as soon as it is
flushed, a rolled-back change leaves no trace, and a deleted, soft-deleted or corrected text
disappears with the change that removed it.

Bulk UPDATE/DELETE statements bypass the ORM and therefore this hook; `flask minutes reindex`
(reindex_all) rebuilds everything from the source tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from minutes.actions.models import ActionItem
from minutes.archive.backends import backend_for
from minutes.archive.models import PART_GOAL, PART_OUTCOME, PART_TOPIC, ArchiveEntry, DocKind, SearchDocument
from minutes.archive.text import indexed_form, topic_key
from minutes.core.timefmt import utcnow
from minutes.meetings.models import AgendaItem, Meeting
from minutes.records.models import Minutes, MinutesVersion
from minutes.room.models import Decision, Point

DOCS = SearchDocument.__table__
ENTRIES = ArchiveEntry.__table__
#: Topic keys of periodic series ("series:12"); normalized topics never contain a colon.
SERIES_KEY_PREFIX = "series:"
#: Longest text indexed from one source (the minutes are split into sections well below this).
MAX_BODY = 20_000


@dataclass(frozen=True)
class Doc:
    """A search document as it should be."""

    kind: DocKind
    source_id: int
    part: int
    meeting_id: int
    agenda_item_id: int | None
    department_id: int | None
    body: str

    def row(self) -> dict:
        body = self.body[:MAX_BODY]
        return {"kind": self.kind.value, "source_id": self.source_id, "part": self.part,
                "meeting_id": self.meeting_id, "agenda_item_id": self.agenda_item_id,
                "department_id": self.department_id, "body": body, "norm": indexed_form(body),
                "updated_at": utcnow()}


# --- what each thing contributes -------------------------------------------------------------
# The builders read only column attributes, so they work on ORM objects and on Core rows alike.

def meeting_docs(meeting) -> list[Doc]:
    """The topic, core goal and expected outcome of a meeting."""
    parts = ((PART_TOPIC, meeting.topic), (PART_GOAL, meeting.goal), (PART_OUTCOME, meeting.expected_outcome))
    return [Doc(DocKind.MEETING, meeting.id, part, meeting.id, None, meeting.organizer_department_id, text.strip())
            for part, text in parts if (text or "").strip()]


def agenda_docs(item) -> list[Doc]:
    """An agenda item's title with its notes."""
    body = "\n".join(t.strip() for t in (item.title, item.description) if (t or "").strip())
    return [Doc(DocKind.AGENDA, item.id, 0, item.meeting_id, item.id, item.department_id, body)] if body else []


def point_docs(point) -> list[Doc]:
    """A viewpoint, dispute or consensus, unless deleted."""
    if point.deleted_at is not None or not (point.text or "").strip():
        return []
    return [Doc(DocKind.POINT, point.id, 0, point.meeting_id, point.agenda_item_id, point.department_id,
                point.text.strip())]


def decision_docs(decision) -> list[Doc]:
    """A decision, unless deleted."""
    if decision.deleted_at is not None or not (decision.text or "").strip():
        return []
    return [Doc(DocKind.DECISION, decision.id, 0, decision.meeting_id, decision.agenda_item_id,
                decision.owner_department_id, decision.text.strip())]


def action_docs(action) -> list[Doc]:
    """An action item, unless deleted."""
    if action.deleted_at is not None or not (action.text or "").strip():
        return []
    return [Doc(DocKind.ACTION, action.id, 0, action.meeting_id, action.agenda_item_id,
                action.owner_department_id, action.text.strip())]


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MARKUP = re.compile(r"(\*\*|__|`+|~~|^\s{0,3}>\s?|^\s*[-*+]\s+|^\s*\d+\.\s+|!\[[^\]]*\]\([^)]*\))", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def minutes_sections(body: str) -> list[str]:
    """Split the recorder's Markdown into sections at its headings, as plain text."""
    text = (body or "").replace("\r\n", "\n")
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts = [0] + starts
    chunks = [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]
    sections = []
    for chunk in chunks:
        chunk = _LINK.sub(r"\1", chunk)
        chunk = _HEADING.sub("", chunk)
        chunk = _MARKUP.sub("", chunk)
        chunk = re.sub(r"\|", " ", chunk)
        chunk = re.sub(r"^[\s:-]+$", "", chunk, flags=re.MULTILINE)
        chunk = re.sub(r"\n{2,}", "\n", chunk).strip()
        if chunk:
            sections.append(chunk)
    return sections


def minutes_docs(meeting_id: int, version) -> list[Doc]:
    """The sections of a meeting's current final minutes (the latest final version, a correction included)."""
    if version is None:
        return []
    return [Doc(DocKind.MINUTES, meeting_id, index, meeting_id, None, None, section)
            for index, section in enumerate(minutes_sections(version.body))]


def final_version(connection, meeting_id: int):
    """The latest final version of a meeting's minutes, or None."""
    table = MinutesVersion.__table__
    return connection.execute(
        select(table.c.id, table.c.body).where(table.c.meeting_id == meeting_id, table.c.finalized_at.is_not(None))
        .order_by(table.c.number.desc()).limit(1)).first()


# --- writing ---------------------------------------------------------------------------------

def sync(connection, wanted: dict[tuple[DocKind, int], list[Doc]]) -> None:
    """Make the documents of each (kind, source) exactly `wanted`: insert, update or delete rows."""
    if not wanted:
        return
    existing: dict[tuple[str, int, int], tuple] = {}
    by_kind: dict[DocKind, list[int]] = {}
    for kind, source_id in wanted:
        by_kind.setdefault(kind, []).append(source_id)
    for kind, ids in by_kind.items():
        for chunk in _chunks(sorted(set(ids)), 500):
            rows = connection.execute(
                select(DOCS.c.id, DOCS.c.kind, DOCS.c.source_id, DOCS.c.part, DOCS.c.meeting_id,
                       DOCS.c.agenda_item_id, DOCS.c.department_id, DOCS.c.body)
                .where(DOCS.c.kind == kind.value, DOCS.c.source_id.in_(chunk)))
            for row in rows:
                existing[(str(row.kind), row.source_id, row.part)] = row
    inserts, stale = [], []
    for (kind, source_id), docs in wanted.items():
        keep = set()
        for doc in docs:
            key = (kind.value, source_id, doc.part)
            keep.add(doc.part)
            row = existing.get(key)
            if row is None:
                inserts.append(doc.row())
            elif (row.body, row.meeting_id, row.agenda_item_id, row.department_id) != (
                    doc.body[:MAX_BODY], doc.meeting_id, doc.agenda_item_id, doc.department_id):
                values = doc.row()
                connection.execute(update(DOCS).where(DOCS.c.id == row.id).values(
                    body=values["body"], norm=values["norm"], meeting_id=doc.meeting_id,
                    agenda_item_id=doc.agenda_item_id, department_id=doc.department_id,
                    updated_at=values["updated_at"]))
        stale += [row.id for (k, s, part), row in existing.items()
                  if k == kind.value and s == source_id and part not in keep]
    for chunk in _chunks(stale, 500):
        connection.execute(delete(DOCS).where(DOCS.c.id.in_(chunk)))
    if inserts:
        connection.execute(insert(DOCS), inserts)


def filing_key(topic: str, series_id: int | None) -> str:
    """The topic a meeting is filed under: its series, or else its normalized topic."""
    return f"{SERIES_KEY_PREFIX}{series_id}" if series_id else topic_key(topic)


def file_meeting(connection, meeting_id: int, topic: str, series_id: int | None = None) -> None:
    """File a meeting under its topic key (insert or update its archive entry)."""
    key = filing_key(topic, series_id)
    current = connection.execute(select(ENTRIES.c.topic_key).where(ENTRIES.c.meeting_id == meeting_id)).first()
    if current is None:
        connection.execute(insert(ENTRIES).values(meeting_id=meeting_id, topic_key=key))
    elif current.topic_key != key:
        connection.execute(update(ENTRIES).where(ENTRIES.c.meeting_id == meeting_id).values(topic_key=key))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- the session hook ------------------------------------------------------------------------

_BUILDERS = {
    Meeting: (DocKind.MEETING, meeting_docs),
    AgendaItem: (DocKind.AGENDA, agenda_docs),
    Point: (DocKind.POINT, point_docs),
    Decision: (DocKind.DECISION, decision_docs),
    ActionItem: (DocKind.ACTION, action_docs),
}
_WATCHED = tuple(_BUILDERS) + (Minutes, MinutesVersion)
_TOUCHED_KEY = "archive_touched"


@event.listens_for(Session, "after_flush")
def _note_flushed_objects(session: Session, flush_context) -> None:
    """Note what this flush wrote; the documents are rewritten once the flush has settled."""
    touched = [obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, _WATCHED)]
    if touched:
        session.info.setdefault(_TOUCHED_KEY, {}).update((id(obj), obj) for obj in touched)


@event.listens_for(Session, "after_rollback")
def _forget_flushed_objects(session: Session) -> None:
    session.info.pop(_TOUCHED_KEY, None)


@event.listens_for(Session, "after_flush_postexec")
def _index_flushed_changes(session: Session, flush_context) -> None:
    """Rewrite the search documents of everything the flush inserted, changed or deleted."""
    touched = session.info.pop(_TOUCHED_KEY, None)
    if not touched:
        return
    changed, deleted = [], []
    for obj in touched.values():
        state = inspect(obj)
        # Deleted now includes orphans removed by a delete-orphan cascade, which never are in session.deleted.
        (deleted if state.deleted or state.was_deleted else changed).append(obj)
    connection = session.connection()
    wanted: dict[tuple[DocKind, int], list[Doc]] = {}
    minutes_of: set[int] = set()
    gone_meetings: set[int] = set()
    for obj in deleted:
        if isinstance(obj, Meeting):
            gone_meetings.add(obj.id)
        elif isinstance(obj, (Minutes, MinutesVersion)):
            minutes_of.add(obj.meeting_id)
        else:
            kind, _builder = _BUILDERS[type(obj)]
            wanted[(kind, obj.id)] = []
    for obj in changed:
        if getattr(obj, "id", None) is None:
            continue
        if isinstance(obj, (Minutes, MinutesVersion)):
            minutes_of.add(obj.meeting_id)
            continue
        kind, builder = _BUILDERS[type(obj)]
        wanted[(kind, obj.id)] = builder(obj)
        if isinstance(obj, Meeting):
            file_meeting(connection, obj.id, obj.topic or "", obj.series_id)
    for meeting_id in gone_meetings:
        connection.execute(delete(DOCS).where(DOCS.c.meeting_id == meeting_id))
        connection.execute(delete(ENTRIES).where(ENTRIES.c.meeting_id == meeting_id))
    wanted = {key: docs for key, docs in wanted.items()
              if not (docs and docs[0].meeting_id in gone_meetings)}
    for meeting_id in minutes_of - gone_meetings:
        wanted[(DocKind.MINUTES, meeting_id)] = minutes_docs(meeting_id, final_version(connection, meeting_id))
    sync(connection, wanted)


# --- rebuilding ------------------------------------------------------------------------------

def reindex_all(session: Session, batch: int = 2000) -> dict[str, int]:
    """Throw the search documents and archive entries away and build them again from the sources."""
    connection = session.connection()
    connection.execute(delete(DOCS))
    connection.execute(delete(ENTRIES))
    counts: dict[str, int] = {}
    sources = [
        (DocKind.MEETING, Meeting.__table__, meeting_docs, None),
        (DocKind.AGENDA, AgendaItem.__table__, agenda_docs, None),
        (DocKind.POINT, Point.__table__, point_docs, "deleted_at"),
        (DocKind.DECISION, Decision.__table__, decision_docs, "deleted_at"),
        (DocKind.ACTION, ActionItem.__table__, action_docs, "deleted_at"),
    ]
    for kind, table, builder, soft_delete in sources:
        condition = table.c[soft_delete].is_(None) if soft_delete else None
        counts[kind.value] = _insert_in_batches(
            connection, (doc for row in _rows_in_batches(connection, table, condition, batch) for doc in builder(row)),
            batch)
    meetings = Meeting.__table__
    entries = [{"meeting_id": row.id, "topic_key": filing_key(row.topic or "", row.series_id)}
               for row in connection.execute(select(meetings.c.id, meetings.c.topic, meetings.c.series_id))]
    for chunk in _chunks(entries, batch):
        connection.execute(insert(ENTRIES), chunk)
    versions = MinutesVersion.__table__
    latest = (select(versions.c.meeting_id, versions.c.id, versions.c.body, versions.c.number)
              .where(versions.c.finalized_at.is_not(None)).order_by(versions.c.meeting_id, versions.c.number))
    final_by_meeting = {row.meeting_id: row for row in connection.execute(latest)}
    counts[DocKind.MINUTES.value] = _insert_in_batches(
        connection, (doc for meeting_id, row in final_by_meeting.items() for doc in minutes_docs(meeting_id, row)),
        batch)
    backend_for(connection.dialect.name).rebuild(connection)
    counts["topics"] = len(entries)
    return counts


def _insert_in_batches(connection, docs, batch: int) -> int:
    pending, total = [], 0
    for doc in docs:
        pending.append(doc.row())
        if len(pending) >= batch:
            connection.execute(insert(DOCS), pending)
            total += len(pending)
            pending = []
    if pending:
        connection.execute(insert(DOCS), pending)
        total += len(pending)
    return total


def _rows_in_batches(connection, table, condition, batch: int):
    """Read a whole table in primary-key order, one batch at a time (nothing held open while writing)."""
    last = 0
    while True:
        query = select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
        if condition is not None:
            query = query.where(condition)
        rows = connection.execute(query).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
