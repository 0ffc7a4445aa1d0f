"""Column types shared by the domains' models."""
import enum
from typing import TYPE_CHECKING
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, insert
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from minutes.core.timefmt import utcnow as clock_now
from minutes.extensions import db

if TYPE_CHECKING:  # the user model, for the annotations only: dbtypes sits below every domain
    from minutes.people.models import User


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and always hand back aware UTC values (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Default for created_at columns (the real clock, not the frozen one)."""
    return clock_now()


class RecordedEntry:
    """What points, decisions and actions recorded in a meeting share: who wrote and changed them and when, a soft
    delete (a removed entry stays for the audit trail but is shown nowhere), a version that refuses stale edits,
    and the entry form's one-time token. Each model keeps its own unique index on (meeting_id, submission)."""

    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Bumped on every change; an edit based on an older version is refused (StaleEdit).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The entry form's one-time token: the same form sent again (a retry after a timeout) finds what it
    #: saved the first time instead of saving it twice. None for what did not come from the room's forms.
    submission: Mapped[str | None] = mapped_column(String(32))

    @declared_attr
    def created_by(cls) -> Mapped["User"]:
        return relationship("User", foreign_keys=[cls.created_by_id])

    @declared_attr
    def updated_by(cls) -> Mapped["User | None"]:
        return relationship("User", foreign_keys=[cls.updated_by_id])

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def str_enum(enum_cls, length: int = 20):
    """A portable column type storing a StrEnum's values (not names) as VARCHAR."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """A user-supplied row id (text or number) as an int; None when it is no plausible id.

    Only ASCII digits ("²" is a digit to `str.isdigit` but not to `int`), and no more than the database's
    integer holds (a larger number makes the SQLite driver raise).
    """
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None
    return int(text)


def get_by_id(model, value):
    """Load a row by a user-supplied id; anything that is not a plausible id is simply absent."""
    row_id = parse_id(value)
    return None if row_id is None else db.session.get(model, row_id)


#: Objects that DDL listeners create beside the mapped tables (search indexes); Alembic leaves them alone.
UNMAPPED_PREFIXES = ("search_fts", "search_gram", "ix_search_document_grams", "ix_search_document_trgm",
                     "ix_search_block_grams", "ix_search_block_trgm", "search_block_fts", "search_block_gram")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: ignore reflected objects that the models' DDL made, not the models."""
    return not (reflected and compare_to is None and name and name.startswith(UNMAPPED_PREFIXES))


#: A credential's last use (API token, calendar feed URL) is written at most this often: a burst of reads writes once.
USE_RECORD_INTERVAL = timedelta(minutes=1)


def use_record_due(last_used_at: datetime | None) -> bool:
    """True when a credential's last use is older than USE_RECORD_INTERVAL (or was never written)."""
    return last_used_at is None or utcnow() - last_used_at >= USE_RECORD_INTERVAL


def record_use(model, row_id: int) -> None:
    """Set `model` row's last_used_at to now, unless another request did within the interval (one UPDATE)."""
    from sqlalchemy import or_, update

    now = utcnow()
    db.session.execute(update(model).where(
        model.id == row_id, or_(model.last_used_at.is_(None), model.last_used_at <= now - USE_RECORD_INTERVAL))
        .values(last_used_at=now).execution_options(synchronize_session=False))


def insert_many(table, rows: list[dict]) -> None:
    """Insert many rows of a Core table fast in the session's transaction: COPY on PostgreSQL (its executemany
    is a statement per row, and big multi-row INSERTs cost psycopg more to parse than to run), executemany on
    SQLite (native and quick). Every row has the keys of the first."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f'COPY {table.name} ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([value.value if isinstance(value, enum.Enum) else value
                                for value in (row[column] for column in columns)])
