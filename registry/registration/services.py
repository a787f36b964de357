"""Register, change and list registrations. Services add and flush; the request or command commits."""
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager

from registry.audit.services import record_event
from registry.codes.classifications import ISIC_SECTIONS
from registry.codes.geography import is_country, is_subdivision_of
from registry.codes.isco import is_unit_group
from registry.core.access import ADMIN, can_change_office_records
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.core.ids import new_id
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import MAX_AGE, MIN_AGE, age_on, create_person
from registry.registration.models import STATUSES, TRANSITIONS, Registration
from registry.registration.numbering import next_registration_number, parse_registration_number

MAX_TEXT = 500


@dataclass
class RegistrationData:
    """What an officer enters about one migration intention, before validation."""

    destination_country: str = ""
    destination_subdivision: str = ""
    intended_sector: str = ""
    occupation_code: str = ""
    other_occupation_codes: list = field(default_factory=list)
    skills: str = ""
    certificates: str = ""
    prior_learning_recognised: bool = False
    years_experience: int | None = None
    has_job_offer: bool = False
    employer_name: str = ""
    agency_name: str = ""


def _text(value, limit=MAX_TEXT):
    text = " ".join((value or "").split())
    return text or None, len(text) > limit


def validate_registration(data):
    """Return the normalised column values, or raise ValidationFailed with a message for every bad field."""
    errors, values = {}, {}
    if not is_country(data.destination_country):
        errors["destination_country"] = ["Choose the country of destination."]
    values["destination_country"] = data.destination_country
    values["destination_subdivision"] = data.destination_subdivision or None
    if data.destination_subdivision and not is_subdivision_of(data.destination_subdivision, data.destination_country):
        errors["destination_subdivision"] = [
            f"{data.destination_subdivision} is not a province or region of {data.destination_country}."
        ]
    if data.intended_sector and data.intended_sector not in ISIC_SECTIONS:
        errors["intended_sector"] = ["Choose an ISIC Rev.4 section (A to U)."]
    values["intended_sector"] = data.intended_sector or None
    occupation = (data.occupation_code or "").strip()
    if not occupation:
        errors["occupation_code"] = ["Choose the occupation sought (an ISCO-08 unit group)."]
    elif not is_unit_group(occupation):
        errors["occupation_code"] = [f"{occupation!r} is not an ISCO-08 unit group (4 digits, e.g. 9211)."]
    values["occupation_code"] = occupation
    others = sorted({code.strip() for code in data.other_occupation_codes if code.strip()} - {occupation})
    bad = [code for code in others if not is_unit_group(code)]
    if bad:
        errors["other_occupation_codes"] = [f"Not ISCO-08 unit groups: {', '.join(bad)}."]
    values["other_occupation_codes"] = others
    for name in ("skills", "certificates"):
        values[name], too_long = _text(getattr(data, name))
        if too_long:
            errors[name] = [f"Keep this under {MAX_TEXT} characters."]
    for name in ("employer_name", "agency_name"):
        values[name], too_long = _text(getattr(data, name), 160)
        if too_long:
            errors[name] = ["Keep this under 160 characters."]
    years = data.years_experience
    if years is not None and not (isinstance(years, int) and 0 <= years <= 65):
        errors["years_experience"] = ["Enter whole years between 0 and 65."]
    values["years_experience"] = years
    values["prior_learning_recognised"] = bool(data.prior_learning_recognised)
    values["has_job_offer"] = bool(data.has_job_offer)
    if values["has_job_offer"] and not values["employer_name"]:
        errors["employer_name"] = ["Name the employer who made the job offer."]
    if errors:
        raise ValidationFailed(errors)
    return values


def _check_may_register(actor):
    office = current_app.config["OFFICE_CODE"]
    if actor.role != ADMIN and (actor.role not in ("officer", "supervisor") or actor.office_code != office):
        raise Forbidden(f"Only officers of {office} register people at this office's system.")
    return office


