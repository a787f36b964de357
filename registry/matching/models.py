import uuid
from datetime import datetime

from sqlalchemy import (
    JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, delete, event, insert, inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.core.types import UTCDateTime, utcnow
from registry.extensions import db
from registry.matching.keys import key_row
from registry.matching.scoring import DECISION_WORDS, decide
from registry.people.models import Person

DECISIONS = {"open": "Waiting", "linked": "Same person", "distinct": "Different people"}


class DuplicateCandidate(db.Model):
    """Central: two person records that may be one person, waiting for an administrator's decision.
    The pair is stored in a fixed order (lower id first) so it is queued once."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("first_person_id", "second_person_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    first_person_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    second_person_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    reason: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    # Set when the pair was found by scoring (registry.matching.scoring): the score and its reasons in words.
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list | None] = mapped_column(JSON)

    @property
    def percent(self):
        return None if self.score is None else round(self.score * 100)

    @property
    def decision_words(self):
        """What the score says, in words; None for a pair not scored."""
        return None if self.score is None else DECISION_WORDS[decide(self.score)]

    @property
    def queued_at_sync(self):
        """Queued when a record arrived at central holding a national ID another record holds (its `reason`
        says which offices), rather than by `flask match scan` (whose `reason` repeats the reasons)."""
        return self.reason.startswith("same national ID")

    def __repr__(self):
        return f"<DuplicateCandidate {self.first_person_id} {self.second_person_id} {self.status} {self.score}>"


class PersonMatchKey(db.Model):
    """Blocking keys of one person (registry.matching.keys): derived from the person row, kept in step with it
    by the flush hook below, never synced. A tombstoned person has no row here."""

    __tablename__ = "person_match_key"
    __table_args__ = (
        Index("ix_person_match_key_surname_born", "surname_code", "birth_key"),
        Index("ix_person_match_key_given_born", "given_code", "birth_key"),
        Index("ix_person_match_key_names_year", "name_codes", "birth_year"),
        Index("ix_person_match_key_names_birthday", "name_codes", "birthday"),
        Index("ix_person_match_key_id_digits", "id_digits"),
        Index("ix_person_match_key_passport", "passport_number"),
        Index("ix_person_match_key_phone", "phone"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    surname_code: Mapped[str] = mapped_column(String(16), nullable=False)
    given_code: Mapped[str] = mapped_column(String(16), nullable=False)
    name_codes: Mapped[str] = mapped_column(String(33), nullable=False)
    birth_key: Mapped[str] = mapped_column(String(8), nullable=False)  # YYYY + day and month, smaller first
    birth_year: Mapped[int] = mapped_column(Integer, nullable=False)
    birthday: Mapped[str] = mapped_column(String(4), nullable=False)  # day and month, smaller first
    id_digits: Mapped[str | None] = mapped_column(String(20))
    passport_number: Mapped[str | None] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(16))

    def __repr__(self):
        return f"<PersonMatchKey {self.person_id} {self.name_codes} {self.birth_key}>"


# The person columns the keys are made from: a change to any other column leaves the keys as they are.
KEYED_ATTRIBUTES = ("surname", "given_names", "date_of_birth", "national_id", "passport_number", "phone", "deleted_at")


def _keys_changed(person):
    state = inspect(person)
    return any(state.attrs[name].history.has_changes() for name in KEYED_ATTRIBUTES)


@event.listens_for(Session, "after_flush")
def _keep_match_keys_in_step(session, flush_context):
    """Every flush that inserts or changes people rewrites their keys in the same transaction, whoever made
    the change: a service, the sync applying another office's rows, or a conflict resolution."""
    new = [obj for obj in session.new if isinstance(obj, Person)]
    changed = [obj for obj in session.dirty if isinstance(obj, Person) and _keys_changed(obj)]
    if not new and not changed:
        return
    table = PersonMatchKey.__table__
    connection = session.connection()
    if changed:
        connection.execute(delete(table).where(table.c.person_id.in_([person.id for person in changed])))
    rows = [row for row in map(key_row, new + changed) if row is not None]
    if rows:
        connection.execute(insert(table), rows)
