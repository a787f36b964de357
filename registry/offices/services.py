"""Offices: create and change them. Services add and flush; the caller commits."""
from dataclasses import dataclass

from sqlalchemy import select

from registry.audit.services import record_event
from registry.codes.geography import is_country, is_subdivision_of
from registry.config import OFFICE_CODE_RE
from registry.core.access import refuse_if_managed_centrally
from registry.core.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from registry.core.ids import stable_id
from registry.extensions import db
from registry.offices.models import OFFICE_KINDS, Office
from registry.people.phones import normalise_phone
from registry.slips.labels import LANGUAGES


@dataclass
class OfficeData:
    code: str
    name: str
    kind: str
    country: str
    subdivision: str | None = None
    address: str | None = None
    phone: str | None = None
    default_destination: str | None = None
    active: bool = True
    slip_language: str | None = None
    helpline: str | None = None


def _validated(data):
    errors = {}
    code = (data.code or "").strip().upper()
    if not OFFICE_CODE_RE.match(code):
        errors["code"] = ["Use 2 to 5 capital letters, e.g. BBR."]
    if not (data.name or "").strip():
        errors["name"] = ["Give the office's name."]
    if data.kind not in OFFICE_KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(OFFICE_KINDS)}."]
    if not is_country(data.country):
        errors["country"] = ["Choose a country (ISO 3166-1)."]
    if data.subdivision and not is_subdivision_of(data.subdivision, data.country):
        errors["subdivision"] = [f"{data.subdivision} is not a subdivision of {data.country}."]
    if data.default_destination and not is_country(data.default_destination):
        errors["default_destination"] = ["Choose a country (ISO 3166-1)."]
    if data.slip_language and data.slip_language not in LANGUAGES:
        errors["slip_language"] = [f"Slips can be printed in {', '.join(LANGUAGES)}; not {data.slip_language!r}."]
    if len(_helpline(data.helpline) or "") > 500:
        errors["helpline"] = ["Keep the helplines under 500 characters."]
    phone = None
    if data.phone:
        try:
            phone = normalise_phone(data.phone, data.country)
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if errors:
        raise ValidationFailed(errors)
    return code, phone


def _helpline(text):
    """One number or address a line, without blank lines or stray spaces."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line) or None


def get_office(code):
    office = db.session.scalar(select(Office).where(Office.code == (code or "").upper()))
    if office is None:
        raise NotFound(f"No office with code {code!r}.")
    return office


def list_offices(include_inactive=True):
    query = select(Office).where(Office.deleted_at.is_(None)).order_by(Office.code)
    if not include_inactive:
        query = query.where(Office.active.is_(True))
    return db.session.scalars(query).all()


def create_office(data, actor=None):
    """Add an office; its code is fixed for ever (it is part of every registration number)."""
    refuse_if_managed_centrally()
    code, phone = _validated(data)
    if db.session.scalar(select(Office.id).where(Office.code == code)):
        raise ValidationFailed({"code": [f"Office {code} already exists."]})
    office = Office(
        id=stable_id("office", code), code=code, name=data.name.strip(), kind=data.kind, country=data.country,
        subdivision=data.subdivision or None, address=(data.address or "").strip() or None, phone=phone,
        default_destination=data.default_destination or None, active=data.active,
        slip_language=data.slip_language or None, helpline=_helpline(data.helpline),
    )
    db.session.add(office)
    db.session.flush()
    record_event("office.created", office, actor=actor, details={"code": code})
    return office


def update_office(office, data, expected_version, actor=None):
    refuse_if_managed_centrally()
    if office.version != expected_version:
        raise StaleVersion("Someone changed this office since you opened it. Reload and try again.")
    code, phone = _validated(data)
    if code != office.code:
        raise DomainError("An office's code never changes: it is part of its registration numbers.", field="code")
    before = {"name": office.name, "active": office.active, "address": office.address}
    office.name, office.kind, office.country = data.name.strip(), data.kind, data.country
    office.subdivision = data.subdivision or None
    office.address = (data.address or "").strip() or None
    office.phone = phone
    office.default_destination = data.default_destination or None
    office.active = data.active
    office.slip_language = data.slip_language or None
    office.helpline = _helpline(data.helpline)
    db.session.flush()
    record_event("office.updated", office, actor=actor, details={
        "before": before, "after": {"name": office.name, "active": office.active, "address": office.address},
    })
    return office
