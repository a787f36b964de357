"""Central's side of sync: authenticate offices, apply pushed batches, serve the ordered feed.

Every function here adds and flushes only; the API view commits once per request (one batch, one
transaction: invariant 2).
"""
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from registry.audit.services import record_event
from registry.config import OFFICE_CODE_RE
from registry.core.errors import DomainError
from registry.core.types import utcnow
from registry.extensions import db
from registry.matching.services import queue_pair
from registry.offices.models import Office
from registry.people.models import Person
from registry.sync.bulk import BatchWriter, among
from registry.sync.entities import PayloadError, entities, entity_named, parse_payload
from registry.sync.models import InboxEntry, OfficeCredential, OfficeSyncHealth, OutboxEntry, SeenNonce, SyncConflict
from registry.sync.outbox import APPLYING_REMOTE, lock_feed, row_payload, to_json_value
from registry.sync.signing import REPLAY_WINDOW_SECONDS, new_secret, signature_matches
from registry.sync.wire import ChangeResult, ChangeStatus, FeedChange, Operation

PULL_LIMIT_DEFAULT = 500
PULL_LIMIT_MAX = 2000
# Columns that do not count when deciding whether two versions of a row say the same thing.
BOOKKEEPING = {"version", "updated_at"}


class SyncRefused(DomainError):
    """A request central will not act on. `status` is the HTTP status, `code` a stable machine word."""

    def __init__(self, status, code, message, office=None, **extra):
        super().__init__(message)
        self.status, self.code, self.office, self.extra = status, code, office, extra


# --- credentials -------------------------------------------------------------------------------------

def issue_secret(office_code, actor=None):
    """Issue a new secret for an office; the old one stops working at once. Returns the secret."""
    office = db.session.scalar(select(Office).where(Office.code == office_code.upper()))
    if office is None or office.is_deleted:
        raise DomainError(f"No office with code {office_code!r}.")
    secret = new_secret()
    credential = db.session.get(OfficeCredential, office.code)
    if credential is None:
        credential = OfficeCredential(office_code=office.code, secret=secret)
        db.session.add(credential)
    credential.secret, credential.issued_at = secret, utcnow()
    credential.issued_by = getattr(actor, "username", None) or "system"
    db.session.flush()
    record_event("sync.secret_issued", office, actor=actor, details={"office": office.code})
    return secret


def authenticate(method, path, headers, body, now=None):
    """Check a signed request; return the office code or raise SyncRefused (401)."""
    now = now if now is not None else time.time()
    office_code = (headers.get("X-Registry-Office") or "").strip().upper()
    timestamp = headers.get("X-Registry-Timestamp") or ""
    nonce = headers.get("X-Registry-Nonce") or ""
    given = headers.get("X-Registry-Signature") or ""
    if not office_code or not timestamp or not nonce or not given:
        raise SyncRefused(401, "unsigned", "the request is not signed: X-Registry-Office, -Timestamp, -Nonce "
                                           "and -Signature headers are required")
    if not OFFICE_CODE_RE.fullmatch(office_code):  # before any query: PostgreSQL refuses text holding NUL
        raise SyncRefused(401, "unknown_office", f"office {office_code!r} is unknown here or has no secret")
    credential = db.session.get(OfficeCredential, office_code)
    office = db.session.scalar(select(Office).where(Office.code == office_code))
    if credential is None or office is None or not office.active or office.is_deleted:
        raise SyncRefused(401, "unknown_office", f"office {office_code!r} is unknown here or has no secret",
                          office=office_code)
    try:
        stamp = int(timestamp)
    except ValueError:
        raise SyncRefused(401, "bad_timestamp", "X-Registry-Timestamp must be Unix seconds", office=office_code) from None
    if not signature_matches(credential.secret, method, path, stamp, nonce, body, given):
        raise SyncRefused(401, "bad_signature", "the signature does not match: wrong or rotated secret, or the "
                                                "request was altered", office=office_code)
    if abs(stamp - int(now)) > REPLAY_WINDOW_SECONDS:  # whole numbers: a huge stamp does not fit a float
        raise SyncRefused(401, "stale_timestamp", f"the request's time is {stamp - int(now):+d} s from central's; "
                                                  f"the window is {REPLAY_WINDOW_SECONDS} s",
                          office=office_code, server_time=int(now))
    if len(nonce) > 64 or "\x00" in nonce or db.session.get(SeenNonce, nonce) is not None:  # NUL: as above
        raise SyncRefused(401, "replayed", "this request was already received (replayed nonce)", office=office_code)
    cutoff = datetime.fromtimestamp(now - 2 * REPLAY_WINDOW_SECONDS, timezone.utc)
    db.session.execute(delete(SeenNonce).where(SeenNonce.seen_at < cutoff))
    db.session.add(SeenNonce(nonce=nonce, office_code=office_code, seen_at=datetime.fromtimestamp(now, timezone.utc)))
    return office_code


