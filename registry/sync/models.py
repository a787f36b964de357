from datetime import datetime
import uuid

from sqlalchemy import JSON, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.types import UTCDateTime, utcnow
from registry.extensions import db


class OutboxEntry(db.Model):
    """One committed change to a syncable row, written in the same transaction as the change (invariant 1).

    `seq` is this node's own monotonic sequence; AUTOINCREMENT on SQLite keeps it from reusing the numbers
    of entries that were dropped after central acknowledged them.
    """

    __tablename__ = "sync_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    operation: Mapped[str] = mapped_column(String(8), nullable=False)  # insert, update, delete
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    base_version: Mapped[int] = mapped_column(Integer, nullable=False)  # 0 for an insert
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self):
        return f"<OutboxEntry {self.seq} {self.operation} {self.entity} {self.row_id} v{self.version}>"
