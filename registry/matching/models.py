import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.types import UTCDateTime, utcnow
from registry.extensions import db

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
