import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import SyncMixin
from registry.core.types import UTCDateTime, utcnow
from registry.extensions import db


class AuditEvent(SyncMixin, db.Model):
    """Append-only: services only ever insert these. Views of personal data, prints and extracts included."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_office_at", "office_code", "at"),
    )

    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)  # username, or "system" for commands
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    details: Mapped[dict | None] = mapped_column(JSON)

    def __repr__(self):
        return f"<AuditEvent {self.action} by {self.actor} at {self.at:%Y-%m-%d %H:%M}>"
