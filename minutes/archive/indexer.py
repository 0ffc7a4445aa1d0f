"""Keep the search blocks in step with what they are made of, in the same transaction.

No other domain calls in here: session hooks (installed by `init_app`, which `create_app` calls) note
the meetings, agenda items, points, decisions, actions and minutes that a flush wrote, and rewrite the
affected blocks of those meetings from the source tables, with Core statements on the same connection. So an
edit is searchable as soon as it is flushed, a rolled-back change leaves no trace, and a deleted,
soft-deleted or corrected text disappears with the change that removed it.

What is searchable is defined once, by the builders below (`meeting_docs` … `minutes_docs`): the
blocks are their texts joined, and the passages shown in results are cut from the same texts.

Bulk UPDATE/DELETE statements bypass the ORM and therefore this hook; `flask minutes reindex`
(reindex_all) rebuilds everything from the source tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, event, exists, func, insert, inspect, null, or_, select, update
from sqlalchemy.orm import Session

from minutes import aftercommit
from minutes.actions.models import ActionItem
from minutes.archive.backends import GRAM_PADDING, GRAMS, backend_for
from minutes.archive.models import (CODE_ACTION, CODE_AGENDA, CODE_DECISION, CODE_GOAL, CODE_KINDS, CODE_MINUTES,
                                    CODE_POINT, CODE_TOPIC, CODE_TRANSCRIPT, PART_GOAL, PART_OUTCOME, PART_TOPIC, ArchiveEntry, DocKind,
                                    SearchBlock, block_id)
from minutes.archive.text import fold, grams_of_folded, topic_key
from minutes.core.timefmt import to_local, utcnow
from minutes.meetings.models import AgendaItem, Meeting, MeetingStatus
from minutes.records.models import Minutes, MinutesVersion
from minutes.room.models import Decision, Point
from minutes.transcripts.models import TranscriptLine

BLOCKS = SearchBlock.__table__
ENTRIES = ArchiveEntry.__table__
ALL_CODES = frozenset(CODE_KINDS)
#: Topic keys of periodic series ("series:12"); normalized topics never contain a colon.
SERIES_KEY_PREFIX = "series:"


@dataclass(frozen=True)
class Doc:
    """One searchable text, as written: a topic, a point, a decision, a section of the minutes…"""

    kind: DocKind
    source_id: int
    part: int
    meeting_id: int
    agenda_item_id: int | None
    department_id: int | None
    body: str

    @property
    def code(self) -> int:
        """The block it belongs to."""
        if self.kind == DocKind.MEETING:
            return CODE_TOPIC if self.part == PART_TOPIC else CODE_GOAL
        return {DocKind.AGENDA: CODE_AGENDA, DocKind.POINT: CODE_POINT, DocKind.DECISION: CODE_DECISION,
                DocKind.ACTION: CODE_ACTION, DocKind.MINUTES: CODE_MINUTES,
                DocKind.TRANSCRIPT: CODE_TRANSCRIPT}[self.kind]


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


def transcript_docs(line) -> list[Doc]:
    """A line of an imported transcript, with its speaker as written: "张伟(技术部)：…"."""
    if not (line.text or "").strip():
        return []
    body = f"{line.speaker}：{line.text.strip()}" if line.speaker else line.text.strip()
    return [Doc(DocKind.TRANSCRIPT, line.id, 0, line.meeting_id, line.agenda_item_id, None, body)]


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


# --- reading what is searchable --------------------------------------------------------------

_ITEM = ("id", "meeting_id", "agenda_item_id", "text")
#: (code, table, builder, order within a meeting, the columns the builder reads)
_SOURCES = (
    (CODE_AGENDA, AgendaItem.__table__, agenda_docs, ("position",),
     ("id", "meeting_id", "title", "description", "department_id")),
    (CODE_POINT, Point.__table__, point_docs, ("agenda_item_id", "position"), _ITEM + ("department_id",)),
    (CODE_DECISION, Decision.__table__, decision_docs, ("agenda_item_id", "position"), _ITEM + ("owner_department_id",)),
    (CODE_ACTION, ActionItem.__table__, action_docs, ("agenda_item_id", "position"), _ITEM + ("owner_department_id",)),
    (CODE_TRANSCRIPT, TranscriptLine.__table__, transcript_docs, ("transcript_id", "index"), _ITEM + ("speaker",)),
)


def read_docs(connection, meeting_ids, codes=ALL_CODES, containing=()) -> dict[int, list[Doc]]:
    """The searchable texts of some meetings (of the given codes), from the source tables, in order.

    With `containing` (folded terms), the longer tables are narrowed in SQL to the rows whose text
    contains one of them, as a prefilter: the caller still checks the folded text, and a meeting
    whose text differs only after NFKC folding (full-width letters) may need reading in full.
    """
    ids = sorted(set(meeting_ids))
    found: dict[int, list[Doc]] = {mid: [] for mid in ids}
    if not ids:
        return found
    for chunk in _chunks(ids, 500):
        if codes & {CODE_TOPIC, CODE_GOAL}:
            table = Meeting.__table__
            for row in connection.execute(select(table.c.id, table.c.topic, table.c.goal, table.c.expected_outcome,
                                                 table.c.organizer_department_id).where(table.c.id.in_(chunk))):
                found[row.id] += [d for d in meeting_docs(row) if d.code in codes]
        for code, table, builder, order, columns in _SOURCES:
            if code not in codes:
                continue
            # deleted rows are left out here; the builders see deleted_at as NULL
            query = select(*(table.c[c] for c in columns), *((null().label("deleted_at"),) if "deleted_at" in table.c
                                                             else ())).where(table.c.meeting_id.in_(chunk))
            if "deleted_at" in table.c:
                query = query.where(table.c.deleted_at.is_(None))
            if containing:
                text_columns = [table.c[c] for c in ("title", "description", "text") if c in table.c]
                query = query.where(or_(*(_contains(connection, column, term)
                                          for column in text_columns for term in containing)))
            for row in connection.execute(query.order_by(table.c.meeting_id, *(table.c[c] for c in order),
                                                         table.c.id)):
                found[row.meeting_id] += builder(row)
        if CODE_MINUTES in codes:
            for meeting_id, version in final_versions(connection, chunk).items():
                found[meeting_id] += minutes_docs(meeting_id, version)
    return found


def _contains(connection, column, term: str):
    """column contains term, ignoring ASCII case (instr on SQLite, strpos on PostgreSQL)."""
    finder = func.strpos if connection.dialect.name == "postgresql" else func.instr
    return finder(func.lower(column), term) > 0


def final_versions(connection, meeting_ids) -> dict[int, object]:
    """The latest final version of each meeting's minutes (a correction supersedes what it corrects)."""
    table = MinutesVersion.__table__
    rows = connection.execute(select(table.c.meeting_id, table.c.id, table.c.body, table.c.number)
                              .where(table.c.meeting_id.in_(list(meeting_ids)), table.c.finalized_at.is_not(None))
                              .order_by(table.c.meeting_id, table.c.number))
    return {row.meeting_id: row for row in rows}


