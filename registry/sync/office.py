"""An office's side of sync: push the outbox, pull central's feed, and remember how it went.

Each batch is its own transaction: a push drops only the entries central acknowledged, a pull stores
its cursor with the rows it applied (invariants 1-3). Killing the process anywhere loses nothing: the
next round resends what was not acknowledged and re-pulls what was not stored.
"""
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import String, Text, cast, delete, func, select, type_coerce, update
from sqlalchemy.exc import IntegrityError

from registry.audit.services import record_event
from registry.core.types import utcnow
from registry.extensions import db
from registry.registration.numbering import parse_registration_number, raise_sequence_floor
from registry.sync.entities import PayloadError, entities, parse_payload
from registry.sync.models import OutboxEntry, SyncState
from registry.sync.outbox import APPLYING_REMOTE, raise_outbox_counter
from registry.sync.transport import CentralClient, SyncUnavailable
from registry.sync.wire import (MAX_BATCH_CHANGES, PROTOCOL_VERSION, Change, FeedChange, Operation, PushBatch,
                                WireError)

PUSH_BATCH = 1000
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


class _Waiting:
    """The oldest waiting outbox entries after a sequence number, as the body of a push request.

    The payloads are taken as the JSON text the outbox stores and placed in the body as they are: no
    decoding and encoding again of what is already JSON."""

    def __init__(self, office, limit, after):
        rows = db.session.execute(
            select(OutboxEntry.seq, OutboxEntry.entity, type_coerce(OutboxEntry.row_id, String), OutboxEntry.operation,
                   OutboxEntry.version, OutboxEntry.base_version, cast(OutboxEntry.payload, Text))
            .where(OutboxEntry.seq > after).order_by(OutboxEntry.seq).limit(max(1, min(limit, MAX_BATCH_CHANGES)))
        ).all()
        self.seqs = [row[0] for row in rows]
        quoted = {}  # a handful of table and operation names, each as a JSON string

        def quote(text):
            return quoted.get(text) or quoted.setdefault(text, json.dumps(text))

        changes = ",".join(
            f'{{"seq":{seq},"entity":{quote(entity)},"row_id":"{_uuid_text(row_id)}","operation":{quote(operation)},'
            f'"version":{version},"base_version":{base_version},"payload":{payload}}}'
            for seq, entity, row_id, operation, version, base_version, payload in rows)
        self.body = f'{{"protocol":{PROTOCOL_VERSION},"office":{quote(office)},"changes":[{changes}]}}'.encode()


def _uuid_text(stored):
    """A UUID column's raw value in its usual text form: SQLite keeps 32 hexadecimal digits (lower case, as
    SQLAlchemy writes them); other databases give a UUID."""
    if isinstance(stored, str) and len(stored) == 32:
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(uuid.UUID(str(stored)))


def push_pending(client, batch_size=PUSH_BATCH):
    """Send the outbox in batches until it is empty; return how many entries central acknowledged.

    When central answers that it holds some of our numbers for other records (`sequence_reused`: this
    database was restored from an old backup, or copied back), the waiting changes take new numbers after
    the last one central holds, and the push goes on (`renumber_after_restore`)."""
    acknowledged = [0]
    for attempt in range(3):
        try:
            _push(client, batch_size, acknowledged)
            return acknowledged[0]
        except SyncUnavailable as exc:
            if exc.code != "sequence_reused" or attempt == 2:
                raise
            db.session.rollback()
            renumber_after_restore(exc.error)
    return acknowledged[0]


def _push(client, batch_size, acknowledged):
    """The push itself (see `push_pending`); adds to acknowledged[0] as batches are acknowledged.

    One batch is in flight at a time: central applies them in order, so the next goes only once the
    previous is acknowledged. The office's own work overlaps with central's: while a batch is in flight it
    reads and encodes the next, and drops the previous batch's entries (each batch's acknowledged entries
    leave in one transaction, with the highest acknowledged sequence number, `acknowledged_through`)."""
    office = current_app.config["OFFICE_CODE"]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-push") as sender:
        def send(waiting):
            return sender.submit(client.request, "POST", "/api/v1/sync/push", body=waiting.body) \
                if waiting.seqs else None

        batch = _Waiting(office, batch_size, after=0)
        answer = send(batch)
        following = _Waiting(office, batch_size, after=batch.seqs[-1]) if answer else None
        while answer is not None:
            acked = _acknowledged(answer.result(), batch.seqs)
            complete = len(acked) == len(batch.seqs)
            answer = send(following) if complete else None
            _drop(acked)
            acknowledged[0] += len(acked)
            if not complete:  # not all taken: send the rest again before anything newer
                following = _Waiting(office, batch_size, after=0)
                answer = send(following)
            batch = following
            if answer is not None:
                following = _Waiting(office, batch_size, after=batch.seqs[-1])


def renumber_after_restore(error):
    """Central holds some of our outbox numbers for other records: our database is older than what we
    sent (restored from a backup, or copied back). Drop the waiting entries central says it already has
    (same number, same record), give the rest new numbers after the last central holds, in their order,
    and remember to pull our own lost changes back (`recover_own_after`). One transaction."""
    received_through = error.get("received_through")
    already = error.get("already_received") or []
    if not isinstance(received_through, int) or received_through < 0 or not all(isinstance(n, int) for n in already):
        raise SyncUnavailable("central says our change numbers were used before, but not up to where")
    state = sync_state()
    if state.recover_own_after is None:
        state.recover_own_after = state.acknowledged_through
    if already:
        db.session.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_(already)))
    first = db.session.scalar(select(func.min(OutboxEntry.seq)))
    if first is not None and first <= received_through:
        shift = received_through + 1 - first
        # Through negative numbers, so no two entries ever hold the same number half way.
        db.session.execute(update(OutboxEntry).values(seq=-(OutboxEntry.seq + shift)))
        db.session.execute(update(OutboxEntry).where(OutboxEntry.seq < 0).values(seq=-OutboxEntry.seq))
    raise_outbox_counter(max(received_through, db.session.scalar(select(func.max(OutboxEntry.seq))) or 0))
    record_event("sync.renumbered_after_restore", actor="sync",
                 details={"received_through": received_through, "dropped": len(already)})
    db.session.commit()


def _drop(acked):
    """Drop acknowledged outbox entries and note how far central has acknowledged, in one transaction."""
    db.session.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_(acked)))
    state = sync_state()
    state.pushed_total += len(acked)
    state.acknowledged_through = max(state.acknowledged_through, max(acked))
    db.session.commit()


def _acknowledged(answer, sent):
    results = answer.get("results")
    if not isinstance(results, list):
        raise SyncUnavailable("central's answer to a push has no results")
    acked = {r.get("seq") for r in results if isinstance(r, dict)} & set(sent)
    if not acked:
        raise SyncUnavailable("central acknowledged none of the batch")
    return acked


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
        state = sync_state()
        cursor = state.pull_cursor
        # own_through: central leaves out our own changes it applied as sent; we hold them (docs/sync.md).
        own_through = state.acknowledged_through
        if state.recover_own_after is not None:  # restored: ask for our own changes this database lost
            own_through = min(own_through, state.recover_own_after)
        answer = client.request("GET", f"/api/v1/sync/pull?after={cursor}&limit={batch_size}"
                                       f"&own_through={own_through}")
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
            if state.recover_own_after is not None:
                sync_state().recover_own_after = None
                db.session.commit()
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
