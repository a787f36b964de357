"""The flush hook that versions syncable rows and writes their outbox entries in the same transaction.

Services only add and change rows; this hook is the one place that stamps versions, so no code path can
change a syncable row without leaving an outbox entry behind (DESIGN.md invariants 1, 4 and 6).
"""
import uuid
from datetime import date, datetime

from flask import current_app
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from registry.core.ids import new_id
from registry.core.models import SyncMixin
from registry.core.types import utcnow
from registry.extensions import db
from registry.sync.models import OutboxEntry

# Set `session.info[APPLYING_REMOTE] = True` while applying rows that came from another node: they are
# already versioned and must not echo back into this node's outbox.
APPLYING_REMOTE = "registry.applying_remote"
_PENDING = "registry.outbox_pending"


class HardDeleteRefused(RuntimeError):
    pass


# Any fixed number: the key of the PostgreSQL advisory lock that orders writers of central's feed.
FEED_LOCK_KEY = 7_301_926


def lock_feed(session):
    """At central, take the feed lock until commit, so feed entries commit in the order of their
    sequence numbers and a pull can never step over one that commits later. SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql" and not session.info.get("registry.feed_locked"):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
        session.info["registry.feed_locked"] = True


def row_payload(obj):
    """A JSON-safe snapshot of every column of a row, keyed by column name."""
    mapper = inspect(obj).mapper
    return {attr.columns[0].name: to_json_value(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def to_json_value(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _apply_defaults(obj):
    """Fill Python-side column defaults now, not at INSERT, so the outbox snapshot holds every value."""
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        default = column.default
        if default is None or getattr(obj, attr.key) is not None:
            continue
        if default.is_callable:
            setattr(obj, attr.key, default.arg(None))
        elif default.is_scalar:
            setattr(obj, attr.key, default.arg)


def _committed_version(obj):
    history = inspect(obj).attrs.version.history
    if history.deleted:
        return history.deleted[0]
    return obj.version


@event.listens_for(Session, "before_flush")
def _version_and_record(session, flush_context, instances):
    if session.info.get(APPLYING_REMOTE):
        return
    pending = session.info.setdefault(_PENDING, {})
    office = None
    central = current_app.config["REGISTRY_ROLE"] == "central"
    if central and any(
            isinstance(obj, SyncMixin) for obj in (*session.new, *session.dirty)):
        lock_feed(session)

    for obj in list(session.deleted):
        if isinstance(obj, SyncMixin):
            raise HardDeleteRefused(
                f"{type(obj).__name__} rows are never deleted: call mark_deleted() so the tombstone syncs"
            )

    for obj in list(session.new):
        if not isinstance(obj, SyncMixin):
            continue
        office = office or current_app.config["OFFICE_CODE"]
        obj.id = obj.id or new_id()
        obj.version = obj.version or 1
        obj.origin_office = obj.origin_office or office
        obj.updated_at = utcnow()
        _apply_defaults(obj)
        _record(session, pending, obj, "insert", base_version=0, office=office)

    for obj in list(session.dirty):
        if not isinstance(obj, SyncMixin) or not session.is_modified(obj, include_collections=False):
            continue
        office = office or current_app.config["OFFICE_CODE"]
        key = (obj.__tablename__, obj.id)
        if key not in pending:
            # One version per row per transaction, however many flushes it takes.
            base = _committed_version(obj)
            obj.version = base + 1
        obj.updated_at = utcnow()
        operation = "delete" if obj.deleted_at is not None else "update"
        _record(session, pending, obj, operation, base_version=obj.version - 1, office=office)


def _travels(obj):
    """Central records every change in its feed; an office only what it may send (not users, offices or
    code lists, which head office manages and sends down)."""
    if current_app.config["REGISTRY_ROLE"] == "central":
        return True
    from registry.sync.entities import entities

    entity = entities().get(obj.__tablename__)
    return entity is not None and entity.pushable


def _record(session, pending, obj, operation, base_version, office):
    key = (obj.__tablename__, obj.id)
    if not _travels(obj):
        pending.setdefault(key, None)  # still versioned once per transaction
        return
    entry = pending.get(key)
    if entry is None:
        entry = OutboxEntry(
            entity=obj.__tablename__, row_id=obj.id, office_code=office, base_version=base_version
        )
        session.add(entry)
        pending[key] = entry
    elif entry.operation == "insert":
        operation = "insert"  # still new in this transaction
    entry.operation = operation
    entry.version = obj.version
    entry.payload = row_payload(obj)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session):
    session.info.pop(_PENDING, None)
    session.info.pop("registry.feed_locked", None)


def raise_outbox_counter(at_least, connection=None):
    """Make every outbox entry from now on take a number above `at_least` (after a restore: numbers this
    database gave out before it was restored are never given out again). In the session's transaction,
    or on `connection` (a restore prepares a database the session is not bound to)."""
    connection = connection if connection is not None else db.session.connection()
    if connection.dialect.name == "sqlite":
        # AUTOINCREMENT takes the next number from sqlite_sequence, the largest ever given.
        changed = connection.execute(text(
            "UPDATE sqlite_sequence SET seq = :n WHERE name = 'sync_outbox' AND seq < :n"), {"n": at_least}).rowcount
        if not changed and connection.execute(text(
                "SELECT 1 FROM sqlite_sequence WHERE name = 'sync_outbox'")).first() is None:
            connection.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_outbox', :n)"),
                               {"n": at_least})
    elif connection.dialect.name == "postgresql":
        sequence = connection.execute(text("SELECT pg_get_serial_sequence('sync_outbox', 'seq')")).scalar_one()
        connection.execute(text(f"SELECT setval('{sequence}', GREATEST(:n, (SELECT last_value FROM {sequence})))"),
                           {"n": max(at_least, 1)})
