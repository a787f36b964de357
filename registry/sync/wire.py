"""The sync API's wire format: typed, self-checking objects instead of dictionaries read ad hoc.

Version 1 of the protocol; docs/sync.md and docs/openapi.yaml describe it for other clients.
"""
import enum
import uuid
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
MAX_BATCH_CHANGES = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024
# Sequence numbers and versions are stored in 32-bit integer columns (PostgreSQL INTEGER).
MAX_SEQ = 2**31 - 1


class WireError(ValueError):
    """The request's body is not a valid message; the text says which part."""


class Operation(str, enum.Enum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


_OPERATIONS = {operation.value: operation for operation in Operation}


class ChangeStatus(str, enum.Enum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    CONFLICT = "conflict"  # acknowledged: the losing version waits in the conflict queue at central


def _require(data, key, kind, where):
    if key not in data:
        raise WireError(f"{where}: '{key}' is missing")
    value = data[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise WireError(f"{where}: '{key}' must be an integer")
    if kind is not int and not isinstance(value, kind):
        raise WireError(f"{where}: '{key}' must be {kind.__name__}")
    return value


def _is_uuid(text):
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Change:
    """One outbox entry of an office: the row's state after the change, and the version it was based on."""

    seq: int
    entity: str
    row_id: str
    operation: Operation
    version: int
    base_version: int
    payload: dict

    @classmethod
    def from_json(cls, data, where="change"):
        # A well-formed change, as nearly all are, checked in one go; anything amiss goes the careful way below,
        # which names the first fault.
        if type(data) is dict:
            seq, version, base_version = data.get("seq"), data.get("version"), data.get("base_version")
            row_id, operation, entity, payload = data.get("row_id"), data.get("operation"), data.get("entity"), \
                data.get("payload")
            if (type(seq) is int and type(version) is int and type(base_version) is int and type(row_id) is str
                    and type(operation) is str and operation in _OPERATIONS and type(entity) is str
                    and type(payload) is dict and 1 <= seq <= MAX_SEQ and 0 <= base_version < version <= MAX_SEQ
                    and payload.get("id") == row_id and payload.get("version") == version and _is_uuid(row_id)):
                return cls(seq, entity, row_id, _OPERATIONS[operation], version, base_version, payload)
        return cls._checked(data, where)

    @classmethod
    def _checked(cls, data, where):
        if not isinstance(data, dict):
            raise WireError(f"{where} must be an object")
        seq = _require(data, "seq", int, where)
        where = f"change seq {seq}"
        row_id = _require(data, "row_id", str, where)
        try:
            uuid.UUID(row_id)
        except ValueError:
            raise WireError(f"{where}: 'row_id' is not a UUID") from None
        try:
            operation = Operation(_require(data, "operation", str, where))
        except ValueError:
            raise WireError(f"{where}: 'operation' must be insert, update or delete") from None
        version = _require(data, "version", int, where)
        base_version = _require(data, "base_version", int, where)
        if not (1 <= seq <= MAX_SEQ and 0 <= base_version < version <= MAX_SEQ):
            raise WireError(f"{where}: needs 1 <= seq <= {MAX_SEQ} and 0 <= base_version < version <= {MAX_SEQ}")
        payload = _require(data, "payload", dict, where)
        if payload.get("id") != row_id or payload.get("version") != version:
            raise WireError(f"{where}: the payload's id and version must match the change's")
        return cls(seq, _require(data, "entity", str, where), row_id, operation, version, base_version, payload)

    def to_json(self):
        # Not dataclasses.asdict: it deep-copies every payload, the largest cost of building a batch.
        return {"seq": self.seq, "entity": self.entity, "row_id": self.row_id, "operation": self.operation.value,
                "version": self.version, "base_version": self.base_version, "payload": self.payload}


@dataclass(frozen=True)
class PushBatch:
    office: str
    changes: list = field(default_factory=list)
    protocol: int = PROTOCOL_VERSION

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise WireError("the body must be a JSON object")
        protocol = _require(data, "protocol", int, "batch")
        if protocol != PROTOCOL_VERSION:
            raise WireError(f"protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}")
        office = _require(data, "office", str, "batch")
        raw = _require(data, "changes", list, "batch")
        if len(raw) > MAX_BATCH_CHANGES:
            raise WireError(f"a batch holds at most {MAX_BATCH_CHANGES} changes, this one {len(raw)}")
        changes = [Change.from_json(item, f"change #{index}") for index, item in enumerate(raw)]
        if len({change.seq for change in changes}) != len(changes):
            raise WireError("batch: two changes share a seq")
        return cls(office, changes, protocol)

    def to_json(self):
        return {"protocol": self.protocol, "office": self.office, "changes": [c.to_json() for c in self.changes]}


@dataclass(frozen=True)
class ChangeResult:
    seq: int
    status: ChangeStatus
    detail: str = ""

    def to_json(self):
        return {"seq": self.seq, "status": self.status.value, "detail": self.detail}


@dataclass(frozen=True)
class FeedChange:
    """One change in central's ordered feed, as an office pulls it."""

    seq: int
    entity: str
    row_id: str
    version: int
    office: str
    payload: dict

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise WireError("a pulled change must be an object")
        seq = _require(data, "seq", int, "pulled change")
        where = f"pulled change {seq}"
        return cls(seq, _require(data, "entity", str, where), _require(data, "row_id", str, where),
                   _require(data, "version", int, where), _require(data, "office", str, where),
                   _require(data, "payload", dict, where))

    def to_json(self):
        return {"seq": self.seq, "entity": self.entity, "row_id": self.row_id, "version": self.version,
                "office": self.office, "payload": self.payload}
