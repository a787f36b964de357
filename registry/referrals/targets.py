"""Services, employers and vacancies: the places a referral sends a migrant. Supervisors and administrators
manage them; a supervisor changes those made at their own office, an administrator any. Services add and
flush; the request or command commits."""
import uuid
from dataclasses import dataclass
from datetime import date

import pycountry
from sqlalchemy import func, select

from registry.audit.services import record_event
from registry.codes.classifications import ISIC_SECTIONS
from registry.codes.geography import is_country, is_subdivision_of
from registry.codes.isco import is_unit_group
from registry.core.access import ADMIN, SUPERVISOR
from registry.core.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.people.phones import normalise_phone
from registry.recruitment.orders import publish_blockers, terms_values, verification_stamp, withdraw_if_unpublishable
from registry.recruitment.models import Agency
from registry.referrals.models import (
    SERVICE_KINDS, VACANCY_STATUSES, WAGE_PERIODS, Employer, Referral, Service, Vacancy,
)

MAX_PLACES = 10_000


def check_may_manage(actor, record=None):
    """Supervisors and admins add targets; a supervisor changes only those made at their own office."""
    if actor.role not in (SUPERVISOR, ADMIN):
        raise Forbidden("Only supervisors and administrators manage services, employers and vacancies.")
    if record is not None and actor.role != ADMIN and record.origin_office != actor.office_code:
        raise Forbidden(f"This was added at {record.origin_office}; a supervisor there or an administrator "
                        "changes it.")


def may_manage(actor, record=None):
    try:
        check_may_manage(actor, record)
    except Forbidden:
        return False
    return True


def _check_version(record, expected_version):
    if record.version != expected_version:
        raise StaleVersion("Someone changed this record since you opened it. Reload it and enter your change "
                           "again.")


def _text(errors, name, value, limit, required=None):
    """Whitespace tidied; None when empty. `required`: the message when it must be given."""
    text = " ".join((value or "").split())
    if not text and required:
        errors[name] = [required]
    elif len(text) > limit:
        errors[name] = [f"Keep this under {limit} characters."]
    return text or None


def _lines(errors, name, value, limit):
    """Several lines (what to bring), each tidied, blank lines dropped."""
    lines = [" ".join(line.split()) for line in (value or "").splitlines()]
    text = "\n".join(line for line in lines if line)
    if len(text) > limit:
        errors[name] = [f"Keep this under {limit} characters."]
    return text or None


def _place(errors, country, subdivision):
    if not is_country(country):
        errors["country"] = ["Choose a country (ISO 3166-1)."]
    elif subdivision and not is_subdivision_of(subdivision, country):
        errors["subdivision"] = [f"{subdivision} is not a province or region of {country}."]
    return country, subdivision or None


def _phone(errors, value, country):
    if not (value or "").strip():
        return None
    try:
        return normalise_phone(value, country if is_country(country) else "ZW")
    except ValueError as exc:
        errors["phone"] = [str(exc)]
        return None


def _email(errors, value):
    """An e-mail address in its normal form, or None; the reason it is refused goes in `errors`."""
    # Imported here: email_validator loads the IDNA tables, a tenth of a second every command would pay.
    from email_validator import EmailNotValidError, validate_email

    email = (value or "").strip()
    if not email:
        return None
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        errors["email"] = [str(exc)]
    if len(email) > 160:
        errors["email"] = ["Keep this under 160 characters."]
    return email


def _changes(record, values):
    """Set the values that differ; return (before, after) of those."""
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(record, name)
        if old != value:
            before[name], after[name] = _plain(old), _plain(value)
            setattr(record, name, value)
    return before, after


