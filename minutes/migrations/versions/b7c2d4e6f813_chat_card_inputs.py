"""chat card inputs: a card's one-use update code and its wait for a comment; where a sign-off answer came from

Revision ID: b7c2d4e6f813
Revises: 5e1d7c0a9b42
Create Date: 2026-12-06 03:00:00

"""
from alembic import op
import sqlalchemy as sa

import minutes.dbtypes


# revision identifiers, used by Alembic.
revision = 'b7c2d4e6f813'
down_revision = '5e1d7c0a9b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_code', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('awaiting_comment_until', minutes.dbtypes.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_chat_card_awaiting_comment_until'), ['awaiting_comment_until'],
                              unique=False)
    with op.batch_alter_table('minutes_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='web', nullable=False))


def downgrade():
    with op.batch_alter_table('minutes_response', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('chat_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_card_awaiting_comment_until'))
        batch_op.drop_column('awaiting_comment_until')
        batch_op.drop_column('response_code')
