"""Full-text search over `search_block`, one interface for two databases.

Every query term must occur in a block as a substring (the characters in their order). Terms of
three or more characters use a trigram index; one- and two-character terms (预算, 投诉, Q3) cannot,
so they use a second index of the 1- and 2-character grams of each block:

SQLite  `search_fts`: FTS5 with the trigram tokenizer over search_block.text (a phrase of
        consecutive trigrams is exactly a substring); `search_gram`: FTS5, detail=none, over the
        distinct grams of the text (the view `search_block_grams`, through the SQL function
        search_grams, registered on every connection). Both are external-content tables kept in
        step by triggers on search_block, so they change in the same transaction as the blocks.
PostgreSQL  pg_trgm GIN index on search_block.text (LIKE '%term%' uses it), and a GIN index on the
        grams of each block, kept in their own narrow table `search_block_gram` (id, grams), written
        with the text (`@> ARRAY['预算']`: exact, no recheck). A frequent word matches 85,000 blocks,
        and PostgreSQL visits each one's row for its id: in search_block (text and grams, 500 MB at
        100,000 meetings) that is 34,000 pages; search_block_gram keeps its rows to ~60 bytes by
        storing the grams out of line (TOAST), so the same 85,000 ids come from 4,000 pages (33 MB).
        TOAST only moves values out of rows wider than 2 kB, so every array ends with GRAM_PADDING
        (a 2,100-character element, never a query gram, compressed to almost nothing).

The text is stored folded (NFKC, lower case), and so is every term: matching is a plain,
case-sensitive substring test on both databases. `SQL` holds the exact statements; the Alembic
migration carries the same ones.
"""
import json
from abc import ABC, abstractmethod

from sqlalchemy import (DDL, BigInteger, Integer, and_, any_, bindparam, column, event, false, func, literal_column, select,
                        table, text, true)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.types import Text as TextType

from minutes.archive.text import ParsedQuery, grams_of_folded

#: FTS5 tables (and their shadow tables) and the view the SQLite indexes add beside the mapped tables.
SQLITE_OBJECTS = ("search_fts", "search_gram", "search_block_grams")
SQLITE_TRIGGERS = ("search_block_ai", "search_block_ad", "search_block_au")
POSTGRESQL_INDEXES = ("ix_search_block_trgm", "ix_search_block_grams")

SQLITE_DDL = [
    "CREATE VIEW IF NOT EXISTS search_block_grams AS SELECT id, search_grams(text) AS grams FROM search_block",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "text, content='search_block', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_gram USING fts5("
    "grams, content='search_block_grams', content_rowid='id', tokenize='unicode61', detail=none)",
    """CREATE TRIGGER IF NOT EXISTS search_block_ai AFTER INSERT ON search_block BEGIN
  INSERT INTO search_fts(rowid, text) VALUES (new.id, new.text);
  INSERT INTO search_gram(rowid, grams) VALUES (new.id, search_grams(new.text));
END""",
    """CREATE TRIGGER IF NOT EXISTS search_block_ad AFTER DELETE ON search_block BEGIN
  INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO search_gram(search_gram, rowid, grams) VALUES ('delete', old.id, search_grams(old.text));
END""",
    """CREATE TRIGGER IF NOT EXISTS search_block_au AFTER UPDATE OF text ON search_block BEGIN
  INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO search_gram(search_gram, rowid, grams) VALUES ('delete', old.id, search_grams(old.text));
  INSERT INTO search_fts(rowid, text) VALUES (new.id, new.text);
  INSERT INTO search_gram(rowid, grams) VALUES (new.id, search_grams(new.text));
END""",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_gram",
    "DROP VIEW IF EXISTS search_block_grams",
]

