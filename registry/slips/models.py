"""Slip signing keys, printed slips and revocations (syncable), and this node's private keys (never synced)."""
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.models import SyncMixin
from registry.core.types import UTCDateTime, utcnow
from registry.extensions import db

REVOCATION_KINDS = {"slip": "One printed slip", "key": "An office's signing key (every slip it signed)"}


class SigningKey(SyncMixin, db.Model):
    """An office's Ed25519 public key. Offices send theirs to central, central sends every office's to all,
    so any office can check any office's slips offline. The private half never leaves its office."""

    __tablename__ = "slip_signing_key"

    key_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)  # hex, from the public key
    office_code: Mapped[str] = mapped_column(String(8), ForeignKey("office.code"), nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)  # 32 bytes, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # No longer used for new slips (after a rotation); slips it signed stay valid unless it is revoked.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Declared so a flush that inserts both (central applying a pushed batch) writes the office first.
    office = relationship("Office")

    def __repr__(self):
        return f"<SigningKey {self.office_code} {self.key_id}>"


class PrivateKey(db.Model):
    """This node's private signing keys. Local: not a syncable table, so no outbox entry, export or pull ever
    carries one (docs/slips.md, "Keys")."""

    __tablename__ = "slip_private_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)
    private_key: Mapped[str] = mapped_column(String(64), nullable=False)  # 32 bytes, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"<PrivateKey {self.office_code} {self.key_id}>"


class SlipPrint(SyncMixin, db.Model):
    """One printed slip, of a registration or of a referral: the original (copy 0) or COPY n. It holds the
    signed payload and no personal data beyond the registration number, so `/verify` can find a slip by
    number and short code at any office."""

    __tablename__ = "slip_print"
    __table_args__ = (
        Index("ix_slip_print_registration_number_short_code", "registration_number", "short_code"),
        Index("ix_slip_print_registration_id", "registration_id"),
        Index("ix_slip_print_office_issued_on", "office_code", "issued_on"),
        Index("ix_slip_print_referral_id", "referral_id"),
    )

    registration_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("registration.id"), nullable=False)
    # Set for a referral slip; its registration_id and registration_number are the referred registration's.
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("referral.id"))
    registration_number: Mapped[str] = mapped_column(String(24), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)  # the office that printed and signed it
    copy_number: Mapped[int] = mapped_column(Integer, nullable=False)  # 0: the original
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    printed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    layout: Mapped[str] = mapped_column(String(8), nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    digest: Mapped[str] = mapped_column(String(32), nullable=False)  # hex of the printed fields' digest
    short_code: Mapped[str] = mapped_column(String(8), nullable=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    payload: Mapped[str] = mapped_column(String(400), nullable=False)

    # Declared so a flush that inserts both (central applying a pushed batch) writes the registration first:
    # SQLAlchemy orders inserts by relationships, not by foreign keys alone.
    registration = relationship("Registration")
    referral = relationship("Referral")

    def __repr__(self):
        return f"<SlipPrint {self.registration_number} copy {self.copy_number} {self.short_code}>"


class Revocation(SyncMixin, db.Model):
    """A slip (by its short code) or a key (by its id) that must no longer verify. Revocations are never
    undone: `/verify` counts one even if it carries a tombstone, so no later change can bring a slip back."""

    __tablename__ = "slip_revocation"
    __table_args__ = (
        Index("ix_slip_revocation_registration_number_short_code", "registration_number", "short_code"),
        Index("ix_slip_revocation_key_id", "key_id"),
    )

    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # slip or key
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)  # the office whose slip or key it is
    registration_number: Mapped[str | None] = mapped_column(String(24))  # kind slip
    short_code: Mapped[str | None] = mapped_column(String(8))  # kind slip
    key_id: Mapped[str | None] = mapped_column(String(16))  # kind key, and the key of a revoked slip
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_by: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)

    def __repr__(self):
        return f"<Revocation {self.kind} {self.short_code or self.key_id}>"
