"""The archive's own tables: one search document per searchable thing, and each meeting's topic key.

Both are derived data, kept in step with the meetings, the room and the minutes by the session
hooks in `minutes.archive.indexer` (in the same transaction as the change) and rebuilt by
`flask minutes reindex`. The full-text indexes over `search_document` are created with the table
(see `minutes.archive.backends`): SQLite FTS5 tables with triggers, or PostgreSQL GIN indexes.
"""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db


class DocKind(enum.StrEnum):
    """What a search document was made from."""

    MEETING = "meeting"  #: topic, core goal, expected outcome
    AGENDA = "agenda"  #: an agenda item's title and notes
    POINT = "point"  #: a viewpoint, dispute or consensus
    DECISION = "decision"
    ACTION = "action"
    MINUTES = "minutes"  #: a section of the final, locked minutes

    @property
    def label(self) -> str:
        return DOC_KIND_LABELS[self]

    @property
    def weight(self) -> int:
        """How much a match in this kind of text says about the meeting (for relevance)."""
        return DOC_KIND_WEIGHTS[self]


DOC_KIND_LABELS = {
    DocKind.MEETING: "会议信息",
    DocKind.AGENDA: "议题",
    DocKind.POINT: "讨论要点",
    DocKind.DECISION: "决议",
    DocKind.ACTION: "待办",
    DocKind.MINUTES: "正式纪要",
}
DOC_KIND_WEIGHTS = {
    DocKind.MEETING: 6,
    DocKind.AGENDA: 4,
    DocKind.POINT: 2,
    DocKind.DECISION: 5,
    DocKind.ACTION: 4,
    DocKind.MINUTES: 2,
}

#: Parts of a meeting's own text (DocKind.MEETING).
PART_TOPIC, PART_GOAL, PART_OUTCOME = 0, 1, 2


class SearchDocument(db.Model):
    """One searchable text (a topic, a point, a decision, a section of the minutes...).

    Who may see it, the meeting's date, scenario and status are read from the meeting at query
    time, so a change there never leaves the index behind.
    """

    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("kind", "source_id", "part", name="uq_search_document_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    #: The agenda item the text belongs to (points, decisions, actions, agenda items).
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocKind] = mapped_column(str_enum(DocKind))
    #: Id of the row the text comes from, in the table its kind names.
    source_id: Mapped[int] = mapped_column(Integer)
    #: Which text of the source (a meeting's topic, goal or outcome; a section of the minutes).
    part: Mapped[int] = mapped_column(Integer, default=0)
    #: The department the text is attributed to (a viewpoint's department, an owner's department).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    #: The text as written; snippets and highlights are cut from it.
    body: Mapped[str] = mapped_column(Text)
    #: The NFKC form of `body` (full-width letters and digits folded), only when it differs from it;
    #: the indexes cover coalesce(norm, body).
    norm: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveEntry(db.Model):
    """A meeting's place in the archive: the topic it is filed under (会议主题-日期)."""

    __tablename__ = "archive_entry"
    __table_args__ = (Index("ix_archive_entry_topic_key", "topic_key"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    #: Normalized topic without dates and ordinals: meetings sharing it form one topic page.
    topic_key: Mapped[str] = mapped_column(String(200))


from minutes.archive import backends  # noqa: E402  (attaches the full-text DDL to search_document)

backends.attach_ddl(SearchDocument.__table__)

from minutes.archive import indexer  # noqa: E402,F401  (the session hook that keeps the documents in step)