#: Both GIN indexes are built WITH (fastupdate = off): every POST to the room rewrites its meeting's block, and with
#: fastupdate on the new entries gathered in the index's pending list until one unlucky writer had to merge 4 MB of
#: them inside its request (bench/load.py at 3,100 tabs: POST p95 200-250 ms on PostgreSQL; 90-110 ms with it off).
POSTGRESQL_DDL = [
    # pg_trgm is installed once per database. Put it in public (not in the first schema of the
    # search_path, which may be a per-run test schema that is dropped later) and name the operator
    # class through whatever schema it lives in, so this works whichever schema the tables use.
    """DO $$
DECLARE trgm_schema text;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
  EXCEPTION WHEN unique_violation OR duplicate_object THEN
    NULL;  -- created at the same moment by another connection
  END;
  SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  EXECUTE format('CREATE INDEX IF NOT EXISTS ix_search_block_trgm ON search_block '
                 'USING gin (text %I.gin_trgm_ops) WITH (fastupdate = off)', trgm_schema);
END
$$""",
    # toast_tuple_target=128: a row wider than 2 kB keeps only what fits in 128 bytes, the grams go out of line
    """CREATE TABLE IF NOT EXISTS search_block_gram (
  id bigint PRIMARY KEY REFERENCES search_block (id) ON DELETE CASCADE,
  grams text[] NOT NULL
) WITH (toast_tuple_target = 128)""",
    "CREATE INDEX IF NOT EXISTS ix_search_block_grams ON search_block_gram USING gin (grams) WITH (fastupdate = off)",
]
POSTGRESQL_DROP = ["DROP TABLE IF EXISTS search_block_gram"]  # it refers to search_block

#: The exact SQL for the migration, by dialect (run after creating search_block).
SQL = {"sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}

#: PostgreSQL: the grams of each block (see the module's docstring), and the last element of every array.
GRAMS = table("search_block_gram", column("id", BigInteger), column("grams", ARRAY(TextType)))
GRAM_PADDING = "~" * 2100

def _grams_sql(doc):
    """search_grams() for SQLite: the grams separated by spaces (one unicode61 token each)."""
    return " ".join(grams_of_folded(doc)) if doc is not None else None


#: Bytes of the database file SQLite may read through mmap: a search touches the index and the
#: meetings in scattered pages, which mmap serves without a read() per page (3x faster at 100,000 meetings).
SQLITE_MMAP_BYTES = 1 << 30


@event.listens_for(Engine, "connect")
def _register_sqlite_functions(dbapi_connection, connection_record):
    """Every SQLite connection gets search_grams(), which the index triggers call, and reads through mmap."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("search_grams", 1, _grams_sql, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()


def attach_ddl(table) -> None:
    """Create (and drop) the full-text indexes together with `table`, for create_all and drop_all."""
    for statement in SQLITE_DDL:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRESQL_DDL:
        event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))
    for statement in POSTGRESQL_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="postgresql"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's include_object: leave out what the search indexes add (FTS5 tables, their shadows,
    the expression indexes), which the migration creates with explicit SQL."""
    if type_ == "table" and reflected and compare_to is None:
        return not any(name == base or name.startswith(base + "_") for base in SQLITE_OBJECTS[:2])
    if type_ == "index" and reflected and name in POSTGRESQL_INDEXES:
        return False
    return True


# --- querying --------------------------------------------------------------------------------

def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SearchBackend(ABC):
    """Turns parsed query terms into the ids of matching blocks, and a few dialect details."""

    name = "base"

    @abstractmethod
    def match(self, block, query: ParsedQuery):
        """A WHERE clause on search_block keeping the blocks that contain every term."""

    def hit_ids(self, block, query: ParsedQuery, low: int | None = None, high: int | None = None):
        """A subquery with one column, `id`: the matching blocks with low <= id <= high."""
        condition = self.match(block, query)
        if low is not None:
            condition = and_(condition, block.c.id >= low)
        if high is not None:
            condition = and_(condition, block.c.id <= high)
        return select(block.c.id).where(condition).subquery("hits")

    def among(self, column, ids: list[int]):
        """`column IN (ids)` for a list of integers of any length, sent as one parameter (SQLite allows 32,766
        parameters, PostgreSQL 65,535): the database looks each one up by key."""
        return column.in_(select(literal_column("value")).select_from(
            func.json_each(bindparam("among_ids", json.dumps(ids)))))

    @abstractmethod
    def local_month(self, column, tz_name: str, offset_hours: int):
        """'YYYY-MM' of a UTC datetime column in company-local time."""

    @abstractmethod
    def rebuild(self, connection) -> None:
        """Rebuild the full-text index structures from search_block."""

    @abstractmethod
    def drop_indexes(self, connection) -> None:
        """Remove the full-text indexes (before loading many blocks at once)."""

    def create_indexes(self, connection) -> None:
        """Create the full-text indexes over the blocks there are (after loading them)."""
        for statement in SQL[self.name]:
            connection.execute(DDL(statement.replace("%", "%%")))  # as create_all runs it (no placeholders)


class SqliteBackend(SearchBackend):
    name = "sqlite"

    def match(self, block, query: ParsedQuery):
        return block.c.id.in_(select(self.hit_ids(block, query).c.id))

    def hit_ids(self, block, query: ParsedQuery, low: int | None = None, high: int | None = None):
        # The ids come straight from FTS5 (no row of search_block is read): they carry meeting and kind.
        params, sql = {}, None
        if query.long_terms:
            sql = "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH :fts_long"
            params["fts_long"] = " AND ".join(_fts_phrase(t) for t in query.long_terms)
        if query.short_terms:
            params["fts_short"] = " AND ".join(_fts_phrase(t) for t in query.short_terms)
            if sql:
                sql += " AND rowid IN (SELECT rowid FROM search_gram WHERE search_gram MATCH :fts_short)"
            else:
                sql = "SELECT rowid AS id FROM search_gram WHERE search_gram MATCH :fts_short"
        if sql is None:
            return select(block.c.id).where(false()).subquery("hits")
        if low is not None:
            sql += " AND rowid >= :id_low"
            params["id_low"] = low
        if high is not None:
            sql += " AND rowid <= :id_high"
            params["id_high"] = high
        return text(sql).bindparams(**params).columns(column("id", Integer)).subquery("hits")

    def local_month(self, column, tz_name: str, offset_hours: int):
        return func.strftime("%Y-%m", column, f"{offset_hours:+d} hours")

    def rebuild(self, connection) -> None:
        connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        connection.exec_driver_sql("INSERT INTO search_gram(search_gram) VALUES ('rebuild')")

    def drop_indexes(self, connection) -> None:
        for trigger in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)

    def create_indexes(self, connection) -> None:
        super().create_indexes(connection)
        self.rebuild(connection)  # index the blocks already there, in one pass


