"""chat_calendar_event: the meeting's event in the chat platform's calendar

Revision ID: fe5c66cf82b1
Revises: b7c2d4e6f813
Create Date: 2026-12-06 02:47:50.854713

"""
from alembic import op
import sqlalchemy as sa

import minutes.dbtypes


# revision identifiers, used by Alembic.
revision = 'fe5c66cf82b1'
down_revision = 'b7c2d4e6f813'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat_calendar_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('vendor_event_id', sa.String(length=200), nullable=True),
    sa.Column('owner', sa.String(length=255), nullable=False),
    sa.Column('attendees', sa.Text(), nullable=False),
    sa.Column('synced_message_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', minutes.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', minutes.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', minutes.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id')
    )


def downgrade():
    op.drop_table('chat_calendar_event')
