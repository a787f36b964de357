"""Services, employers and their vacancies (the targets of referrals), and referrals. All four sync both
ways: supervisors manage targets at any office or at head office, and every office sees every target and
every referral, so a vacancy's places are counted across the network."""
import uuid
from datetime import date

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.models import SyncMixin
from registry.extensions import db

SERVICE_KINDS = {
    "orientation": "Pre-departure orientation",
    "medical": "Medical examination",
    "passport": "Passport office",
    "counselling": "Counselling",
    "trafficking": "Support for a victim of trafficking",
    # Help for a worker back from abroad: work or training at home, savings, psychosocial support (issue 8).
    "reintegration": "Reintegration support for a returned worker",
}
TARGET_KINDS = {**SERVICE_KINDS, "vacancy": "Vacancy"}

REFERRAL_STATUSES = {
    "issued": "Issued",
    "attended": "Attended",
    "placed": "Placed",
    "declined": "Declined",
    "no_show": "Did not attend",
    "cancelled": "Cancelled",
}
# Which outcome may follow which. "Attended" ends a referral to a service; a vacancy's interview can still
# end in a placement or a refusal. Placing is for vacancies only (services.record_outcome checks).
REFERRAL_TRANSITIONS = {
    "issued": ("attended", "placed", "declined", "no_show", "cancelled"),
    "attended": ("placed", "declined", "cancelled"),
    "placed": ("cancelled",),  # the placement fell through before departure
    "declined": (),
    "no_show": (),
    "cancelled": (),
}
OPEN_STATUSES = ("issued", "attended")

WAGE_PERIODS = {"hour": "an hour", "day": "a day", "week": "a week", "month": "a month"}
# A draft is not offered to anyone: a job order stays a draft while it breaks a fair-recruitment rule
# (registry.recruitment.orders.publish_blockers).
VACANCY_STATUSES = {"draft": "Draft", "open": "Open", "closed": "Closed"}


def wage_text(vacancy):
    """'ZAR 4,500 a month', or a dash when the vacancy names no wage."""
    if not vacancy.wage_amount:
        return "—"
    return f"{vacancy.wage_currency} {vacancy.wage_amount:,} {WAGE_PERIODS.get(vacancy.wage_period, '')}".strip()


class Service(SyncMixin, db.Model):
    """A place a migrant is sent to for a service: an orientation course, a clinic, a passport office."""

    __tablename__ = "referral_service"
    __table_args__ = (Index("ix_referral_service_kind", "kind"),)

    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # SERVICE_KINDS
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    subdivision: Mapped[str | None] = mapped_column(String(6))  # ISO 3166-2
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    hours: Mapped[str | None] = mapped_column(String(160))
    what_to_bring: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return f"<Service {self.kind} {self.name}>"


class Employer(SyncMixin, db.Model):
    """Someone recruiting migrant workers through the labour offices: a farm, a mine, a household."""

    __tablename__ = "employer"
    __table_args__ = (Index("ix_employer_name", "name"),)

    name: Mapped[str] = mapped_column(String(160), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    subdivision: Mapped[str | None] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(160))
    contact_name: Mapped[str | None] = mapped_column(String(160))
    registration_number: Mapped[str | None] = mapped_column(String(64))  # company or licence number
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sector: Mapped[str | None] = mapped_column(String(1))  # ISIC Rev.4 section A-U
    # Who at the labour office checked the employer exists and recruits lawfully, and when.
    verified_on: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(64))

    vacancies = relationship("Vacancy", back_populates="employer", order_by="Vacancy.starts_on.desc()")

    @property
    def verified(self):
        return self.verified_on is not None

    def __repr__(self):
        return f"<Employer {self.name}>"


