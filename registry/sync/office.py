"""An office's side of sync: push the outbox, pull central's feed, and remember how it went.

Each batch is its own transaction: a push drops only the entries central acknowledged, a pull stores
its cursor with the rows it applied (invariants 1-3). Killing the process anywhere loses nothing: the
next round resends what was not acknowledged and re-pulls what was not stored.
"""
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from registry.core.types import utcnow
from registry.extensions import db
from registry.registration.numbering import parse_registration_number, raise_sequence_floor
from registry.sync.entities import PayloadError, entities, parse_payload
from registry.sync.models import OutboxEntry, SyncState
from registry.sync.outbox import APPLYING_REMOTE
from registry.sync.transport import CentralClient, SyncUnavailable
from registry.sync.wire import MAX_BATCH_CHANGES, Change, FeedChange, Operation, PushBatch, WireError

PUSH_BATCH = 500
PULL_BATCH = 1000


def sync_state():
    """The office's single state row, created by the migration."""
    state = db.session.get(SyncState, 1)
    if state is None:
        raise SyncUnavailable("the sync_state row is missing: run `flask db upgrade`")
    return state


def pending_count():
    return db.session.scalar(select(func.count()).select_from(OutboxEntry)) or 0


def pending_estimate():
    """Waiting changes from the first and last sequence numbers: exact while entries leave in order, as
    they do, and two index lookups instead of a count, for the header of every page."""
    # Two scalar subqueries: SQLite answers each min or max from the index alone, but not both at once.
    low = select(func.min(OutboxEntry.seq)).scalar_subquery()
    high = select(func.max(OutboxEntry.seq)).scalar_subquery()
    low, high = db.session.execute(select(low, high)).one()
    return 0 if low is None else high - low + 1


def badge():
    """What the header of every office page shows about sync."""
    with db.session.no_autoflush:  # a read for the header must not write the page's pending changes early
        state = db.session.get(SyncState, 1)
        return {"last_success_at": state.last_success_at if state else None,
                "last_error": state.last_error if state else None, "pending": pending_estimate()}


def client_from_config(state):
    config = current_app.config
    return CentralClient(config.get("CENTRAL_URL"), config["OFFICE_CODE"], config.get("OFFICE_SECRET"),
                         clock_offset=state.clock_offset_seconds)


def pending_batch(limit=PUSH_BATCH, after=0):
    """The oldest waiting outbox entries (after sequence number `after`) as a push batch."""
    entries = db.session.scalars(
        select(OutboxEntry).where(OutboxEntry.seq > after).order_by(OutboxEntry.seq).limit(min(limit, MAX_BATCH_CHANGES))
    ).all()
    return PushBatch(current_app.config["OFFICE_CODE"], [
        Change(entry.seq, entry.entity, str(entry.row_id), Operation(entry.operation), entry.version,
               entry.base_version, entry.payload)
        for entry in entries
    ])


def push_pending(client, batch_size=PUSH_BATCH):
    """Send the outbox in batches until it is empty; return how many entries central acknowledged."""
    acknowledged = 0
    while True:
        batch = pending_batch(batch_size)
        if not batch.changes:
            return acknowledged
        answer = client.request("POST", "/api/v1/sync/push", batch.to_json())
        results = answer.get("results")
        if not isinstance(results, list):
            raise SyncUnavailable("central's answer to a push has no results")
        sent = {change.seq for change in batch.changes}
        acked = {r.get("seq") for r in results if isinstance(r, dict)} & sent
        if not acked:
            raise SyncUnavailable("central acknowledged none of the batch")
        db.session.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_(acked)))
        state = sync_state()
        state.pushed_total += len(acked)
        db.session.commit()
        acknowledged += len(acked)


