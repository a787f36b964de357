"""Returns of workers from abroad; complaints against employers and agencies, with their changes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 14:34:16.372756

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint',
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('office_code', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('complainant', sa.String(length=8), nullable=False),
    sa.Column('complainant_name', sa.String(length=160), nullable=True),
    sa.Column('complainant_phone', sa.String(length=20), nullable=True),
    sa.Column('employer_id', sa.Uuid(), nullable=True),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('registration_id', sa.Uuid(), nullable=True),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_changed_on', sa.Date(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_office', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('employer_id IS NOT NULL OR agency_id IS NOT NULL', name=op.f('ck_complaint_against_someone')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_complaint_agency_id_agency')),
    sa.ForeignKeyConstraint(['employer_id'], ['employer.id'], name=op.f('fk_complaint_employer_id_employer')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_complaint_referral_id_referral')),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_complaint_registration_id_registration')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_agency_id', ['agency_id'], unique=False)
        batch_op.create_index('ix_complaint_employer_id', ['employer_id'], unique=False)
        batch_op.create_index('ix_complaint_status', ['status'], unique=False)

    op.create_table('worker_return',
    sa.Column('registration_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('wages_owed_amount', sa.Integer(), nullable=True),
    sa.Column('wages_owed_currency', sa.String(length=3), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('office_code', sa.String(length=8), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_office', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('wages_owed_amount IS NULL OR wages_owed_amount > 0', name=op.f('ck_worker_return_wages_owed_positive')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_worker_return_person_id_person')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_worker_return_referral_id_referral')),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_worker_return_registration_id_registration')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_return')),
    sa.UniqueConstraint('registration_id', name='uq_worker_return_registration_id')
    )
    with op.batch_alter_table('worker_return', schema=None) as batch_op:
        batch_op.create_index('ix_worker_return_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_worker_return_returned_on', ['returned_on'], unique=False)

    op.create_table('complaint_change',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('office_code', sa.String(length=8), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('origin_office', sa.String(length=8), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_change_complaint_id_complaint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_change'))
    )
    with op.batch_alter_table('complaint_change', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_change_complaint_id', ['complaint_id'], unique=False)



def downgrade():
    with op.batch_alter_table('complaint_change', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_change_complaint_id')

    op.drop_table('complaint_change')
    with op.batch_alter_table('worker_return', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_return_returned_on')
        batch_op.drop_index('ix_worker_return_person_id')

    op.drop_table('worker_return')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status')
        batch_op.drop_index('ix_complaint_employer_id')
        batch_op.drop_index('ix_complaint_agency_id')

    op.drop_table('complaint')
