"""search: the grams of each block move from search_block.grams to a narrow table (PostgreSQL)

A frequent word (预算) matches 85,000 blocks, and PostgreSQL visits each matching row for its id.
With the grams in search_block those rows were ~900 bytes (34,000 pages at 100,000 meetings);
search_block_gram (id, grams) stores the grams out of line, so its rows are ~60 bytes and the
same ids come from ~4,000 pages. Every array ends with a 2,100-character padding element: TOAST
moves values out of line only from rows wider than 2 kB. SQLite never used the column (its grams
come from a view) and only loses it.

Revision ID: 5d2e8f41c6b9
Revises: 7e4b2c8d1a05
Create Date: 2026-12-03 14:30:00
"""
from alembic import op

revision = "5d2e8f41c6b9"
down_revision = "7e4b2c8d1a05"
branch_labels = None
depends_on = None

def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.execute("ALTER TABLE search_block DROP COLUMN grams")
        return
    # A database created at this revision already has the table: the first migration runs the models' DDL.
    if bind.exec_driver_sql("SELECT to_regclass('search_block_gram')").scalar() is None:
        op.execute("DROP INDEX IF EXISTS ix_search_block_grams")
        op.execute("""CREATE TABLE search_block_gram (
  id bigint PRIMARY KEY REFERENCES search_block (id) ON DELETE CASCADE,
  grams text[] NOT NULL
) WITH (toast_tuple_target = 128)""")
        # the last element is archive.backends.GRAM_PADDING
        op.execute("INSERT INTO search_block_gram (id, grams) "
                   "SELECT id, grams || ARRAY[repeat('~', 2100)] FROM search_block WHERE grams IS NOT NULL")
        op.execute("CREATE INDEX ix_search_block_grams ON search_block_gram USING gin (grams)")
    op.execute("ALTER TABLE search_block DROP COLUMN IF EXISTS grams")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.execute("ALTER TABLE search_block ADD COLUMN grams TEXT")
        return
    op.execute("ALTER TABLE search_block ADD COLUMN grams text[]")
    op.execute("UPDATE search_block b SET grams = g.grams[1:array_length(g.grams, 1) - 1] "
               "FROM search_block_gram g WHERE g.id = b.id")
    op.execute("DROP TABLE search_block_gram")
    op.execute("CREATE INDEX ix_search_block_grams ON search_block USING gin (grams)")
