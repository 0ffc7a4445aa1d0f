"""login_counter, login_address: login throttling shared by every worker and host

Failed logins are counted in the database (per account and address, per account, per address) instead
of in each process's memory; the addresses a user logged in from let the user pass the account's back-off.

Revision ID: 35e687977a03
Revises: 9b3f6d2a7c41
Create Date: 2026-12-04 14:28:55
"""
import sqlalchemy as sa
from alembic import op

import minutes.dbtypes

revision = "35e687977a03"
down_revision = "9b3f6d2a7c41"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_counter",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", minutes.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", minutes.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_login_counter_expires_at", "login_counter", ["expires_at"], unique=False)
    op.create_table(
        "login_address",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("last_login_at", minutes.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "address"),
    )


def downgrade():
    op.drop_table("login_address")
    op.drop_index("ix_login_counter_expires_at", table_name="login_counter")
    op.drop_table("login_counter")
