"""Recruitment agencies and their licences. Supervisors and administrators manage them, like employers: a
supervisor changes those added at their own office, an administrator any. Services add and flush; the
request or command commits."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from registry.audit.services import record_event
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.recruitment.models import AGENCY_STATUSES, Agency
from registry.referrals.models import Vacancy
from registry.referrals.targets import _changes, _check_version, _email, _phone, _place, _text, check_may_manage


@dataclass
class AgencyData:
    name: str = ""
    licence_number: str = ""
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    status: str = "active"
    country: str = "ZW"
    subdivision: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    contact_name: str = ""


def _agency_values(data, agency=None):
    errors = {}
    values = {
        "name": _text(errors, "name", data.name, 160, required="Give the agency's name."),
        "licence_number": _text(errors, "licence_number", data.licence_number, 64,
                                required="Give the number of the agency's licence."),
        "address": _text(errors, "address", data.address, 255),
        "contact_name": _text(errors, "contact_name", data.contact_name, 160),
    }
    if data.status not in AGENCY_STATUSES:
        errors["status"] = ["Choose the licence's state: active, suspended or revoked."]
    values["status"] = data.status
    valid_from, valid_until = data.licence_valid_from, data.licence_valid_until
    if not isinstance(valid_from, date):
        errors["licence_valid_from"] = ["Enter the day the licence was granted (YYYY-MM-DD)."]
    if not isinstance(valid_until, date):
        errors["licence_valid_until"] = ["Enter the day the licence expires (YYYY-MM-DD)."]
    elif isinstance(valid_from, date) and valid_until < valid_from:
        errors["licence_valid_until"] = ["The licence cannot expire before it was granted."]
    values.update(licence_valid_from=valid_from, licence_valid_until=valid_until)
    values["country"], values["subdivision"] = _place(errors, data.country, data.subdivision)
    values["phone"] = _phone(errors, data.phone, data.country)
    values["email"] = _email(errors, data.email)
    number = values["licence_number"]
    if number and "licence_number" not in errors:
        same = select(Agency).where(func.upper(Agency.licence_number) == number.upper(),
                                    Agency.deleted_at.is_(None))
        if agency is not None:
            same = same.where(Agency.id != agency.id)
        other = db.session.scalars(same).first()
        if other is not None:
            errors["licence_number"] = [f"{other.name} already holds licence {other.licence_number}."]
    if errors:
        raise ValidationFailed(errors)
    return values


def create_agency(data, actor):
    """Add a recruitment agency with its licence."""
    check_may_manage(actor)
    agency = Agency(**_agency_values(data))
    db.session.add(agency)
    db.session.flush()
    record_event("agency.created", agency, actor=actor, details={
        "name": agency.name, "licence_number": agency.licence_number, "status": agency.status})
    return agency


def update_agency(agency, data, expected_version, actor):
    """Change an agency: its licence renewed, suspended or revoked, its contact details."""
    check_may_manage(actor, agency)
    _check_version(agency, expected_version)
    before, after = _changes(agency, _agency_values(data, agency))
    if after:
        db.session.flush()
        record_event("agency.updated", agency, actor=actor, details={"before": before, "after": after})
    return agency


def list_agencies():
    return db.session.scalars(select(Agency).where(Agency.deleted_at.is_(None)).order_by(Agency.name)).all()


def get_agency(agency_id):
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_deleted:
        raise NotFound("There is no such recruitment agency.")
    return agency


def agency_orders(agency):
    """The job orders an agency recruits for, newest start first."""
    return db.session.scalars(select(Vacancy).where(Vacancy.agency_id == agency.id, Vacancy.deleted_at.is_(None))
                              .order_by(Vacancy.starts_on.desc())).all()