def _plain(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    return value.isoformat() if isinstance(value, date) else value


# Services -----------------------------------------------------------------------------------------------

@dataclass
class ServiceData:
    kind: str = ""
    name: str = ""
    address: str = ""
    country: str = "ZW"
    subdivision: str = ""
    phone: str = ""
    hours: str = ""
    what_to_bring: str = ""
    active: bool = True


def _service_values(data):
    errors = {}
    if data.kind not in SERVICE_KINDS:
        errors["kind"] = ["Choose what kind of service this is."]
    values = {
        "kind": data.kind,
        "name": _text(errors, "name", data.name, 160, required="Give the service's name."),
        "address": _text(errors, "address", data.address, 255, required="Give the address people go to."),
        "hours": _text(errors, "hours", data.hours, 160),
        "what_to_bring": _lines(errors, "what_to_bring", data.what_to_bring, 500),
        "active": bool(data.active),
    }
    values["country"], values["subdivision"] = _place(errors, data.country, data.subdivision)
    values["phone"] = _phone(errors, data.phone, data.country)
    if errors:
        raise ValidationFailed(errors)
    return values


def create_service(data, actor):
    check_may_manage(actor)
    service = Service(**_service_values(data))
    db.session.add(service)
    db.session.flush()
    record_event("service.created", service, actor=actor, details={"kind": service.kind, "name": service.name})
    return service


def update_service(service, data, expected_version, actor):
    check_may_manage(actor, service)
    _check_version(service, expected_version)
    before, after = _changes(service, _service_values(data))
    if after:
        db.session.flush()
        record_event("service.updated", service, actor=actor, details={"before": before, "after": after})
    return service


def list_services(kind=None, active_only=False):
    query = select(Service).where(Service.deleted_at.is_(None)).order_by(Service.kind, Service.name)
    if kind:
        query = query.where(Service.kind == kind)
    if active_only:
        query = query.where(Service.active.is_(True))
    return db.session.scalars(query).all()


def get_service(service_id):
    service = db.session.get(Service, service_id)
    if service is None or service.is_deleted:
        raise NotFound("There is no such service.")
    return service


# Employers ----------------------------------------------------------------------------------------------

@dataclass
class EmployerData:
    name: str = ""
    country: str = "ZA"
    subdivision: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    contact_name: str = ""
    registration_number: str = ""
    active: bool = True
    sector: str = ""  # ISIC Rev.4 section
    verified: bool = False  # the labour office checked the employer; who and when are stamped


def _employer_values(data):
    errors = {}
    values = {
        "name": _text(errors, "name", data.name, 160, required="Give the employer's name."),
        "address": _text(errors, "address", data.address, 255),
        "contact_name": _text(errors, "contact_name", data.contact_name, 160),
        "registration_number": _text(errors, "registration_number", data.registration_number, 64),
        "active": bool(data.active),
    }
    values["country"], values["subdivision"] = _place(errors, data.country, data.subdivision)
    values["phone"] = _phone(errors, data.phone, data.country)
    values["email"] = _email(errors, data.email)
    sector = (data.sector or "").strip().upper()
    if sector and sector not in ISIC_SECTIONS:
        errors["sector"] = ["Choose the employer's sector (an ISIC Rev.4 section, A to U)."]
    values["sector"] = sector or None
    if errors:
        raise ValidationFailed(errors)
    return values


def create_employer(data, actor, today=None):
    check_may_manage(actor)
    employer = Employer(**_employer_values(data))
    verification_stamp(employer, data.verified, actor, today or date.today())
    db.session.add(employer)
    db.session.flush()
    record_event("employer.created", employer, actor=actor, details={"name": employer.name})
    return employer


def update_employer(employer, data, expected_version, actor, today=None):
    check_may_manage(actor, employer)
    _check_version(employer, expected_version)
    before, after = _changes(employer, _employer_values(data))
    was = employer.verified_on
    verification_stamp(employer, data.verified, actor, today or date.today())
    if employer.verified_on != was:
        before["verified_on"], after["verified_on"] = _plain(was), _plain(employer.verified_on)
    if after:
        db.session.flush()
        record_event("employer.updated", employer, actor=actor, details={"before": before, "after": after})
    return employer


def list_employers(active_only=False):
    query = select(Employer).where(Employer.deleted_at.is_(None)).order_by(Employer.name)
    if active_only:
        query = query.where(Employer.active.is_(True))
    return db.session.scalars(query).all()


def get_employer(employer_id):
    employer = db.session.get(Employer, employer_id)
    if employer is None or employer.is_deleted:
        raise NotFound("There is no such employer.")
    return employer


# Vacancies ----------------------------------------------------------------------------------------------

@dataclass
class VacancyData:
    title: str = ""
    occupation_code: str = ""
    country: str = "ZA"
    subdivision: str = ""
    address: str = ""
    places: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    closes_on: date | None = None
    wage_amount: int | None = None
    wage_currency: str = ""
    wage_period: str = ""
    what_to_bring: str = ""
    # Recruitment terms of the job order (registry.recruitment.orders.terms_values).
    agency_id: uuid.UUID | str | None = None
    skills_required: str = ""
    certificates_required: str = ""
    season: str = ""
    duration_months: int | None = None
    housing_provided: bool = False
    transport_provided: bool = False
    provisions_note: str = ""
    worker_fee_amount: int | None = None
    worker_fee_currency: str = ""
    draft: bool = False  # on creation: keep it from job seekers until it is vetted and published


def is_currency(code):
    return bool(code) and pycountry.currencies.get(alpha_3=code) is not None


def _vacancy_values(data, today, current_agency_id=None):
    errors = {}
    values = {
        "title": _text(errors, "title", data.title, 160, required="Say what the job is, e.g. Citrus pickers."),
        "address": _text(errors, "address", data.address, 255),
        "what_to_bring": _lines(errors, "what_to_bring", data.what_to_bring, 500),
    }
    code = (data.occupation_code or "").strip()
    if not is_unit_group(code):
        errors["occupation_code"] = ["Choose the occupation: an ISCO-08 unit group (4 digits, e.g. 9211)."]
    values["occupation_code"] = code
    values["country"], values["subdivision"] = _place(errors, data.country, data.subdivision)
    places = data.places
    if not isinstance(places, int) or isinstance(places, bool) or not 1 <= places <= MAX_PLACES:
        errors["places"] = [f"Enter how many workers are wanted: a whole number from 1 to {MAX_PLACES:,}."]
    values["places"] = places
    if not isinstance(data.starts_on, date):
        errors["starts_on"] = ["Enter the day the work starts (YYYY-MM-DD)."]
    elif data.ends_on and data.ends_on < data.starts_on:
        errors["ends_on"] = ["The work cannot end before it starts."]
    if data.closes_on and isinstance(data.ends_on, date) and data.closes_on > data.ends_on:
        errors["closes_on"] = ["Candidates cannot be referred after the work has ended."]
    values.update(starts_on=data.starts_on, ends_on=data.ends_on, closes_on=data.closes_on)
    amount, currency, period = data.wage_amount, (data.wage_currency or "").strip().upper(), data.wage_period or ""
    if amount is not None:
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**9:
            errors["wage_amount"] = ["Enter the wage as a whole number above 0."]
        if not is_currency(currency):
            errors["wage_currency"] = ["Choose the wage's currency (ISO 4217, e.g. ZAR)."]
        if period not in WAGE_PERIODS:
            errors["wage_period"] = ["Say what the wage is paid for: an hour, a day, a week or a month."]
    elif currency or period:
        errors["wage_amount"] = ["Enter the wage, or leave currency and period empty."]
    values.update(wage_amount=amount, wage_currency=currency or None, wage_period=period or None)
    values.update(terms_values(data, errors, today, current_agency_id))
    if errors:
        raise ValidationFailed(errors)
    return values


def create_vacancy(employer, data, actor, today=None):
    """Add a vacancy (job order). It opens at once unless asked to stay a draft or it breaks a
    fair-recruitment rule (a fee charged to the worker): then it is a draft, and the page says why."""
    check_may_manage(actor)
    if employer.is_deleted or not employer.active:
        raise ValidationFailed({"employer": [f"{employer.name} is no longer active: reactivate it first."]})
    values = _vacancy_values(data, today or date.today())
    agency = db.session.get(Agency, values["agency_id"]) if values["agency_id"] else None
    vacancy = Vacancy(employer_id=employer.id, employer=employer, agency=agency, contract_vetted=False, **values)
    blockers = publish_blockers(vacancy)
    vacancy.status = "draft" if data.draft or blockers else "open"
    db.session.add(vacancy)
    db.session.flush()
    record_event("vacancy.created", vacancy, actor=actor, details={
        "employer": employer.name, "title": vacancy.title, "places": vacancy.places, "status": vacancy.status,
        "not_published_because": "; ".join(blockers) or None})
    return vacancy


def update_vacancy(vacancy, data, expected_version, actor, today=None):
    check_may_manage(actor, vacancy)
    _check_version(vacancy, expected_version)
    values = _vacancy_values(data, today or date.today(), current_agency_id=vacancy.agency_id)
    placed = placed_count(vacancy)
    if values["places"] < placed:
        raise ValidationFailed({"places": [
            f"{placed} people are already placed in this vacancy: it cannot have fewer places."]})
    before, after = _changes(vacancy, values)
    if "agency_id" in after:
        vacancy.agency = db.session.get(Agency, vacancy.agency_id) if vacancy.agency_id else None
    if after:
        db.session.flush()
        record_event("vacancy.updated", vacancy, actor=actor, details={"before": before, "after": after})
        withdraw_if_unpublishable(vacancy, actor)
    return vacancy


def set_vacancy_status(vacancy, status, expected_version, actor):
    """Publish a job order (open), close it (no more referrals), open it again, or take it back to draft."""
    check_may_manage(actor, vacancy)
    _check_version(vacancy, expected_version)
    if status not in VACANCY_STATUSES:
        raise ValidationFailed({"status": [f"Unknown vacancy status {status!r}."]})
    blockers = publish_blockers(vacancy) if status == "open" else []
    if blockers:
        raise ValidationFailed({"status": [f"{vacancy.title} cannot be published: {'; '.join(blockers)}."]})
    if vacancy.status != status:
        before, vacancy.status = vacancy.status, status
        db.session.flush()
        record_event("vacancy.status_changed", vacancy, actor=actor, details={"before": before, "after": status})
    return vacancy


def get_vacancy(vacancy_id):
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.is_deleted:
        raise NotFound("There is no such vacancy.")
    return vacancy


def placed_count(vacancy):
    return db.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.vacancy_id == vacancy.id, Referral.status == "placed", Referral.deleted_at.is_(None))) or 0