def register(actor, registration_data, person=None, person_data=None, override_duplicates=False, today=None):
    """Register a migration intention for an existing person, or for a new person created with it.

    Everything is checked before anything is added, so a refusal leaves nothing behind.
    """
    today = today or date.today()
    office = _check_may_register(actor)
    values = validate_registration(registration_data)
    if person is None:
        if person_data is None:
            raise DomainError("Say who is registering: an existing person or the new person's details.")
        person = create_person(person_data, actor, override_duplicates=override_duplicates, today=today)
    elif person.is_deleted:
        raise NotFound("That person's record was removed.")
    else:
        age = age_on(person.date_of_birth, today)
        if not MIN_AGE <= age <= MAX_AGE:
            raise ValidationFailed({"date_of_birth": [
                f"{person.full_name} is {age} today: registration is for people aged {MIN_AGE} to {MAX_AGE}."]})
    # Taking the number is the first write (on SQLite, it takes the write lock): everything before it only
    # reads, and nothing after it waits on anything but the commit. Without autoflush here the new person
    # is written with the registration, in one flush at commit, instead of in a flush of its own.
    with db.session.no_autoflush:
        number = next_registration_number(office, today.year)
    registration = Registration(
        id=new_id(), version=1, registration_number=str(number), person_id=person.id, office_code=office, registered_on=today,
        registered_by=actor.username, status="registered", status_changed_on=today, **values,
    )
    db.session.add(registration)
    record_event("registration.created", registration, actor=actor, details={"number": registration.registration_number})
    return registration


def _check_may_change(registration, actor, expected_version):
    if not can_change_office_records(actor, registration.office_code):
        raise Forbidden(
            f"{registration.registration_number} belongs to {registration.office_code}; only that office can change it."
        )
    if registration.version != expected_version:
        raise StaleVersion("Someone changed this registration since you opened it. Reload it and enter your change again.")


def update_registration(registration, data, expected_version, actor):
    _check_may_change(registration, actor, expected_version)
    values = validate_registration(data)
    before, after = {}, {}
    for name, value in values.items():
        if getattr(registration, name) != value:
            before[name], after[name] = getattr(registration, name), value
            setattr(registration, name, value)
    if not after:
        return registration, False
    db.session.flush()
    record_event("registration.updated", registration, actor=actor, details={"before": before, "after": after})
    return registration, True


def change_status(registration, new_status, on, expected_version, actor, today=None):
    """Move a registration to another status on a given date, following TRANSITIONS."""
    today = today or date.today()
    _check_may_change(registration, actor, expected_version)
    if new_status not in STATUSES:
        raise ValidationFailed({"status": [f"Unknown status {new_status!r}."]})
    if new_status not in TRANSITIONS[registration.status]:
        allowed = ", ".join(STATUSES[s].lower() for s in TRANSITIONS[registration.status]) or "nothing"
        raise ValidationFailed({"status": [
            f"A {registration.status} registration can become {allowed}, not {new_status}."
        ]})
    if new_status == "returned":
        # A return without its record would count among returning migrant workers with no day, reason or
        # wages owed behind it, and never leave the overdue-return list.
        raise ValidationFailed({"status": [
            f"Record the worker's return (Returns, or /registrations/{registration.registration_number}/return): "
            "it keeps the day, the reason and any wages owed, and makes the registration returned."
        ]})
    if not isinstance(on, date):
        raise ValidationFailed({"on": ["Enter the date of the change as YYYY-MM-DD."]})
    if on < registration.registered_on or on > today:
        raise ValidationFailed({"on": [
            f"The date must be between the registration date ({registration.registered_on}) and today."
        ]})
    before = registration.status
    registration.status, registration.status_changed_on = new_status, on
    db.session.flush()
    record_event("registration.status_changed", registration, actor=actor,
                 details={"before": before, "after": new_status, "on": on.isoformat()})
    if new_status == "cancelled":
        _cancel_open_referrals(registration, on, actor)
    return registration