class PostgresBackend(SearchBackend):
    name = "postgresql"

    def match(self, block, query: ParsedQuery):
        clauses = [block.c.text.like(_like_pattern(t), escape="\\") for t in query.long_terms]
        if query.short_terms:
            clauses.append(block.c.id.in_(select(GRAMS.c.id).where(self._has_grams(query))))
        return and_(*clauses) if clauses else true()

    def hit_ids(self, block, query: ParsedQuery, low: int | None = None, high: int | None = None):
        if query.long_terms or not query.short_terms:
            return super().hit_ids(block, query, low, high)
        # only short terms: the narrow table alone has the ids (no row of search_block is read)
        condition = self._has_grams(query)
        if low is not None:
            condition = and_(condition, GRAMS.c.id >= low)
        if high is not None:
            condition = and_(condition, GRAMS.c.id <= high)
        return select(GRAMS.c.id).where(condition).subquery("hits")

    @staticmethod
    def _has_grams(query: ParsedQuery):
        return GRAMS.c.grams.op("@>")(bindparam("grams_wanted", list(query.short_terms), type_=ARRAY(TextType)))

    def among(self, column, ids: list[int]):
        return column == any_(bindparam("among_ids", ids, type_=ARRAY(Integer)))

    def local_month(self, column, tz_name: str, offset_hours: int):
        return func.to_char(func.timezone(tz_name, column), "YYYY-MM")

    def rebuild(self, connection) -> None:
        for index in POSTGRESQL_INDEXES:
            connection.exec_driver_sql(f"REINDEX INDEX {index}")

    def drop_indexes(self, connection) -> None:
        for index in POSTGRESQL_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")


def backend_for(dialect_name: str) -> SearchBackend:
    """The search backend for a database dialect."""
    if dialect_name == "postgresql":
        return PostgresBackend()
    if dialect_name == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"全文检索不支持数据库 {dialect_name}")
