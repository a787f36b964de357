"""Columns every syncable row carries (DESIGN.md sync invariants 4 and 6)."""
import uuid
from datetime import datetime

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from registry.core.ids import new_id
from registry.core.types import UTCDateTime, utcnow


class SyncMixin:
    """UUID identity, a version bumped on every change, origin office, update time and a tombstone.

    Versions and outbox entries are written by the flush hook in `registry.sync.outbox`; services never
    touch them. A synced row is never deleted: `mark_deleted()` sets the tombstone, which syncs.
    """

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    origin_office: Mapped[str] = mapped_column(String(8), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr.directive
    def __mapper_args__(cls):
        # The UPDATE checks the version it read, so two writers racing on one row cannot both win.
        return {"version_id_col": cls.version, "version_id_generator": False}

    @property
    def is_deleted(self):
        return self.deleted_at is not None

    def mark_deleted(self):
        self.deleted_at = utcnow()