def _cancel_open_referrals(registration, on, actor):
    """A cancelled registration sends nobody anywhere: its open referrals end as cancelled on the same day,
    so no service or employer waits for the person and no list shows them overdue."""
    from registry.referrals.models import Referral  # referrals build on registrations

    # Issued ones, and vacancies still waiting for a decision after the interview; a service the person
    # attended stays attended: it happened.
    waiting = or_(Referral.status == "issued", and_(Referral.status == "attended", Referral.vacancy_id.isnot(None)))
    for referral in db.session.scalars(select(Referral).where(
            Referral.registration_id == registration.id, waiting, Referral.deleted_at.is_(None))):
        before = referral.status
        referral.status, referral.outcome_on, referral.outcome_by = "cancelled", max(on, referral.issued_on), actor.username
        referral.outcome_note = "The registration was cancelled."
        record_event("referral.outcome", referral, actor=actor,
                     details={"before": before, "after": "cancelled", "on": referral.outcome_on.isoformat(),
                              "because": "registration cancelled"})


def get_registration(number_text):
    """Find a registration by its number; a mistyped number is refused by its check character first."""
    number = parse_registration_number(number_text)
    registration = db.session.scalar(
        select(Registration).where(Registration.registration_number == str(number))
    )
    if registration is None or registration.is_deleted:
        raise NotFound(f"No registration {number} in this office's database.")
    return registration


def latest_registrations(person_ids):
    """{person id: (registration_number, status, office_code, registered_on)} of each person's most recent
    live registration, in one query: what an officer checking a likely duplicate wants to see."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(Registration.person_id, Registration.registration_number, Registration.status,
               Registration.office_code, Registration.registered_on)
        .where(Registration.person_id.in_(list(person_ids)), Registration.deleted_at.is_(None))
        .order_by(Registration.registered_on.desc(), Registration.registration_number.desc()))
    latest = {}
    for row in rows:
        latest.setdefault(row.person_id, row)
    return latest


@dataclass
class RegistrationFilters:
    registered_from: date | None = None
    registered_to: date | None = None
    destination_country: str = ""
    occupation: str = ""  # an ISCO-08 code at any level: 9 lists all elementary occupations
    status: str = ""
    sex: str = ""
    office_code: str = ""


def filtered_registrations(filters):
    """A select of registrations (with their person loaded) matching the filters, newest first."""
    if filters.registered_from and filters.registered_to and filters.registered_to < filters.registered_from:
        raise ValidationFailed({"registered_to": ["The end of the date range is before its start."]})
    query = (
        select(Registration)
        .join(Registration.person)
        .options(contains_eager(Registration.person))
        .where(Registration.deleted_at.is_(None))
    )
    if filters.registered_from:
        query = query.where(Registration.registered_on >= filters.registered_from)
    if filters.registered_to:
        query = query.where(Registration.registered_on <= filters.registered_to)
    if filters.destination_country:
        query = query.where(Registration.destination_country == filters.destination_country)
    if filters.occupation:
        code = filters.occupation.strip()
        if len(code) == 4:
            query = query.where(Registration.occupation_code == code)
        else:
            # Stored codes are 4-digit unit groups, so a prefix is a range of 4-digit strings; unlike an upper
            # bound such as '9:', that orders the same under every collation (en_US, ICU, C).
            query = query.where(Registration.occupation_code.between(code.ljust(4, "0"), code.ljust(4, "9")))
    if filters.status:
        query = query.where(Registration.status == filters.status)
    if filters.sex:
        query = query.where(Person.sex == filters.sex)
    if filters.office_code:
        query = query.where(Registration.office_code == filters.office_code)
    return query.order_by(Registration.registered_on.desc(), Registration.registration_number.desc())


def office_summary(office_code=None):
    """Counts with no personal data: registrations by status, by month and by destination."""
    base = select(Registration).where(Registration.deleted_at.is_(None))
    if office_code:
        base = base.where(Registration.office_code == office_code)
    sub = base.subquery()
    by_status = db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all()
    by_destination = db.session.execute(
        select(sub.c.destination_country, func.count()).group_by(sub.c.destination_country)
        .order_by(func.count().desc()).limit(10)
    ).all()
    month = func.substr(func.cast(sub.c.registered_on, db.String), 1, 7)
    by_month = db.session.execute(
        select(month, func.count()).group_by(month).order_by(month.desc()).limit(12)
    ).all()
    total = sum(count for _, count in by_status)
    return {"total": total, "by_status": dict(by_status), "by_destination": by_destination, "by_month": by_month[::-1]}
