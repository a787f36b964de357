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
    # Central's feed only: set when this entry is an office's pushed change applied exactly as sent (that
    # office's own sequence number), so the office, which already holds it, need not pull it back. Empty for
    # everything central itself changed (conflict winners, resolutions, links, edits at head office).
    source_office: Mapped[str | None] = mapped_column(String(8))
    source_seq: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self):
        return f"<OutboxEntry {self.seq} {self.operation} {self.entity} {self.row_id} v{self.version}>"


class SyncState(db.Model):
    """An office's view of its sync: where its pull stopped, and how the last round went. One row."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pull_cursor: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Central's clock minus ours, learnt when central refuses a stale timestamp; signatures use it.
    clock_offset_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pushed_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The highest of this office's outbox sequence numbers central has acknowledged. Every change up to it
    # is in this database, so a pull may leave out central's copies of them (`own_through`, docs/sync.md).
    acknowledged_through: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    pulled_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Set when this database was restored from a backup (or found giving out outbox numbers central already
    # holds): its own changes after this number may be missing here, so pulls ask central for them until
    # one pull has gone through (docs/operations.md, Restore).
    recover_own_after: Mapped[int | None] = mapped_column(Integer)


class OfficeCredential(db.Model):
    """Central: the shared secret an office signs with. Issuing a new one replaces (revokes) the old."""

    __tablename__ = "sync_office_credential"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)


class InboxEntry(db.Model):
    """Central: every office change it has acknowledged, keyed by the office's own sequence number,
    so a batch delivered twice is answered 'already applied' (invariant 2)."""

    __tablename__ = "sync_inbox"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OfficeSyncHealth(db.Model):
    """Central: what it knows of each office's sync."""

    __tablename__ = "sync_office_health"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes_received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Every office sequence number up to here has arrived; numbers above it that have not are gaps.
    contiguous_through: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    highest_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncConflict(db.Model):
    """Central: two versions of one record made without seeing each other. The winner (chosen by
    `central.pick_winner`) is in the table; the loser waits here for a supervisor (invariant 5)."""

    __tablename__ = "sync_conflict"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    winner_office: Mapped[str] = mapped_column(String(8), nullable=False)
    winner_payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    loser_office: Mapped[str] = mapped_column(String(8), nullable=False)
    loser_payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(16))  # kept_winner, took_loser, merged


class SeenNonce(db.Model):
    """Central: nonces of signed requests inside the replay window; a second use is a replay."""

    __tablename__ = "sync_seen_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_code: Mapped[str] = mapped_column(String(8), nullable=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
