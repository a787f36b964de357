"""Recruitment agencies and the selection steps of candidates referred to a job order. Both sync both ways:
agencies are managed at any office or at head office, and a candidate may be interviewed at one office and
cross the border at another, so every office sees every step.

A job order is the `Vacancy` of registry.referrals with its recruitment terms (docs/recruitment.md)."""
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.models import SyncMixin
from registry.extensions import db

AGENCY_STATUSES = {"active": "Active", "suspended": "Suspended", "revoked": "Revoked"}

# The steps of selection, in order, after the referral itself ("referred": the referral's issue date and
# officer). Departure ends the referral in a placement (docs/recruitment.md).
SELECTION_STEPS = {
    "interviewed": "Interviewed",
    "medical": "Medical done",
    "documents": "Documents ready (passport, permit)",
    "contract": "Contract signed",
    "departed": "Departed",
}
STEP_ORDER = tuple(SELECTION_STEPS)


class Agency(SyncMixin, db.Model):
    """A private employment agency recruiting for foreign employers, and its licence (ILO C181 Art. 3)."""

    __tablename__ = "agency"
    __table_args__ = (
        Index("ix_agency_name", "name"),
        Index("ix_agency_licence_number", "licence_number"),
        CheckConstraint("licence_valid_until >= licence_valid_from", name="licence_dates_in_order"),
    )

    name: Mapped[str] = mapped_column(String(160), nullable=False)
    licence_number: Mapped[str] = mapped_column(String(64), nullable=False)
    licence_valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    licence_valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active")  # AGENCY_STATUSES
    country: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    subdivision: Mapped[str | None] = mapped_column(String(6))  # ISO 3166-2
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(160))
    contact_name: Mapped[str | None] = mapped_column(String(160))

    def licence_problem(self, on):
        """Why the licence does not allow recruiting on a day, or None when it does."""
        if self.is_deleted:
            return f"{self.name} was removed"
        licence = f"the licence of {self.name} ({self.licence_number})"
        if self.status in ("suspended", "revoked"):
            return f"{licence} is {self.status}"
        if on > self.licence_valid_until:
            return f"{licence} expired on {self.licence_valid_until.isoformat()}"
        if on < self.licence_valid_from:
            return f"{licence} is valid only from {self.licence_valid_from.isoformat()}"
        return None

    def __repr__(self):
        return f"<Agency {self.name} {self.licence_number} {self.status}>"


class SelectionStep(SyncMixin, db.Model):
    """One step of a candidate's selection for a job order: which, on which day, recorded by whom."""

    __tablename__ = "selection_step"
    __table_args__ = (
        UniqueConstraint("referral_id", "step", name="uq_selection_step_referral_step"),
        Index("ix_selection_step_referral_id", "referral_id"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("referral.id"), nullable=False)
    step: Mapped[str] = mapped_column(String(12), nullable=False)  # SELECTION_STEPS
    done_on: Mapped[date] = mapped_column(Date, nullable=False)
    done_by: Mapped[str] = mapped_column(String(64), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)  # where it was recorded
    note: Mapped[str | None] = mapped_column(String(255))

    referral = relationship("Referral")

    def __repr__(self):
        return f"<SelectionStep {self.step} {self.done_on}>"


# Why a worker came home (docs/recruitment.md, "Returns").
RETURN_REASONS = {
    "contract_ended": "Contract ended",
    "dismissed": "Dismissed",
    "abuse": "Abuse",
    "illness": "Illness or injury",
    "family": "Family reasons",
    "deported": "Deported",
    "other": "Other",
}


class WorkerReturn(SyncMixin, db.Model):
    """A worker back from work abroad, recorded at the post on the way home: it ends the registration that
    took them abroad (its status becomes `returned`, the population of registered returning migrant workers)."""

    __tablename__ = "worker_return"
    __table_args__ = (
        UniqueConstraint("registration_id", name="uq_worker_return_registration_id"),
        Index("ix_worker_return_person_id", "person_id"),
        Index("ix_worker_return_returned_on", "returned_on"),
        CheckConstraint("wages_owed_amount IS NULL OR wages_owed_amount > 0", name="wages_owed_positive"),
    )

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("registration.id"), nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("person.id"), nullable=False)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("referral.id"))  # the placement, if any
    returned_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # RETURN_REASONS
    wages_owed_amount: Mapped[int | None] = mapped_column(Integer)  # whole units of wages_owed_currency
    wages_owed_currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217
    note: Mapped[str | None] = mapped_column(String(500))  # what the worker reports: complaints, needs
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)  # the post where it was recorded
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)

    registration = relationship("Registration")
    person = relationship("Person")
    referral = relationship("Referral")

    def __repr__(self):
        return f"<WorkerReturn {self.returned_on} {self.reason}>"


COMPLAINT_KINDS = {
    "unpaid_wages": "Unpaid wages",
    "contract_substitution": "Contract substitution",
    "abuse": "Abuse",
    "trafficking": "Suspected trafficking",
    "other": "Other",
}
COMPLAINANTS = {"worker": "The worker", "family": "A family member", "other": "Someone else"}
COMPLAINT_STATUSES = {
    "received": "Received",
    "investigating": "Under investigation",
    "referred": "Referred (police, IOM, trafficking support)",
    "resolved": "Resolved",
    "closed": "Closed without action",
}
COMPLAINT_TRANSITIONS = {
    "received": ("investigating", "referred", "resolved", "closed"),
    "investigating": ("referred", "resolved", "closed"),
    "referred": ("investigating", "resolved", "closed"),
    "resolved": (),
    "closed": (),
}
OPEN_COMPLAINT_STATUSES = ("received", "investigating", "referred")


class Complaint(SyncMixin, db.Model):
    """A problem a worker or their family reports against an employer or an agency, tracked to closure."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_employer_id", "employer_id"),
        Index("ix_complaint_agency_id", "agency_id"),
        Index("ix_complaint_status", "status"),
        CheckConstraint("employer_id IS NOT NULL OR agency_id IS NOT NULL", name="against_someone"),
    )

    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    received_by: Mapped[str] = mapped_column(String(64), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)  # the office that follows it up
    kind: Mapped[str] = mapped_column(String(24), nullable=False)  # COMPLAINT_KINDS
    complainant: Mapped[str] = mapped_column(String(8), nullable=False)  # COMPLAINANTS
    complainant_name: Mapped[str | None] = mapped_column(String(160))
    complainant_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    employer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("employer.id"))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("agency.id"))
    registration_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("registration.id"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("referral.id"))  # the placement
    description: Mapped[str] = mapped_column(String(2000), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received")  # COMPLAINT_STATUSES
    status_changed_on: Mapped[date] = mapped_column(Date, nullable=False)

    employer = relationship("Employer")
    agency = relationship("Agency")
    registration = relationship("Registration")
    referral = relationship("Referral")

    @property
    def is_open(self):
        return self.status in OPEN_COMPLAINT_STATUSES

    def __repr__(self):
        return f"<Complaint {self.kind} {self.status}>"


class ComplaintChange(SyncMixin, db.Model):
    """One change of a complaint's status: to which, on which day, by whom, with a note."""

    __tablename__ = "complaint_change"
    __table_args__ = (Index("ix_complaint_change_complaint_id", "complaint_id"),)

    complaint_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("complaint.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    changed_on: Mapped[date] = mapped_column(Date, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)
    note: Mapped[str | None] = mapped_column(String(500))

    complaint = relationship("Complaint")

    def __repr__(self):
        return f"<ComplaintChange {self.status} {self.changed_on}>"
