"""meeting.calendar_sequence, outbox_message.calendar

The agenda e-mail carries a calendar invitation; a change of time or place after it sends an update with
the next SEQUENCE, kept on the meeting. An outbox e-mail keeps the invitation it carries.

Revision ID: e5a1c7d39f20
Revises: dbebd1483a72
Create Date: 2026-12-04 18:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e5a1c7d39f20"
down_revision = 'dbebd1483a72'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("meeting", sa.Column("calendar_sequence", sa.Integer(), server_default="0", nullable=False))
    op.add_column("outbox_message", sa.Column("calendar", sa.Text(), nullable=True))


def downgrade():
    # plain DROP COLUMN (SQLite 3.35+), as 9b3e6d1f4a27 does: a batch copy of `meeting` cannot drop the table
    # its search triggers and foreign keys point at
    op.drop_column("outbox_message", "calendar")
    op.drop_column("meeting", "calendar_sequence")
