"""Recruitment: agencies, selection steps; employers' sector and verification; job-order terms of vacancies

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('licence_number', sa.String(length=64), nullable=False),
    sa.Column('licence_valid_from', sa.Date(), nullable=False),
    sa.Column('licence_valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('subdivision', sa.String(length=6), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=160), nullable=True),
    sa.Column('contact_name', sa.String(length=160), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_office', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('licence_valid_until >= licence_valid_from', name=op.f('ck_agency_licence_dates_in_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency'))
    )
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.create_index('ix_agency_licence_number', ['licence_number'], unique=False)
        batch_op.create_index('ix_agency_name', ['name'], unique=False)

    op.create_table('selection_step',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=12), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('done_by', sa.String(length=64), nullable=False),
    sa.Column('office_code', sa.String(length=8), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_office', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_selection_step_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selection_step')),
    sa.UniqueConstraint('referral_id', 'step', name='uq_selection_step_referral_step')
    )
    with op.batch_alter_table('selection_step', schema=None) as batch_op:
        batch_op.create_index('ix_selection_step_referral_id', ['referral_id'], unique=False)

    with op.batch_alter_table('employer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sector', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('verified_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('verified_by', sa.String(length=64), nullable=True))

    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('skills_required', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('certificates_required', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('season', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('duration_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('housing_provided', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('transport_provided', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('provisions_note', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('worker_fee_amount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('worker_fee_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('vetting_checklist', sa.JSON(), nullable=True))
        batch_op.create_index('ix_vacancy_agency_id', ['agency_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_vacancy_agency_id_agency'), 'agency', ['agency_id'], ['id'])
    # The defaults were for the rows already stored (no housing or transport recorded); the models set them.
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.alter_column('housing_provided', server_default=None)
        batch_op.alter_column('transport_provided', server_default=None)


def downgrade():
    # Before this revision a vacancy was open or closed: a draft job order is not offered, so it is closed.
    op.execute("UPDATE vacancy SET status = 'closed' WHERE status = 'draft'")
    with op.batch_alter_table('vacancy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vacancy_agency_id_agency'), type_='foreignkey')
        batch_op.drop_index('ix_vacancy_agency_id')
        batch_op.drop_column('vetting_checklist')
        batch_op.drop_column('worker_fee_currency')
        batch_op.drop_column('worker_fee_amount')
        batch_op.drop_column('provisions_note')
        batch_op.drop_column('transport_provided')
        batch_op.drop_column('housing_provided')
        batch_op.drop_column('duration_months')
        batch_op.drop_column('season')
        batch_op.drop_column('certificates_required')
        batch_op.drop_column('skills_required')
        batch_op.drop_column('agency_id')

    with op.batch_alter_table('employer', schema=None) as batch_op:
        batch_op.drop_column('verified_by')
        batch_op.drop_column('verified_on')
        batch_op.drop_column('sector')

    with op.batch_alter_table('selection_step', schema=None) as batch_op:
        batch_op.drop_index('ix_selection_step_referral_id')

    op.drop_table('selection_step')
    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_index('ix_agency_name')
        batch_op.drop_index('ix_agency_licence_number')

    op.drop_table('agency')
