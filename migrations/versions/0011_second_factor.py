"""Second factor: users may need an authenticator-app code to log in (secrets kept at head office only)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_required', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table(
        'user_second_factor',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_step', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_second_factor_user_id_app_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_second_factor')),
    )


def downgrade():
    op.drop_table('user_second_factor')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('second_factor_required')