# --- push --------------------------------------------------------------------------------------------

def _health(office_code):
    health = db.session.get(OfficeSyncHealth, office_code)
    if health is None:
        health = OfficeSyncHealth(office_code=office_code, changes_received=0, contiguous_through=0, highest_seq=0)
        db.session.add(health)
    return health


def _content(values):
    return {key: to_json_value(value) for key, value in values.items() if key not in BOOKKEEPING}


def _last_writer(entity, row_id):
    return db.session.scalar(
        select(OutboxEntry.office_code).where(OutboxEntry.entity == entity, OutboxEntry.row_id == row_id)
        .order_by(OutboxEntry.seq.desc()).limit(1)
    ) or "HQ"


def pick_winner(current, incoming):
    """Deterministic, whatever the order of arrival: the higher version wins; at equal versions the office
    code that sorts last. Each side is (version, office_code). Returns 'current' or 'incoming'."""
    return "incoming" if incoming > current else "current"


def _feed(entity, row, office_code, operation, base_version, source_seq=None):
    """A feed entry for a row central changed; `source_seq` when it is that office's change exactly as sent."""
    db.session.add(OutboxEntry(entity=entity, row_id=row.id, operation=operation, version=row.version,
                               base_version=base_version, office_code=office_code, payload=row_payload(row),
                               source_office=office_code if source_seq is not None else None,
                               source_seq=source_seq))


def _validate(batch, office_code):
    checked = []
    for change in batch.changes:
        try:
            entity = entity_named(change.entity, pushed=True)
            values = parse_payload(entity, change.payload)
        except PayloadError as exc:
            raise SyncRefused(422, "invalid_change", f"change seq {change.seq}: {exc}", office=office_code) from None
        if change.operation == Operation.INSERT and values["origin_office"] != office_code:
            raise SyncRefused(422, "invalid_change", f"change seq {change.seq}: an office may only create rows "
                                                     f"as itself (origin_office {values['origin_office']!r})",
                              office=office_code)
        if entity.owner_only and values["origin_office"] != office_code:
            raise SyncRefused(422, "invalid_change", f"change seq {change.seq}: only office "
                                                     f"{values['origin_office']} may change its {entity.name} rows",
                              office=office_code)
        if change.operation == Operation.DELETE and values["deleted_at"] is None:
            raise SyncRefused(422, "invalid_change", f"change seq {change.seq}: a delete must carry deleted_at",
                              office=office_code)
        checked.append((change, entity, values))
    return checked


