"""Identity matching: blocking keys per person, and the score and reasons of a queued pair

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-24 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from registry.matching.keys import key_row


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000


def upgrade():
    op.create_table('person_match_key',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('surname_code', sa.String(length=16), nullable=False),
    sa.Column('given_code', sa.String(length=16), nullable=False),
    sa.Column('name_codes', sa.String(length=33), nullable=False),
    sa.Column('birth_key', sa.String(length=8), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=False),
    sa.Column('birthday', sa.String(length=4), nullable=False),
    sa.Column('id_digits', sa.String(length=20), nullable=True),
    sa.Column('passport_number', sa.String(length=12), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_match_key_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_match_key'))
    )
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=True))

    # Keys for the people already stored, in batches, before the indexes (one sort per index, not a
    # million index updates).
    _backfill()
    with op.batch_alter_table('person_match_key', schema=None) as batch_op:
        batch_op.create_index('ix_person_match_key_given_born', ['given_code', 'birth_key'], unique=False)
        batch_op.create_index('ix_person_match_key_id_digits', ['id_digits'], unique=False)
        batch_op.create_index('ix_person_match_key_names_birthday', ['name_codes', 'birthday'], unique=False)
        batch_op.create_index('ix_person_match_key_names_year', ['name_codes', 'birth_year'], unique=False)
        batch_op.create_index('ix_person_match_key_passport', ['passport_number'], unique=False)
        batch_op.create_index('ix_person_match_key_phone', ['phone'], unique=False)
        batch_op.create_index('ix_person_match_key_surname_born', ['surname_code', 'birth_key'], unique=False)


def _backfill():
    bind = op.get_bind()
    person = sa.table('person', *(sa.column(name, kind) for name, kind in (
        ('id', sa.Uuid()), ('surname', sa.String()), ('given_names', sa.String()), ('date_of_birth', sa.Date()),
        ('national_id', sa.String()), ('passport_number', sa.String()), ('phone', sa.String()),
        ('deleted_at', sa.DateTime(timezone=True)))))
    keys = sa.table('person_match_key', sa.column('person_id', sa.Uuid()),
                    *(sa.column(name) for name in ('surname_code', 'given_code', 'name_codes', 'birth_key', 'birth_year',
                                                   'birthday', 'id_digits', 'passport_number', 'phone')))
    last = None
    while True:
        query = sa.select(person).where(person.c.deleted_at.is_(None)).order_by(person.c.id).limit(BACKFILL_BATCH)
        if last is not None:
            query = query.where(person.c.id > last)
        rows = [dict(row) for row in bind.execute(query).mappings()]
        if not rows:
            break
        made = [made for made in map(key_row, rows) if made is not None]
        if made:
            bind.execute(keys.insert(), made)
        last = rows[-1]['id']


def downgrade():
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.drop_column('reasons')
        batch_op.drop_column('score')

    with op.batch_alter_table('person_match_key', schema=None) as batch_op:
        batch_op.drop_index('ix_person_match_key_surname_born')
        batch_op.drop_index('ix_person_match_key_phone')
        batch_op.drop_index('ix_person_match_key_passport')
        batch_op.drop_index('ix_person_match_key_names_year')
        batch_op.drop_index('ix_person_match_key_names_birthday')
        batch_op.drop_index('ix_person_match_key_id_digits')
        batch_op.drop_index('ix_person_match_key_given_born')

    op.drop_table('person_match_key')
