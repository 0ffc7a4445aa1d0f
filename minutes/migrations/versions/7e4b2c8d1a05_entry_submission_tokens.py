"""point, decision, action_item: the entry form's one-time submission token

A form the recorder sends again after a timeout finds what it already saved instead of saving
it twice: one row per meeting and token (NULL for rows that came from elsewhere).

Revision ID: 7e4b2c8d1a05
Revises: 3c1f0a9d2b7e
Create Date: 2026-12-03 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "7e4b2c8d1a05"
down_revision = "3c1f0a9d2b7e"
branch_labels = None
depends_on = None

TABLES = ("point", "decision", "action_item")


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("submission", sa.String(length=32), nullable=True))
        op.create_index(f"uq_{table}_submission", table, ["meeting_id", "submission"], unique=True)


def downgrade():
    for table in TABLES:
        op.drop_index(f"uq_{table}_submission", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("submission")
