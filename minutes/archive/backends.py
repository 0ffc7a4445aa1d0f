"""Full-text search over `search_document`, one interface for two databases.

Every query term must occur in the document as a substring (order kept within a term). Terms of
three or more characters use a trigram index; one- and two-character terms (预算, 投诉, Q3) cannot,
so they use a second index of the 1- and 2-character grams of each document:

SQLite  `search_fts`: FTS5 with the trigram tokenizer over coalesce(norm, body) (a phrase of
        consecutive trigrams is exactly a substring); `search_gram`: FTS5, detail=none, over the
        distinct grams (computed by the SQL function search_grams, registered on every connection).
        Both are external-content tables over the view `search_document_text`, kept in step by
        triggers on search_document, so they change in the same transaction as the documents.
PostgreSQL  pg_trgm GIN index on coalesce(norm, body) (ILIKE '%term%' uses it), and a GIN index on
        the array search_grams(coalesce(norm, body)) (`@> ARRAY['预算']`).

`SQL` below holds the exact statements; the Alembic migration carries the same ones.
"""
from sqlalchemy import DDL, Integer, and_, bindparam, column, event, func, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.types import Text as TextType

from minutes.archive.text import ParsedQuery, grams

#: Names of the objects the indexes add to the database beside the mapped tables.
SQLITE_OBJECTS = ("search_fts", "search_gram", "search_document_text")

SQLITE_DDL = [
    # The text the indexes see: the normalized body, and its grams.
    """CREATE VIEW IF NOT EXISTS search_document_text AS
SELECT id, coalesce(norm, body) AS txt, search_grams(coalesce(norm, body)) AS grams FROM search_document""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
  txt, content='search_document_text', content_rowid='id', tokenize='trigram')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_gram USING fts5(
  grams, content='search_document_text', content_rowid='id', tokenize='unicode61', detail=none)""",
    """CREATE TRIGGER IF NOT EXISTS search_document_ai AFTER INSERT ON search_document BEGIN
  INSERT INTO search_fts(rowid, txt) VALUES (new.id, coalesce(new.norm, new.body));
  INSERT INTO search_gram(rowid, grams) VALUES (new.id, search_grams(coalesce(new.norm, new.body)));
END""",
    """CREATE TRIGGER IF NOT EXISTS search_document_ad AFTER DELETE ON search_document BEGIN
  INSERT INTO search_fts(search_fts, rowid, txt) VALUES ('delete', old.id, coalesce(old.norm, old.body));
  INSERT INTO search_gram(search_gram, rowid, grams)
    VALUES ('delete', old.id, search_grams(coalesce(old.norm, old.body)));
END""",
    """CREATE TRIGGER IF NOT EXISTS search_document_au AFTER UPDATE OF body, norm ON search_document BEGIN
  INSERT INTO search_fts(search_fts, rowid, txt) VALUES ('delete', old.id, coalesce(old.norm, old.body));
  INSERT INTO search_gram(search_gram, rowid, grams)
    VALUES ('delete', old.id, search_grams(coalesce(old.norm, old.body)));
  INSERT INTO search_fts(rowid, txt) VALUES (new.id, coalesce(new.norm, new.body));
  INSERT INTO search_gram(rowid, grams) VALUES (new.id, search_grams(coalesce(new.norm, new.body)));
END""",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_gram",
    "DROP VIEW IF EXISTS search_document_text",
]

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
  EXECUTE format('CREATE INDEX IF NOT EXISTS ix_search_document_trgm ON search_document '
                 'USING gin ((coalesce(norm, body)) %I.gin_trgm_ops)', trgm_schema);