def apply_push_batch(batch, office_code):
    """Apply one office's batch; return a ChangeResult per change. Refuses the whole batch on any bad change.

    Set-based, with the outcome of applying the changes one by one in `seq` order: one query finds the rows
    central already holds; rows new to central (nearly every row of a backlog) are written with one bulk
    insert per table (`bulk.BatchWriter`), their feed and inbox entries likewise. A change to a row central
    holds, or made earlier in the batch, takes the careful path (`_apply_change`), after everything before it
    is written."""
    if batch.office.upper() != office_code:
        raise SyncRefused(403, "wrong_office", f"the batch says it is from {batch.office!r} but is signed by "
                                               f"{office_code}", office=office_code)
    checked = _validate(batch, office_code)
    lock_feed(db.session)
    seqs = [change.seq for change in batch.changes]
    seen = _already_received(office_code, checked)
    results, conflicts = [], []
    rows = _existing_rows(checked)
    writer = BatchWriter(office_code)
    db.session.info[APPLYING_REMOTE] = True
    try:
        for change, entity, values in sorted(checked, key=lambda item: item[0].seq):
            if change.seq in seen:
                results.append(ChangeResult(change.seq, ChangeStatus.ALREADY_APPLIED))
                continue
            key = (entity.name, values["id"])
            if key not in rows and key not in writer.new_rows:
                writer.add_row(change, entity, values)  # new to central: applied as sent
                status, detail = ChangeStatus.APPLIED, ""
            else:
                writer.write()  # everything before this change, in order
                if key not in rows:  # written earlier in this batch: now an ordinary row
                    rows[key] = db.session.get(entity.model, values["id"])
                status, detail = _apply_change(change, entity, values, office_code, conflicts, rows)
                db.session.flush()
            writer.add_inbox(change, values, status)
            results.append(ChangeResult(change.seq, status, detail))
        writer.write()
        db.session.flush()
    except IntegrityError as exc:  # a row names a person or office central does not hold, or a taken number
        reason = str(exc.orig).splitlines()[0]
        raise SyncRefused(422, "invalid_change", f"the batch does not fit central's records: {reason}",
                          office=office_code) from None
    finally:
        db.session.info.pop(APPLYING_REMOTE, None)
    # The same person registered offline at two offices: queue the records for an administrator.
    _queue_same_national_id(_people_as_stored(checked, seen, rows, writer))
    for conflict in conflicts:  # central's own events, written by the normal path once remote rows are in
        record_event("sync.conflict_detected", actor=f"sync:{office_code}",
                     details={"entity": conflict.entity, "row_id": str(conflict.row_id), "winner": conflict.winner_office})
    _record_receipt(office_code, seqs, sum(r.status != ChangeStatus.ALREADY_APPLIED for r in results))
    return results


def _already_received(office_code, checked):
    """The sequence numbers of the batch central has acknowledged before.

    Asked as a range (a batch is nearly always one run of numbers): with a list of numbers instead,
    PostgreSQL may read every entry of the office and test each against the list, which grows with every
    batch received. A number central holds for a different record means the office is giving out numbers
    again (restored from an old backup, or its database copied back by hand): the batch is refused
    (`sequence_reused`), never answered "already applied", which would drop the office's new change."""
    if not checked:
        return set()
    wanted = {change.seq: (entity.name, values["id"]) for change, entity, values in checked}
    received = {row.seq: (row.entity, row.row_id) for row in db.session.execute(
        select(InboxEntry.seq, InboxEntry.entity, InboxEntry.row_id)
        .where(InboxEntry.office_code == office_code, InboxEntry.seq.between(min(wanted), max(wanted)))
    ) if row.seq in wanted}
    reused = sorted(seq for seq, record in received.items() if record != wanted[seq])
    if reused:
        raise SyncRefused(
            409, "sequence_reused",
            f"central already holds change {reused[0]} from {office_code} for another record: this office's "
            f"database was restored or copied back; its waiting changes need numbers after "
            f"{_health(office_code).highest_seq}",
            office=office_code, received_through=_health(office_code).highest_seq,
            already_received=sorted(seq for seq in received if seq not in reused))
    return set(received)


def _people_as_stored(checked, seen, rows, writer):
    """The people of the batch (not already received) as central now holds them: id -> (national_id,
    national_id_country, origin_office, deleted_at). A row that took the careful path is in `rows`, as
    written; any other was written as sent."""
    people = {}
    for change, entity, values in sorted(checked, key=lambda item: item[0].seq):
        if entity.name != "person" or change.seq in seen:
            continue
        row = rows.get(("person", values["id"]))
        if row is not None:
            people[row.id] = (row.national_id, row.national_id_country, row.origin_office, row.deleted_at)
        else:
            people[values["id"]] = (values["national_id"], values["national_id_country"], values["origin_office"],
                                    values["deleted_at"])
    return people


