import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.models import SyncMixin
from registry.core.types import UTCDateTime
from registry.extensions import db

SEXES = {"F": "Female", "M": "Male"}


class Person(SyncMixin, db.Model):
    """A would-be migrant worker's identity. One person may have many registrations over the years."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_national_id", "national_id"),
        Index("ix_person_passport_number", "passport_number"),
        Index("ix_person_surname_key_dob", "surname_key", "date_of_birth"),
        Index("ix_person_date_of_birth", "date_of_birth"),
        Index("ix_person_same_as_id", "same_as_id"),
        Index("ix_person_surname_given", "surname_key", "given_names_key"),
    )

    surname: Mapped[str] = mapped_column(String(80), nullable=False)
    given_names: Mapped[str] = mapped_column(String(80), nullable=False)
    # Folded forms for search: upper-case ASCII, no punctuation (registry.people.names.name_key).
    surname_key: Mapped[str] = mapped_column(String(80), nullable=False)
    given_names_key: Mapped[str] = mapped_column(String(80), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    date_of_birth: Mapped[date] = mapped_column(Date, nullable=False)
    citizenship: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    national_id: Mapped[str | None] = mapped_column(String(20))  # compact form, no separators
    national_id_country: Mapped[str | None] = mapped_column(String(2))
    passport_number: Mapped[str | None] = mapped_column(String(12))
    passport_country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    home_subdivision: Mapped[str | None] = mapped_column(String(6))  # ISO 3166-2, e.g. ZW-MV
    home_district: Mapped[str | None] = mapped_column(String(80))
    languages: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # ISO 639-3 codes
    education_level: Mapped[str | None] = mapped_column(String(1))  # ISCED 2011 level, 9 = not classified
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    consent_recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    # Set when head office links two records as one person: this record is the same as that one.
    same_as_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("person.id"))

    registrations = relationship("Registration", back_populates="person", order_by="Registration.registered_on.desc()")

    @property
    def full_name(self):
        return f"{self.given_names} {self.surname}"

    def __repr__(self):
        return f"<Person {self.id} {self.surname_key}>"
