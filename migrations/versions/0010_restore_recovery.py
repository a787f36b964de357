"""Restore recovery: an office restored from an old backup remembers from which of its own changes it must
pull central's copies again (its database lost them)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recover_own_after', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_state', schema=None) as batch_op:
        batch_op.drop_column('recover_own_after')