def _queue_same_national_id(people):
    """Queue, for an administrator, every pair of a person of this batch with another live person record
    holding the same national ID (and issuing country): the others of the batch from memory, the rest
    with one query."""
    arrived = [(person_id, state) for person_id, state in people.items() if state[0] is not None]
    if not arrived:
        return
    holders = {}
    for person_id, (national_id, country, origin, deleted_at) in people.items():
        if national_id is not None and deleted_at is None:
            holders.setdefault((national_id, country), []).append((person_id, origin))
    for row in db.session.execute(
            select(Person.id, Person.national_id, Person.national_id_country, Person.origin_office)
            .where(among(Person.national_id, {state[0] for _, state in arrived}), Person.deleted_at.is_(None),
                   ~among(Person.id, people))):
        holders.setdefault((row.national_id, row.national_id_country), []).append((row.id, row.origin_office))
    for person_id, (national_id, country, origin, _) in arrived:
        for other_id, other_origin in holders.get((national_id, country), ()):
            if other_id != person_id:
                queue_pair(person_id, other_id, f"same national ID ({country}), registered at {other_origin} and "
                                                f"{origin}")


def _existing_rows(checked):
    """Every row the batch touches that central already has, in one query per table."""
    wanted = {}
    for _, entity, values in checked:
        wanted.setdefault(entity, set()).add(values["id"])
    rows = {}
    for entity, ids in wanted.items():
        for row in db.session.scalars(select(entity.model).where(among(entity.model.id, ids))):
            rows[(entity.name, row.id)] = row
    return rows


def _apply_change(change, entity, values, office_code, conflicts, rows):
    """The careful path, for a row central already holds: already there, a plain update, or a conflict."""
    row = rows[(entity.name, values["id"])]
    if entity.owner_only and row.origin_office != office_code:
        raise SyncRefused(422, "invalid_change", f"change seq {change.seq}: {entity.name} {row.id} belongs to "
                                                 f"office {row.origin_office}", office=office_code)
    current = {column: getattr(row, column) for column in values}
    if _content(current) == _content(values) and row.version >= change.version:
        return ChangeStatus.ALREADY_APPLIED, "central already holds this version"
    if row.version == change.base_version:
        for column, value in values.items():
            setattr(row, column, value)
        _feed(entity.name, row, office_code, change.operation.value, change.base_version, source_seq=change.seq)
        return ChangeStatus.APPLIED, ""
    # Changed at two places since they last agreed: keep both, pick a winner deterministically.
    current_side = (row.version, _last_writer(entity.name, row.id))
    incoming_side = (change.version, office_code)
    winner = pick_winner(current_side, incoming_side)
    current_payload = row_payload(row)
    new_version = max(row.version, change.version) + 1
    if winner == "incoming":
        for column, value in values.items():
            setattr(row, column, value)
    base = row.version if winner == "current" else change.version
    row.version, row.updated_at = new_version, utcnow()
    winner_office = incoming_side[1] if winner == "incoming" else current_side[1]
    _feed(entity.name, row, winner_office, "update", base)  # a new version: every office takes it, both writers too
    conflict = SyncConflict(
        entity=entity.name, row_id=row.id, winner_office=winner_office, winner_payload=row_payload(row),
        loser_office=current_side[1] if winner == "incoming" else office_code,
        loser_payload=current_payload if winner == "incoming" else change.payload,
    )
    db.session.add(conflict)
    conflicts.append(conflict)
    return ChangeStatus.CONFLICT, f"changed elsewhere too; {winner_office}'s version kept, the other queued"


def _record_receipt(office_code, seqs, applied):
    health = _health(office_code)
    now = utcnow()
    health.last_contact_at = health.last_push_at = now
    health.changes_received += applied
    if seqs:
        health.highest_seq = max(health.highest_seq, max(seqs))
    # Move the contiguous mark over every sequence number that has arrived: this batch's, then any that
    # arrived before it out of order (usually none, so the query finds nothing).
    mark = health.contiguous_through
    batch = set(seqs)
    while mark + 1 in batch:
        mark += 1
    received = set(db.session.scalars(
        select(InboxEntry.seq).where(InboxEntry.office_code == office_code, InboxEntry.seq > mark)
        .order_by(InboxEntry.seq).limit(100_000)
    ))
    while mark + 1 in received:
        mark += 1
    health.contiguous_through = mark


