"""search: PostgreSQL's two GIN indexes without the pending list (fastupdate = off)

Every point recorded rewrites its meeting's search block. With fastupdate on, the new index entries gather in
the pending list until one writer has to merge them into the index inside its request: the long tail of the
room's POST under load (bench/load.py, docs/BENCHMARKS.md "Load"). SQLite has no such index.

Revision ID: c3a9e5f1b270
Revises: fe5c66cf82b1
Create Date: 2026-12-06 18:30:00
"""
from alembic import op

revision = "c3a9e5f1b270"
down_revision = "fe5c66cf82b1"
branch_labels = None
depends_on = None

INDEXES = ("ix_search_block_trgm", "ix_search_block_grams")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX IF EXISTS {name} SET (fastupdate = off)")
        # what already waits in the pending list goes into the index now, not in some later request
        op.execute(f"SELECT gin_clean_pending_list(to_regclass('{name}')) WHERE to_regclass('{name}') IS NOT NULL")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"ALTER INDEX IF EXISTS {name} RESET (fastupdate)")
