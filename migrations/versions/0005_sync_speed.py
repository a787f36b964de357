"""Sync speed: central's feed remembers which office pushed each entry as sent; offices remember how far
central has acknowledged their outbox, so a pull need not send an office its own changes back

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_office', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('source_seq', sa.Integer(), nullable=True))

    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_through', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.drop_column('acknowledged_through')

    with op.batch_alter_table('sync_outbox', schema=None) as batch_op:
        batch_op.drop_column('source_seq')
        batch_op.drop_column('source_office')