def apply_pulled(changes, next_cursor):
    """Store pulled rows newer than ours, and the cursor, in one transaction."""
    own_office = current_app.config["OFFICE_CODE"]
    catalogue = entities()
    parsed = []
    for change in changes:
        entity = catalogue.get(change.entity)
        if entity is None or not entity.pullable:
            raise SyncUnavailable(f"central sent a change for {change.entity!r}, which this office does not take")
        try:
            parsed.append((change, entity, parse_payload(entity, change.payload)))
        except PayloadError as exc:
            raise SyncUnavailable(f"central sent a bad row (feed {change.seq}): {exc}") from None
    rows = {}
    for entity in {entity for _, entity, _ in parsed}:
        ids = [values["id"] for _, e, values in parsed if e is entity]
        for row in db.session.scalars(select(entity.model).where(entity.model.id.in_(ids))):
            rows[(entity.name, row.id)] = row
    applied, previous = 0, None
    db.session.info[APPLYING_REMOTE] = True
    try:
        for change, entity, values in parsed:
            if previous is not None and entity is not previous:
                db.session.flush()  # parents before children across tables (offices before users ...)
            previous = entity
            row = rows.get((entity.name, values["id"]))
            if row is None:
                row = entity.model(**values)
                db.session.add(row)
                rows[(entity.name, row.id)] = row
            elif row.version < values["version"]:
                for column, value in values.items():
                    setattr(row, column, value)
            else:
                continue
            applied += 1
            if change.entity == "registration" and values["office_code"] == own_office:
                # Our own numbers coming back (say, after a restore from an old backup): never reissue them.
                number = parse_registration_number(values["registration_number"])
                raise_sequence_floor(own_office, number.year, number.sequence)
        db.session.flush()
    finally:
        db.session.info.pop(APPLYING_REMOTE, None)
    state = sync_state()
    state.pull_cursor = next_cursor
    state.pulled_total += applied
    return applied


def pull_all(client, batch_size=PULL_BATCH):
    """Pull until central says there is no more; return how many rows were applied."""
    applied = 0
    while True:
        cursor = sync_state().pull_cursor
        answer = client.request("GET", f"/api/v1/sync/pull?after={cursor}&limit={batch_size}")
        try:
            changes = [FeedChange.from_json(item) for item in answer.get("changes", [])]
        except WireError as exc:
            raise SyncUnavailable(f"central's feed is malformed: {exc}") from None
        next_cursor = answer.get("next_after")
        if not isinstance(next_cursor, int) or next_cursor < cursor:
            raise SyncUnavailable("central's feed answer has no valid next_after")
        try:
            applied += apply_pulled(changes, next_cursor)
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            # e.g. a user created locally before this office synced, under a name head office also uses
            raise SyncUnavailable(f"a pulled row clashes with a record made here: {exc.orig}"[:400]) from None
        if not answer.get("more"):
            return applied


def run_round(client=None):
    """One full sync: push everything, then pull everything. Returns (pushed, pulled); raises SyncUnavailable."""
    from registry.sync.background import ROUND_LOCK

    if not ROUND_LOCK.acquire(timeout=120):
        raise SyncUnavailable("another sync round is still running; try again in a minute")
    try:
        return _round(client)
    finally:
        ROUND_LOCK.release()


def _round(client):
    state = sync_state()
    state.last_attempt_at = utcnow()
    db.session.commit()
    try:
        client = client or client_from_config(state)
        # Smaller batches suit a slow or flaky link: each one that gets through is kept.
        size = current_app.config.get("SYNC_BATCH_SIZE") or PUSH_BATCH
        pushed = push_pending(client, batch_size=size)
        pulled = pull_all(client, batch_size=max(size, 1))
    except SyncUnavailable as exc:
        db.session.rollback()
        _remember(error=str(exc), client=client)
        raise
    except Exception as exc:
        db.session.rollback()
        _remember(error=f"sync failed: {exc.__class__.__name__}: {exc}"[:500], client=client)
        raise
    _remember(error=None, client=client)
    return pushed, pulled


def _remember(error, client):
    state = sync_state()
    if client is not None and isinstance(client, CentralClient):
        state.clock_offset_seconds = client.clock_offset
    if error is None:
        state.last_success_at, state.last_error = utcnow(), None
    else:
        state.last_error = error[:500]
    db.session.commit()


def status():
    state = sync_state()
    return {
        "office": current_app.config["OFFICE_CODE"],
        "central_url": current_app.config.get("CENTRAL_URL"),
        "last_success_at": state.last_success_at,
        "last_attempt_at": state.last_attempt_at,
        "last_error": state.last_error,
        "pending": pending_count(),
        "pull_cursor": state.pull_cursor,
        "pushed_total": state.pushed_total,
        "pulled_total": state.pulled_total,
    }
