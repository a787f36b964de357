"""Conflict resolution at central: a supervisor or admin keeps the winner, takes the loser, or merges."""
from sqlalchemy import select

from registry.audit.services import record_event
from registry.core.errors import DomainError, NotFound
from registry.core.types import utcnow
from registry.extensions import db
from registry.sync.entities import PayloadError, entities, parse_payload
from registry.sync.models import SyncConflict
from registry.sync.outbox import to_json_value

# Columns a merge never takes from either side: the row's identity and its sync bookkeeping.
FIXED = {"id", "version", "origin_office", "updated_at"}


def get_conflict(conflict_id):
    conflict = db.session.get(SyncConflict, conflict_id)
    if conflict is None:
        raise NotFound("No such conflict.")
    return conflict


def differing_columns(conflict):
    """Columns whose values differ between the two versions, in the table's order."""
    entity = entities()[conflict.entity]
    return [name for name in entity.columns
            if name not in FIXED and conflict.winner_payload.get(name) != conflict.loser_payload.get(name)]


def resolve_conflict(conflict, picks, actor):
    """Resolve with `picks`: column -> 'winner' or 'loser' for every differing column (missing ones keep
    the winner). The result is saved as a new version of the row, which syncs to every office."""
    if conflict.resolved_at is not None:
        raise DomainError("This conflict was already resolved.")
    entity = entities()[conflict.entity]
    row = db.session.get(entity.model, conflict.row_id)
    if row is None:
        raise NotFound("The record of this conflict no longer exists.")
    differing = differing_columns(conflict)
    bad = {column: side for column, side in picks.items() if column not in differing or side not in ("winner", "loser")}
    if bad:
        raise DomainError(f"Cannot pick {', '.join(sorted(bad))}: choose the winner's or the loser's value of a "
                          "column that differs.")
    try:
        loser = parse_payload(entity, conflict.loser_payload)
        winner = parse_payload(entity, conflict.winner_payload)
    except PayloadError as exc:
        raise DomainError(f"A stored version cannot be read: {exc}") from None
    taken = {column: picks.get(column, "winner") for column in differing}
    for column, side in taken.items():
        value = (loser if side == "loser" else winner)[column]
        if to_json_value(getattr(row, column)) != to_json_value(value):
            setattr(row, column, value)
    sides = set(taken.values())
    conflict.resolution = "took_loser" if sides == {"loser"} else "merged" if sides == {"winner", "loser"} else "kept_winner"
    conflict.resolved_at, conflict.resolved_by = utcnow(), actor.username
    db.session.flush()
    record_event("sync.conflict_resolved", row, actor=actor,
                 details={"conflict": str(conflict.id), "resolution": conflict.resolution, "picks": taken})
    return conflict


def open_conflict_count():
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(SyncConflict).where(SyncConflict.resolved_at.is_(None)))