END
$$""",
    """CREATE OR REPLACE FUNCTION search_grams(doc text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
  FROM (SELECT lower(doc) AS t) AS s
  CROSS JOIN LATERAL generate_series(1, char_length(s.t)) AS i
  CROSS JOIN LATERAL (VALUES (substr(s.t, i, 1)), (substr(s.t, i, 2))) AS v(g)
  WHERE g !~ '\\s'
$$""",
    """CREATE INDEX IF NOT EXISTS ix_search_document_grams ON search_document
  USING gin (search_grams(coalesce(norm, body)))""",
]
POSTGRESQL_DROP = ["DROP FUNCTION IF EXISTS search_grams(text)"]

#: The exact SQL for the migration, by dialect.
SQL = {"sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}


def _grams_sql(doc):
    """search_grams() for SQLite: the distinct 1- and 2-character grams, separated by spaces."""
    return " ".join(grams(doc)) if doc is not None else None


@event.listens_for(Engine, "connect")
def _register_sqlite_functions(dbapi_connection, connection_record):
    """Every SQLite connection gets search_grams(), which the index triggers call."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("search_grams", 1, _grams_sql, deterministic=True)


def attach_ddl(table) -> None:
    """Create (and drop) the full-text indexes together with `table`, for create_all and drop_all."""
    for statement in SQLITE_DDL:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRESQL_DDL:
        event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))
    for statement in POSTGRESQL_DROP:
        event.listen(table, "after_drop", DDL(statement).execute_if(dialect="postgresql"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's include_object: ignore what the search indexes add (FTS5 tables and their shadows)."""
    if type_ == "table" and reflected and compare_to is None:
        return not any(name == base or name.startswith(base + "_") for base in SQLITE_OBJECTS[:2])
    if type_ == "index" and reflected and name in ("ix_search_document_trgm", "ix_search_document_grams"):
        return False
    return True


# --- querying --------------------------------------------------------------------------------

def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SearchBackend:
    """Turns parsed query terms into a WHERE clause on search_document, and a few dialect details."""

    name = "base"

    def match(self, document, query: ParsedQuery):
        raise NotImplementedError

    def local_month(self, column, tz_name: str, offset_hours: int):
        """'YYYY-MM' of a UTC datetime column in company-local time."""
        raise NotImplementedError

    def rebuild(self, connection) -> None:
        """Rebuild the full-text index structures from search_document."""

    def index_size(self, connection) -> int | None:
        """Bytes used by the search documents and their indexes, where the database tells."""
        return None


class SqliteBackend(SearchBackend):
    name = "sqlite"

    def match(self, document, query: ParsedQuery):
        clauses = []
        if query.long_terms:
            expr = " AND ".join(_fts_phrase(t) for t in query.long_terms)
            clauses.append(document.c.id.in_(
                text("SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_long")
                .bindparams(fts_long=expr).columns(column("rowid", Integer))))
        if query.short_terms:
            expr = " AND ".join(_fts_phrase(t) for t in query.short_terms)
            clauses.append(document.c.id.in_(
                text("SELECT rowid FROM search_gram WHERE search_gram MATCH :fts_short")
                .bindparams(fts_short=expr).columns(column("rowid", Integer))))
        return and_(*clauses) if clauses else true()

    def local_month(self, column, tz_name: str, offset_hours: int):
        return func.strftime("%Y-%m", column, f"{offset_hours:+d} hours")

    def rebuild(self, connection) -> None:
        connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        connection.exec_driver_sql("INSERT INTO search_gram(search_gram) VALUES ('rebuild')")

    def index_size(self, connection) -> int | None:
        try:
            rows = connection.exec_driver_sql(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search_%' GROUP BY name").all()
        except Exception:  # dbstat is compiled into most builds, not all
            return None
        return int(sum(size for _name, size in rows))


class PostgresBackend(SearchBackend):
    name = "postgresql"

    def match(self, document, query: ParsedQuery):
        indexed = func.coalesce(document.c.norm, document.c.body)
        clauses = [indexed.ilike(_like_pattern(t), escape="\\") for t in query.long_terms]
        if query.short_terms:
            wanted = bindparam("grams_wanted", list(query.short_terms), type_=ARRAY(TextType))
            clauses.append(func.search_grams(indexed, type_=ARRAY(TextType)).op("@>")(wanted))
        return and_(*clauses) if clauses else true()

    def local_month(self, column, tz_name: str, offset_hours: int):
        return func.to_char(func.timezone(tz_name, column), "YYYY-MM")

    def rebuild(self, connection) -> None:
        connection.exec_driver_sql("REINDEX INDEX ix_search_document_trgm")
        connection.exec_driver_sql("REINDEX INDEX ix_search_document_grams")

    def index_size(self, connection) -> int | None:
        return int(connection.exec_driver_sql(
            "SELECT pg_total_relation_size('search_document')").scalar() or 0)


def backend_for(dialect_name: str) -> SearchBackend:
    """The search backend for a database dialect."""
    if dialect_name == "postgresql":
        return PostgresBackend()
    if dialect_name == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"全文检索不支持数据库 {dialect_name}")
