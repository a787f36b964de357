"""Indexes for the shortlist query: the available registrations by occupation (on PostgreSQL with every column
the query reads), those with other occupations, and removed people (registry/recruitment/indexes.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

AVAILABLE = "deleted_at IS NULL AND status IN ('registered', 'referred')"
WITH_OTHERS = f"{AVAILABLE} AND CAST(other_occupation_codes AS VARCHAR) <> '[]'"
READ = ['id', 'person_id', 'registered_on', 'registration_number', 'occupation_code', 'destination_country',
        'destination_subdivision', 'skills', 'certificates', 'years_experience', 'other_occupation_codes']


def upgrade():
    # Plain CREATE INDEX: on SQLite an index needs no copy of its table.
    op.create_index('ix_registration_shortlist', 'registration', ['occupation_code'], unique=False,
                    postgresql_include=[c for c in READ if c != 'occupation_code'],
                    postgresql_where=sa.text(AVAILABLE), sqlite_where=sa.text(AVAILABLE))
    op.create_index('ix_registration_shortlist_others', 'registration', ['id'], unique=False,
                    postgresql_include=[c for c in READ if c != 'id'],
                    postgresql_where=sa.text(WITH_OTHERS), sqlite_where=sa.text(WITH_OTHERS))
    op.create_index('ix_person_removed', 'person', ['id'], unique=False,
                    postgresql_where=sa.text('deleted_at IS NOT NULL'), sqlite_where=sa.text('deleted_at IS NOT NULL'))


def downgrade():
    for table, name in (('person', 'ix_person_removed'), ('registration', 'ix_registration_shortlist_others'),
                        ('registration', 'ix_registration_shortlist')):
        op.drop_index(name, table_name=table)