def block_rows(meeting_id: int, starts_at: datetime, docs: list[Doc], now: datetime | None = None) -> list[dict]:
    """The search_block rows of a meeting: one per code, its texts folded, one per line."""
    day = to_local(starts_at).date()
    by_code: dict[int, list[str]] = {}
    for doc in docs:
        by_code.setdefault(doc.code, []).append(fold(doc.body).replace("\n", " "))
    now = now or utcnow()
    rows = []
    for code, lines in sorted(by_code.items()):
        text = "\n".join(lines)
        rows.append({"id": block_id(day, meeting_id, code), "meeting_id": meeting_id, "code": code, "text": text,
                     "updated_at": now})
    return rows


def needs_grams(connection) -> bool:
    """PostgreSQL keeps the grams of each block in search_block_gram; SQLite computes them in a view."""
    return connection.dialect.name == "postgresql"


def stored_grams(text: str) -> list[str]:
    """The array search_block_gram (PostgreSQL) keeps for a block's folded text: its grams, then the padding."""
    return [*grams_of_folded(text), GRAM_PADDING]


def gram_rows(blocks: list[dict]) -> list[dict]:
    """The search_block_gram rows (PostgreSQL) of some search_block rows."""
    return [{"id": block["id"], "grams": stored_grams(block["text"])} for block in blocks]


def write_blocks(connection, blocks: list[dict]) -> None:
    """Insert search_block rows, and on PostgreSQL their grams."""
    if not blocks:
        return
    connection.execute(insert(BLOCKS), blocks)
    if needs_grams(connection):
        connection.execute(insert(GRAMS), gram_rows(blocks))


def rewrite_block(connection, block: int, text: str) -> None:
    """Give a search_block row a new text (and on PostgreSQL new grams, in the same statement)."""
    new_text = update(BLOCKS).where(BLOCKS.c.id == block).values(text=text, updated_at=utcnow())
    if not needs_grams(connection):
        connection.execute(new_text)
        return
    # One round trip: the text's UPDATE rides along the grams' as a data-modifying WITH (run whether referred to or not).
    connection.execute(update(GRAMS).where(GRAMS.c.id == block).values(grams=stored_grams(text))
                       .add_cte(new_text.cte("new_text")))


