"""Recruitment agencies and the selection steps of candidates referred to a job order. Both sync both ways:
agencies are managed at any office or at head office, and a candidate may be interviewed at one office and
cross the border at another, so every office sees every step.

A job order is the `Vacancy` of registry.referrals with its recruitment terms (docs/recruitment.md)."""
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, Uuid
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
