"""Indexes for the shortlist query (registry/recruitment/shortlist_query.py) on tables other domains own,
declared beside their one reader; registry/models.py imports this module with the models, so that Alembic
and the migration tests see them (migration 0013).

The registrations a shortlist considers are the available ones of an ISCO-08 sub-major group: at a million
registrations a common group is a third of the table. On PostgreSQL the first index carries every column the
query reads, so the group's range is read from the index alone (about a fifth of the time a scan of the table
takes). The second holds the few registrations with other occupations, the third the removed people, so that
neither needs a scan of its table."""
from sqlalchemy import Index, text

from registry.people.models import Person
from registry.registration.models import Registration

AVAILABLE = "deleted_at IS NULL AND status IN ('registered', 'referred')"
WITH_OTHERS = f"{AVAILABLE} AND CAST(other_occupation_codes AS VARCHAR) <> '[]'"
READ = ("id", "person_id", "registered_on", "registration_number", "occupation_code", "destination_country",
        "destination_subdivision", "skills", "certificates", "years_experience", "other_occupation_codes")

REGISTRATION_SHORTLIST = Index(
    "ix_registration_shortlist", Registration.__table__.c.occupation_code,
    postgresql_include=[name for name in READ if name != "occupation_code"],
    postgresql_where=text(AVAILABLE), sqlite_where=text(AVAILABLE))
REGISTRATION_SHORTLIST_OTHERS = Index(
    "ix_registration_shortlist_others", Registration.__table__.c.id,
    postgresql_include=[name for name in READ if name != "id"],
    postgresql_where=text(WITH_OTHERS), sqlite_where=text(WITH_OTHERS))
PERSON_REMOVED = Index("ix_person_removed", Person.__table__.c.id, postgresql_where=text("deleted_at IS NOT NULL"),
                       sqlite_where=text("deleted_at IS NOT NULL"))