# --- writing ---------------------------------------------------------------------------------

def sync_blocks(connection, wanted: dict[int, set[int]]) -> None:
    """Rewrite the blocks of the given codes of some meetings from the source tables."""
    if not wanted:
        return
    meetings = Meeting.__table__
    found = {row.id: row for row in connection.execute(
        select(meetings.c.id, meetings.c.topic, meetings.c.series_id, meetings.c.confidential, meetings.c.status,
               meetings.c.starts_at).where(meetings.c.id.in_(list(wanted))))}
    for meeting_id, codes in wanted.items():
        meeting = found.get(meeting_id)
        if meeting is None:  # deleted: its blocks went with it (ON DELETE CASCADE)
            continue
        # Every meeting with blocks is filed, so search knows whether it is restricted (see service._hidden).
        file_meeting(connection, meeting)
        docs = read_docs(connection, [meeting_id], codes)[meeting_id]
        desired = {row["id"]: row for row in block_rows(meeting_id, meeting.starts_at, docs)}
        existing = dict(connection.execute(select(BLOCKS.c.id, BLOCKS.c.text).where(
            BLOCKS.c.meeting_id == meeting_id, BLOCKS.c.code.in_(sorted(codes)))).all())
        gone = [block for block in existing if block not in desired]  # emptied, or the meeting moved to another day
        if gone:
            connection.execute(delete(BLOCKS).where(BLOCKS.c.id.in_(gone)))
        write_blocks(connection, [row for block, row in desired.items() if block not in existing])
        for block, row in desired.items():
            if block in existing and existing[block] != row["text"]:
                rewrite_block(connection, block, row["text"])


def filing_key(topic: str, series_id: int | None) -> str:
    """The topic a meeting is filed under: its series, or else its normalized topic."""
    return f"{SERIES_KEY_PREFIX}{series_id}" if series_id else topic_key(topic)


def entry_row(meeting) -> dict:
    """The archive entry of a meeting (a Meeting or a row of its table)."""
    status = getattr(meeting.status, "value", meeting.status)
    return {"meeting_id": meeting.id, "topic_key": filing_key(meeting.topic or "", meeting.series_id),
            "restricted": bool(meeting.confidential) or status == MeetingStatus.CANCELLED.value}


def file_meeting(connection, meeting) -> None:
    """File a meeting under its topic (insert or update its archive entry)."""
    row = entry_row(meeting)
    current = connection.execute(select(ENTRIES.c.topic_key, ENTRIES.c.restricted)
                                 .where(ENTRIES.c.meeting_id == meeting.id)).first()
    if current is None:
        connection.execute(insert(ENTRIES).values(**row))
    elif (current.topic_key, bool(current.restricted)) != (row["topic_key"], row["restricted"]):
        connection.execute(update(ENTRIES).where(ENTRIES.c.meeting_id == meeting.id)
                           .values(topic_key=row["topic_key"], restricted=row["restricted"]))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- the session hook ------------------------------------------------------------------------

#: The blocks a change to each kind of object can affect (a deleted agenda item takes its points along).
_CODES = {
    AgendaItem: frozenset({CODE_AGENDA}),
    Point: frozenset({CODE_POINT}),
    Decision: frozenset({CODE_DECISION}),
    ActionItem: frozenset({CODE_ACTION}),
    Minutes: frozenset({CODE_MINUTES}),
    MinutesVersion: frozenset({CODE_MINUTES}),
    TranscriptLine: frozenset({CODE_TRANSCRIPT}),
}
_WATCHED = (Meeting, *_CODES)
_TOUCHED_KEY = "archive_touched"


def init_app(app) -> None:
    """Hook every flush: note what it wrote, then rewrite the blocks it affected (see `minutes.aftercommit`)."""
    if not event.contains(Session, "after_flush", _note_flushed_objects):
        event.listen(Session, "after_flush", _note_flushed_objects)
    aftercommit.after_flush(_TOUCHED_KEY, _index_flushed_changes)


def _note_flushed_objects(session: Session, flush_context) -> None:
    """Note what this flush wrote (and whether it was new); the blocks are rewritten once the flush has settled."""
    touched = [obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, _WATCHED)]
    if touched:
        new = session.new
        for obj in touched:
            aftercommit.note(session, _TOUCHED_KEY, (obj, obj in new))


