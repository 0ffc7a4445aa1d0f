"""meeting: planned_starts_at, planned_ends_at — a started meeting's time is its actual time

When a meeting starts, starts_at/ends_at become the actual start (and, once it ends, the actual end) and the
plan is kept in the new columns. Meetings already started get the same: their room's started_at/ended_at.

Revision ID: 9b3e6d1f4a27
Revises: 35e687977a03
Create Date: 2026-12-04 15:00:00
"""
import sqlalchemy as sa
from alembic import op

from minutes.dbtypes import UTCDateTime

revision = "9b3e6d1f4a27"
down_revision = "35e687977a03"
branch_labels = None
depends_on = None

meeting = sa.table("meeting", sa.column("id", sa.Integer), sa.column("starts_at", UTCDateTime(timezone=True)),
                   sa.column("ends_at", UTCDateTime(timezone=True)),
                   sa.column("planned_starts_at", UTCDateTime(timezone=True)),
                   sa.column("planned_ends_at", UTCDateTime(timezone=True)))
room = sa.table("room_state", sa.column("meeting_id", sa.Integer), sa.column("started_at", UTCDateTime(timezone=True)),
                sa.column("ended_at", UTCDateTime(timezone=True)))


def upgrade():
    op.add_column("meeting", sa.Column("planned_starts_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("meeting", sa.Column("planned_ends_at", UTCDateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(meeting.c.id, meeting.c.starts_at, meeting.c.ends_at, room.c.started_at,
                                  room.c.ended_at).join(room, room.c.meeting_id == meeting.c.id)).all()
    for meeting_id, starts_at, ends_at, started_at, ended_at in rows:
        conn.execute(sa.update(meeting).where(meeting.c.id == meeting_id).values(
            planned_starts_at=starts_at, planned_ends_at=ends_at, starts_at=started_at,
            ends_at=ended_at or started_at + (ends_at - starts_at)))


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.update(meeting).where(meeting.c.planned_starts_at.is_not(None)).values(
        starts_at=meeting.c.planned_starts_at, ends_at=meeting.c.planned_ends_at))
    # not batch_alter_table: recreating `meeting` (which so much refers to) fails on SQLite; both dialects drop a
    # column in place (SQLite since 3.35)
    op.drop_column("meeting", "planned_ends_at")
    op.drop_column("meeting", "planned_starts_at")
