import uuid
from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.models import SyncMixin
from registry.extensions import db

STATUSES = {
    "registered": "Registered",
    "referred": "Referred",
    "departed": "Departed",
    "returned": "Returned",
    "cancelled": "Cancelled",
}
# Which status may follow which. A cancelled registration can be reinstated if it was cancelled in error.
TRANSITIONS = {
    "registered": ("referred", "departed", "cancelled"),
    "referred": ("registered", "departed", "cancelled"),
    # Back to referred: a departure recorded in error, or a placement that fell through before departure.
    "departed": ("returned", "referred"),
    "returned": (),
    "cancelled": ("registered",),
}


class Registration(SyncMixin, db.Model):
    """One migration intention or episode of a person, registered at one office."""

    __tablename__ = "registration"
    __table_args__ = (
        Index("ix_registration_office_registered_on", "office_code", "registered_on"),
        Index("ix_registration_registered_on", "registered_on"),
        Index("ix_registration_person_id", "person_id"),
        Index("ix_registration_destination_country", "destination_country"),
        Index("ix_registration_occupation_code", "occupation_code"),
        Index("ix_registration_status", "status"),
    )

    registration_number: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), ForeignKey("office.code"), nullable=False)
    registered_on: Mapped[date] = mapped_column(Date, nullable=False)
    registered_by: Mapped[str] = mapped_column(String(64), nullable=False)
    destination_country: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    destination_subdivision: Mapped[str | None] = mapped_column(String(6))  # ISO 3166-2, e.g. ZA-LP
    intended_sector: Mapped[str | None] = mapped_column(String(1))  # ISIC Rev.4 section A-U
    occupation_code: Mapped[str] = mapped_column(String(4), nullable=False)  # ISCO-08 unit group
    other_occupation_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    skills: Mapped[str | None] = mapped_column(String(500))
    certificates: Mapped[str | None] = mapped_column(String(500))
    prior_learning_recognised: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    years_experience: Mapped[int | None] = mapped_column(Integer)
    has_job_offer: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    employer_name: Mapped[str | None] = mapped_column(String(160))
    agency_name: Mapped[str | None] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="registered")
    status_changed_on: Mapped[date] = mapped_column(Date, nullable=False)

    person = relationship("Person", back_populates="registrations")

    def __repr__(self):
        return f"<Registration {self.registration_number} {self.status}>"