def record_refusal(error, path):
    """Audit a refused request in its own transaction (the request's own work is rolled back)."""
    db.session.rollback()
    record_event("sync.request_refused", actor=f"sync:{error.office or 'unknown'}",
                 details={"code": error.code, "message": error.message, "path": path})
    if error.office and db.session.scalar(select(Office.id).where(Office.code == error.office)):
        health = _health(error.office)
        health.last_error, health.last_error_at = f"{error.code}: {error.message}"[:500], utcnow()
    db.session.commit()


# --- pull --------------------------------------------------------------------------------------------

def changes_after(after, limit, office_code, own_through=0):
    """The feed after `after`, oldest first, only tables that travel to offices. Leaves out what this office
    pushed itself and central applied exactly as sent, up to the office's own sequence number `own_through`:
    the office holds those already. Returns (changes, the cursor to ask from next, whether there is more)."""
    limit = max(1, min(limit, PULL_LIMIT_MAX))
    pullable = [name for name, entity in entities().items() if entity.pullable]
    # Feed numbers commit in order (lock_feed), so everything up to the highest number visible now is
    # either committed or never will be: the cursor may move up to it even past entries left out.
    end = db.session.scalar(select(func.max(OutboxEntry.seq))) or 0
    wanted = select(OutboxEntry).where(OutboxEntry.seq > after, OutboxEntry.seq <= end,
                                       OutboxEntry.entity.in_(pullable))
    if own_through > 0:
        wanted = wanted.where(or_(OutboxEntry.source_office.is_(None), OutboxEntry.source_office != office_code,
                                  OutboxEntry.source_seq > own_through))
    rows = db.session.scalars(wanted.order_by(OutboxEntry.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    health = _health(office_code)
    health.last_contact_at = health.last_pull_at = utcnow()
    changes = [FeedChange(r.seq, r.entity, str(r.row_id), r.version, r.office_code, r.payload) for r in rows]
    return changes, (rows[-1].seq if more else max(after, end)), more


# --- health ------------------------------------------------------------------------------------------

def office_health(silent_after=timedelta(days=1)):
    """One line per office for head office's sync page."""
    now = utcnow()
    open_conflicts = dict(db.session.execute(
        select(SyncConflict.winner_office, func.count()).where(SyncConflict.resolved_at.is_(None))
        .group_by(SyncConflict.winner_office)
    ).all())
    lines = []
    offices = db.session.scalars(select(Office).where(Office.deleted_at.is_(None)).order_by(Office.code))
    for office in offices:
        health = db.session.get(OfficeSyncHealth, office.code)
        has_secret = db.session.get(OfficeCredential, office.code) is not None
        last = health.last_contact_at if health else None
        gaps = []
        if health and health.highest_seq > health.contiguous_through:
            gaps = missing_ranges(office.code, health.contiguous_through, health.highest_seq)
        lines.append({
            "office": office, "health": health, "has_secret": has_secret, "gaps": gaps,
            "silent": office.code != "HQ" and (last is None or now - last > silent_after),
            "conflicts": open_conflicts.get(office.code, 0),
        })
    return lines


def missing_ranges(office_code, after, through, limit=20):
    present = set(db.session.scalars(
        select(InboxEntry.seq).where(InboxEntry.office_code == office_code, InboxEntry.seq > after,
                                     InboxEntry.seq <= through)
    ))
    ranges, start = [], None
    for seq in range(after + 1, through + 1):
        if seq not in present and start is None:
            start = seq
        elif seq in present and start is not None:
            ranges.append((start, seq - 1))
            start = None
        if len(ranges) >= limit:
            break
    if start is not None and len(ranges) < limit:
        ranges.append((start, through))
    return ranges


def open_conflicts():
    return db.session.scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None))
                              .order_by(SyncConflict.detected_at)).all()


def feed_position():
    return db.session.scalar(select(func.max(OutboxEntry.seq))) or 0
