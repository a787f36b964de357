"""Which tables sync, in which direction, and how their rows travel as JSON and are checked on arrival.

A payload is checked column by column against the model: unknown or missing columns, wrong types,
over-long strings and naive timestamps are refused with a message naming the column, before anything
is written.
"""
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, Uuid, inspect

from registry.core.types import UTCDateTime


class PayloadError(ValueError):
    pass


@dataclass(frozen=True)
class Entity:
    name: str
    model: type
    pushable: bool  # offices may send changes of this table to central
    pullable: bool  # central sends changes of this table to offices
    # Only the office that made a row may ever change it (an office's signing keys: another office
    # rewriting them could make forged slips verify).
    owner_only: bool = False

    @cached_property  # the model's columns do not change while the process runs
    def columns(self):
        return {column.name: column for column in inspect(self.model).columns}


def _registry():
    from registry.audit.models import AuditEvent
    from registry.auth.models import User
    from registry.codes.models import IscoGroup
    from registry.offices.models import Office
    from registry.people.models import Person
    from registry.recruitment.models import Agency, Complaint, ComplaintChange, SelectionStep, WorkerReturn
    from registry.referrals.models import Employer, Referral, Service, Vacancy
    from registry.registration.models import Registration
    from registry.slips.models import Revocation, SigningKey, SlipPrint

    # Order matters when a batch holds rows that refer to each other: parents first.
    return {
        entity.name: entity
        for entity in (
            Entity("office", Office, pushable=False, pullable=True),
            Entity("app_user", User, pushable=False, pullable=True),
            Entity("isco_group", IscoGroup, pushable=False, pullable=True),
            Entity("person", Person, pushable=True, pullable=True),
            Entity("registration", Registration, pushable=True, pullable=True),
            # Referral targets are managed at any office or at head office and reach every office; so do
            # referrals, so a vacancy's places are counted across the network.
            Entity("referral_service", Service, pushable=True, pullable=True),
            Entity("employer", Employer, pushable=True, pullable=True),
            # Recruitment agencies and selection steps, like the job orders and referrals they belong to.
            Entity("agency", Agency, pushable=True, pullable=True),
            Entity("vacancy", Vacancy, pushable=True, pullable=True),
            Entity("referral", Referral, pushable=True, pullable=True),
            Entity("selection_step", SelectionStep, pushable=True, pullable=True),
            # Returns and complaints reach every office: a worker leaves through one post and comes home
            # through another, and an employer's or agency's record counts complaints made anywhere.
            Entity("worker_return", WorkerReturn, pushable=True, pullable=True),
            Entity("complaint", Complaint, pushable=True, pullable=True),
            Entity("complaint_change", ComplaintChange, pushable=True, pullable=True),
            # Offices report their audit trail to central; other offices' trails never travel to an office.
            Entity("audit_event", AuditEvent, pushable=True, pullable=False),
            # Slips: every office's public keys and revocations reach every office, so any office checks any
            # slip offline; printed slips too, so a number and short code typed at /verify are found anywhere.
            Entity("slip_signing_key", SigningKey, pushable=True, pullable=True, owner_only=True),
            Entity("slip_print", SlipPrint, pushable=True, pullable=True),
            Entity("slip_revocation", Revocation, pushable=True, pullable=True),
        )
    }


_ENTITIES = None


def entities():
    global _ENTITIES
    if _ENTITIES is None:
        _ENTITIES = _registry()
    return _ENTITIES


def entity_named(name, *, pushed=False):
    entity = entities().get(name)
    if entity is None:
        raise PayloadError(f"{name!r} is not a table that syncs")
    if pushed and not entity.pushable:
        raise PayloadError(f"offices may not send changes to {name!r}")
    return entity


def _parse(column, value):
    kind = column.type
    name = column.name
    if value is None:
        if not column.nullable:
            raise PayloadError(f"column {name!r} may not be null")
        return None
    if isinstance(kind, Uuid):
        try:
            return uuid.UUID(value) if isinstance(value, str) else _wrong(name, "a UUID string")
        except ValueError:
            _wrong(name, "a UUID string")
    if isinstance(kind, UTCDateTime):
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else _wrong(name, "an ISO 8601 timestamp")
        except ValueError:
            _wrong(name, "an ISO 8601 timestamp")
        if parsed.tzinfo is None:
            _wrong(name, "a timestamp with a UTC offset")
        try:
            parsed.astimezone(timezone.utc)  # stored in UTC, which can fall outside years 1 to 9999
        except OverflowError:
            _wrong(name, "a timestamp between the years 1 and 9999 in UTC")
        return parsed
    if isinstance(kind, Date):
        try:
            return date.fromisoformat(value) if isinstance(value, str) else _wrong(name, "an ISO 8601 date")
        except ValueError:
            _wrong(name, "an ISO 8601 date")
    if isinstance(kind, Boolean):
        return value if isinstance(value, bool) else _wrong(name, "true or false")
    if isinstance(kind, Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            _wrong(name, "an integer")
        bound = 2**63 if isinstance(kind, BigInteger) else 2**31  # what the column holds on PostgreSQL
        if not -bound <= value < bound:
            raise PayloadError(f"column {name!r} is out of range")
        return value
    if isinstance(kind, String):
        if not isinstance(value, str):
            _wrong(name, "a string")
        if not _storable(value):
            raise PayloadError(f"column {name!r} holds a NUL or an unpaired surrogate, which no database stores")
        if kind.length and len(value) > kind.length:
            raise PayloadError(f"column {name!r} is longer than {kind.length} characters")
        return value
    if isinstance(kind, JSON):
        return value if isinstance(value, (list, dict)) else _wrong(name, "a JSON list or object")
    raise PayloadError(f"column {name!r} has a type that cannot travel")  # a new column type: extend here


def _storable(text):
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        return False
    try:
        text.encode()  # a lone surrogate such as "\ud800" (valid as a JSON escape) is not UTF-8
    except UnicodeEncodeError:
        return False
    return True


def _wrong(name, expected):
    raise PayloadError(f"column {name!r} must be {expected}")


def parse_payload(entity, payload):
    """Check a row's JSON against the model; return column values ready to write."""
    if not isinstance(payload, dict):
        raise PayloadError("payload must be a JSON object")
    columns = entity.columns
    if payload.keys() != columns.keys():
        unknown = sorted(set(payload) - set(columns))
        if unknown:
            raise PayloadError(f"unknown column(s) for {entity.name}: {', '.join(unknown)}")
        missing = sorted(name for name in columns if name not in payload)
        if missing:
            raise PayloadError(f"missing column(s) for {entity.name}: {', '.join(missing)}")
    return {name: _parse(column, payload[name]) for name, column in columns.items()}