def _index_flushed_changes(session: Session, noted: list) -> None:
    """Rewrite the blocks of everything the flush inserted, changed or deleted."""
    touched = {id(obj): (obj, was_new) for obj, was_new in noted}
    connection = session.connection()
    wanted: dict[int, set[int]] = {}
    added: dict[int, list[Point]] = {}  # meeting: the points it only gained
    for obj, was_new in touched.values():
        state = inspect(obj)
        # Deleted includes orphans removed by a delete-orphan cascade, which never are in session.deleted.
        deleted = state.deleted or state.was_deleted
        meeting_id = obj.id if isinstance(obj, Meeting) else obj.meeting_id
        if meeting_id is None:
            continue
        if isinstance(obj, Meeting):
            if not deleted:  # its day (in the block ids), its text or its confidentiality may have changed
                wanted[meeting_id] = set(ALL_CODES)
            continue
        codes = set(_CODES[type(obj)])
        if isinstance(obj, AgendaItem) and deleted:
            codes |= {CODE_POINT, CODE_DECISION, CODE_ACTION}
        if isinstance(obj, Point) and was_new and not deleted:
            added.setdefault(meeting_id, []).append(obj)
        wanted.setdefault(meeting_id, set()).update(codes)
    for meeting_id, points in added.items():
        if wanted[meeting_id] == {CODE_POINT} and append_points(connection, meeting_id, points):
            del wanted[meeting_id]
    sync_blocks(connection, wanted)


def _point_block_query():
    """A meeting's point block, and whether a live point other than the `added` ones comes after the point
    (item_id, position, point_id) in block order (agenda item, position, id)."""
    table = Point.__table__
    item_id, position, point_id = bindparam("item_id"), bindparam("position"), bindparam("point_id")
    after = or_(table.c.agenda_item_id > item_id,
                and_(table.c.agenda_item_id == item_id,
                     or_(table.c.position > position, and_(table.c.position == position, table.c.id > point_id))))
    meeting_id = bindparam("meeting_id")
    later = exists().where(table.c.meeting_id == meeting_id, table.c.deleted_at.is_(None),
                           table.c.id.not_in(bindparam("added", expanding=True)), after)
    return select(BLOCKS.c.id, BLOCKS.c.text, later.label("later")).where(BLOCKS.c.meeting_id == meeting_id,
                                                                           BLOCKS.c.code == CODE_POINT)


#: Built once: on the path of every point added, building it (and its cache key) cost more than running it.
_POINT_BLOCK = _point_block_query()


def append_points(connection, meeting_id: int, points: list[Point]) -> bool:
    """The common change, cheaply: points added after every other point of their meeting (in block order:
    agenda item, position) are appended to the block, which is then exactly what `sync_blocks` would
    write, without reading the meeting's other points again. False (nothing done) when they do not come
    last, or the meeting has no point block yet: then the block is rewritten."""
    points = sorted(points, key=lambda p: (p.agenda_item_id, p.position, p.id))
    first = points[0]
    block = connection.execute(_POINT_BLOCK, {  # the block, and whether other points come after these
        "meeting_id": meeting_id, "item_id": first.agenda_item_id, "position": first.position, "point_id": first.id,
        "added": [p.id for p in points]}).first()
    if block is None or block.later:
        return False
    lines = [fold(doc.body).replace("\n", " ") for p in points for doc in point_docs(p)]
    if lines:
        rewrite_block(connection, block.id, "\n".join([block.text, *lines]))
    return True


# --- rebuilding ------------------------------------------------------------------------------

def reindex_all(session: Session, batch: int = 500) -> dict[str, int]:
    """Throw the blocks and archive entries away and build them again from the sources."""
    connection = session.connection()
    backend = backend_for(connection.dialect.name)
    backend.drop_indexes(connection)  # load first, then build the indexes in one pass
    connection.execute(delete(BLOCKS))
    connection.execute(delete(ENTRIES))
    meetings = Meeting.__table__
    counts = {"meetings": 0, "blocks": 0, "characters": 0}
    last = 0
    while True:
        rows = connection.execute(select(meetings.c.id, meetings.c.topic, meetings.c.series_id,
                                         meetings.c.confidential, meetings.c.status, meetings.c.starts_at)
                                  .where(meetings.c.id > last).order_by(meetings.c.id).limit(batch)).all()
        if not rows:
            break
        last = rows[-1].id
        docs = read_docs(connection, [r.id for r in rows])
        blocks = [block for r in rows for block in block_rows(r.id, _aware(r.starts_at), docs[r.id])]
        write_blocks(connection, blocks)
        connection.execute(insert(ENTRIES), [entry_row(r) for r in rows])
        counts["meetings"] += len(rows)
        counts["blocks"] += len(blocks)
        counts["characters"] += sum(len(b["text"]) for b in blocks)
    backend.create_indexes(connection)
    return counts


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
