"""transcripts: suggestions from the company's own model (their origin) and the model's draft summary

Revision ID: 5e1d7c0a9b42
Revises: 267c3bf15c26
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d7c0a9b42'
down_revision = '267c3bf15c26'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_summary', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('transcript_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.Enum('rules', 'model', name='suggestionorigin', native_enum=False,
                                                        create_constraint=False, length=10),
                                      server_default='rules', nullable=False))


def downgrade():
    with op.batch_alter_table('transcript_suggestion', schema=None) as batch_op:
        batch_op.drop_column('origin')
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_column('model_summary')
