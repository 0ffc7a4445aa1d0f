"""agenda_item: carried_to_meeting_id

An undiscussed agenda item records the meeting it was carried to after the meeting ended, so carrying
it again (a second click, a second person, a resubmitted form) finds that meeting instead of planning
another one.

Revision ID: c4a7e1f09b32
Revises: 9b3e6d1f4a27
Create Date: 2026-12-04 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c4a7e1f09b32"
down_revision = "9b3e6d1f4a27"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_to_meeting_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_agenda_item_carried_to_meeting_id_meeting", "meeting",
                                    ["carried_to_meeting_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_constraint("fk_agenda_item_carried_to_meeting_id_meeting", type_="foreignkey")
        batch_op.drop_column("carried_to_meeting_id")
