"""participant: index (user_id, meeting_id) in place of (user_id)

The meetings a person is invited to are read from the index alone (visible_filter: every list
and every search).

Revision ID: 3c1f0a9d2b7e
Revises: 8531315523fe
Create Date: 2026-12-03 08:15:00
"""
from alembic import op

revision = "3c1f0a9d2b7e"
down_revision = "8531315523fe"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index("ix_participant_user_meeting", ["user_id", "meeting_id"], unique=False)
        batch_op.drop_index("ix_participant_user_id")


def downgrade():
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index("ix_participant_user_id", ["user_id"], unique=False)
        batch_op.drop_index("ix_participant_user_meeting")
