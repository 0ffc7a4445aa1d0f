"""api_token: read_only

A token may be issued read-only: it answers GET, HEAD and OPTIONS and is refused everything else.
Existing tokens stay read-write.

Revision ID: 9b3f6d2a7c41
Revises: 5d2e8f41c6b9
Create Date: 2026-12-04 14:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "9b3f6d2a7c41"
down_revision = "5d2e8f41c6b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_only", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("read_only")