def placed_counts(vacancy_ids):
    """{vacancy id: people placed} for many vacancies in one query."""
    if not vacancy_ids:
        return {}
    rows = db.session.execute(
        select(Referral.vacancy_id, func.count()).where(
            Referral.vacancy_id.in_(list(vacancy_ids)), Referral.status == "placed", Referral.deleted_at.is_(None))
        .group_by(Referral.vacancy_id)).all()
    return dict(rows)


def vacancy_closed_reason(vacancy, today, placed=None):
    """Why no one can be referred to this vacancy today, or None when it takes referrals."""
    if vacancy.is_deleted:
        return "it was removed"
    if vacancy.status == "closed":
        return "it is closed"
    if vacancy.status == "draft":
        return "it is a draft, not yet published"
    if vacancy.closes_on and vacancy.closes_on < today:
        return f"it closed for referrals on {vacancy.closes_on.isoformat()}"
    if vacancy.ends_on and vacancy.ends_on < today:
        return f"the work ended on {vacancy.ends_on.isoformat()}"
    if not vacancy.employer.active:
        return f"{vacancy.employer.name} is no longer an active employer"
    if vacancy.agency_id is not None:
        # An expired, suspended or revoked licence blocks new referrals through the agency (issue 8).
        problem = vacancy.agency.licence_problem(today)
        if problem:
            return f"{problem}; no one is referred through an agency without a valid licence"
    placed = placed_count(vacancy) if placed is None else placed
    if placed >= vacancy.places:
        return f"all its {vacancy.places} places are filled"
    return None


def list_vacancies(open_only=False, country="", occupation="", today=None):
    """Vacancies with their placed counts: [(vacancy, placed)], newest start first."""
    today = today or date.today()
    query = (select(Vacancy).join(Vacancy.employer).where(Vacancy.deleted_at.is_(None))
             .order_by(Vacancy.starts_on.desc(), Employer.name))
    if country:
        query = query.where(Vacancy.country == country)
    if occupation:
        code = occupation.strip()
        query = query.where(Vacancy.occupation_code.between(code.ljust(4, "0"), code.ljust(4, "9")))
    if open_only:
        query = query.where(Vacancy.status == "open")
    vacancies = db.session.scalars(query).all()
    counts = placed_counts([v.id for v in vacancies])
    rows = [(vacancy, counts.get(vacancy.id, 0)) for vacancy in vacancies]
    if open_only:
        rows = [(v, placed) for v, placed in rows if vacancy_closed_reason(v, today, placed) is None]
    return rows