class Vacancy(SyncMixin, db.Model):
    """Work an employer offers: where, which occupation, how many workers, for how long, at what wage."""

    __tablename__ = "vacancy"
    __table_args__ = (
        Index("ix_vacancy_employer_id", "employer_id"),
        Index("ix_vacancy_status", "status"),
        Index("ix_vacancy_agency_id", "agency_id"),
        CheckConstraint("places > 0", name="places_positive"),
    )

    employer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("employer.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(160), nullable=False)
    occupation_code: Mapped[str] = mapped_column(String(4), nullable=False)  # ISCO-08 unit group
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    subdivision: Mapped[str | None] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(255))  # where the person reports, if not the employer's
    places: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)  # last day to refer candidates
    wage_amount: Mapped[int | None] = mapped_column(Integer)  # whole units of wage_currency
    wage_currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217
    wage_period: Mapped[str | None] = mapped_column(String(8))  # WAGE_PERIODS
    contract_vetted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    vetted_on: Mapped[date | None] = mapped_column(Date)
    vetted_by: Mapped[str | None] = mapped_column(String(64))
    what_to_bring: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")  # VACANCY_STATUSES
    # Recruitment terms of the job order (issue 8; docs/recruitment.md).
    agency_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("agency.id"))  # recruiting for it
    skills_required: Mapped[str | None] = mapped_column(String(500))  # comma-separated
    certificates_required: Mapped[str | None] = mapped_column(String(500))  # comma-separated
    season: Mapped[str | None] = mapped_column(String(80))  # e.g. "Citrus harvest 2026"
    duration_months: Mapped[int | None] = mapped_column(Integer)  # when the end date is not yet known
    housing_provided: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    transport_provided: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    provisions_note: Mapped[str | None] = mapped_column(String(255))  # what housing and transport are
    # Any recruitment fee charged to the worker; a job order that charges one is never published (ILO C181
    # Art. 7; General principles and operational guidelines for fair recruitment, principle 7).
    worker_fee_amount: Mapped[int | None] = mapped_column(Integer)
    worker_fee_currency: Mapped[str | None] = mapped_column(String(3))
    # The contract-vetting checklist: {point: true|false} (registry.recruitment.vetting.CHECKLIST); null
    # until vetted. contract_vetted is true when every point passed; vetted_on and vetted_by say when and who.
    vetting_checklist: Mapped[dict | None] = mapped_column(JSON)

    employer = relationship("Employer", back_populates="vacancies")
    agency = relationship("Agency")

    def __repr__(self):
        return f"<Vacancy {self.title} ({self.places})>"


class Referral(SyncMixin, db.Model):
    """A registration sent to one service or one vacancy, by the registration's office, and what came of it."""

    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("registration_id", "sequence", name="uq_referral_registration_sequence"),
        Index("ix_referral_office_status", "office_code", "status"),
        Index("ix_referral_vacancy_id", "vacancy_id"),
        Index("ix_referral_service_id", "service_id"),
        CheckConstraint("(service_id IS NULL) <> (vacancy_id IS NULL)", name="one_target"),
    )

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("registration.id"), nullable=False)
    registration_number: Mapped[str] = mapped_column(String(24), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ... within the registration
    office_code: Mapped[str] = mapped_column(String(8), ForeignKey("office.code"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # TARGET_KINDS
    service_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("referral_service.id"))
    vacancy_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("vacancy.id"))
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)
    due_by: Mapped[date] = mapped_column(Date, nullable=False)  # attend by this day
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="issued")  # REFERRAL_STATUSES
    outcome_on: Mapped[date | None] = mapped_column(Date)
    outcome_by: Mapped[str | None] = mapped_column(String(64))
    outcome_note: Mapped[str | None] = mapped_column(String(500))

    # Declared so a flush that inserts them together (central applying a batch) writes parents first.
    registration = relationship("Registration")
    service = relationship("Service")
    vacancy = relationship("Vacancy")

    @property
    def reference(self):
        """What the slip prints and people quote: `BBR-2026-000123-K/R2`."""
        return f"{self.registration_number}/R{self.sequence}"

    @property
    def target(self):
        return self.service if self.service_id else self.vacancy

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def __repr__(self):
        return f"<Referral {self.reference} {self.kind} {self.status}>"
