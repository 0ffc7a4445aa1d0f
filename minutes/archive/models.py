"""The archive's own tables: the searchable text of each meeting, and where each meeting is filed.

Both are derived data, kept in step with the meetings, the room and the minutes by the session
hooks in `minutes.archive.indexer` (in the same transaction as the change; `create_app` installs them) and rebuilt by
`flask minutes reindex`. The full-text indexes over `search_block` are created with the table (see
`minutes.archive.backends`): SQLite FTS5 tables with triggers, or PostgreSQL GIN indexes.
"""
import enum
from datetime import date, datetime

from flask_babel import lazy_gettext
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from minutes.archive import backends
from minutes.dbtypes import UTCDateTime, utcnow
from minutes.extensions import db


class DocKind(enum.StrEnum):
    """What a searchable text was made from."""

    MEETING = "meeting"  #: topic, core goal, expected outcome
    AGENDA = "agenda"  #: an agenda item's title and notes
    POINT = "point"  #: a viewpoint, dispute or consensus
    DECISION = "decision"
    ACTION = "action"
    MINUTES = "minutes"  #: a section of the final, locked minutes
    TRANSCRIPT = "transcript"  #: a line of an imported transcript (minutes.transcripts)

    @property
    def label(self) -> str:
        return str(DOC_KIND_LABELS[self])


DOC_KIND_LABELS = {
    DocKind.MEETING: lazy_gettext("会议信息"),
    DocKind.AGENDA: lazy_gettext("议题"),
    DocKind.POINT: lazy_gettext("讨论要点"),
    DocKind.DECISION: lazy_gettext("决议"),
    DocKind.ACTION: lazy_gettext("待办"),
    DocKind.MINUTES: lazy_gettext("正式纪要"),
    DocKind.TRANSCRIPT: lazy_gettext("记录稿"),
}

#: Parts of a meeting's own text (DocKind.MEETING).
PART_TOPIC, PART_GOAL, PART_OUTCOME = 0, 1, 2

#: One block per meeting and code: the topic has its own code because a match there weighs most.
CODE_TOPIC, CODE_GOAL, CODE_AGENDA, CODE_POINT, CODE_DECISION, CODE_ACTION, CODE_MINUTES, CODE_TRANSCRIPT = range(8)
CODE_KINDS = {CODE_TOPIC: DocKind.MEETING, CODE_GOAL: DocKind.MEETING, CODE_AGENDA: DocKind.AGENDA,
              CODE_POINT: DocKind.POINT, CODE_DECISION: DocKind.DECISION, CODE_ACTION: DocKind.ACTION,
              CODE_MINUTES: DocKind.MINUTES, CODE_TRANSCRIPT: DocKind.TRANSCRIPT}
#: How much a match in each kind of text says about the meeting (relevance is the sum over its blocks).
CODE_WEIGHTS = {CODE_TOPIC: 10, CODE_GOAL: 6, CODE_AGENDA: 4, CODE_POINT: 2, CODE_DECISION: 5, CODE_ACTION: 4,
                CODE_MINUTES: 2, CODE_TRANSCRIPT: 1}

# A block's id says which day, which meeting and which kind of text it is:
#     id = day << 34 | meeting_id << 3 | code       (day: days since 2000-01-01 of the meeting, local time)
# so the full-text index alone yields, for every match, the meeting and the kind (grouping and the
# counts per kind need no row), the order newest-first is the order of the ids, and a date range
# is a range of ids that FTS5 and the B-tree apply while reading the index.
CODE_BITS, MEETING_BITS = 3, 31
DAY_SHIFT = CODE_BITS + MEETING_BITS
CODE_MASK, MEETING_MASK = (1 << CODE_BITS) - 1, (1 << MEETING_BITS) - 1
EPOCH = date(2000, 1, 1)


def block_id(day: date, meeting_id: int, code: int) -> int:
    """The id of a meeting's block of one code."""
    return (max(0, (day - EPOCH).days) << DAY_SHIFT) | (meeting_id << CODE_BITS) | code


def day_range(first: date | None, last: date | None) -> tuple[int | None, int | None]:
    """The block ids of meetings held from `first` to `last` (inclusive; either may be open)."""
    low = max(0, (first - EPOCH).days) << DAY_SHIFT if first else None
    high = ((max(0, (last - EPOCH).days) + 1) << DAY_SHIFT) - 1 if last else None
    return low, high


class SearchBlock(db.Model):
    """All the text of one kind in one meeting, folded for search (NFKC, lower case), one line per item.

    Who may see it, and the meeting's scenario and status, are read from the meeting at query time;
    the passages shown are cut from the original texts, never from here.
    """

    __tablename__ = "search_block"

    #: day << 34 | meeting_id << 3 | code (see block_id): assigned by the indexer.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    code: Mapped[int] = mapped_column(SmallInteger)  #: CODE_TOPIC … CODE_MINUTES
    #: The texts, NFKC-normalized and lower-cased, one per line (a term never spans two of them).
    #: (The 1- and 2-character grams of the text, for 预算 or Q3, are not stored here: SQLite derives them
    #: in a view, PostgreSQL keeps them in search_block_gram; see archive.backends.)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveEntry(db.Model):
    """A meeting's place in the archive: the topic it is filed under (会议主题-日期)."""

    __tablename__ = "archive_entry"
    __table_args__ = (Index("ix_archive_entry_topic_key", "topic_key"),
                      Index("ix_archive_entry_restricted", "restricted"))

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    #: Normalized topic without dates and ordinals, or the series: meetings sharing it form one topic page.
    topic_key: Mapped[str] = mapped_column(String(200))
    #: Confidential or cancelled: a meeting that some people may not find. Search checks these few
    #: against the permission rule instead of checking every match.
    restricted: Mapped[bool] = mapped_column(default=False)


backends.attach_ddl(SearchBlock.__table__)  # the full-text indexes are created with the table
