"""Returns: a worker back from work abroad, recorded at the post on the way home, and the overdue list of
placed workers whose contract has ended but who have not been recorded back.

A return ends the registration that took the worker abroad: its status becomes `returned` on the day of
return, which is what the statistics count as a registered returning migrant worker (registry.statistics,
population "returning"). The return row adds what the registration cannot hold: the reason, wages owed,
what the worker reports, and the referrals to reintegration services made there and then.

Any office's officers record a return (the worker comes home through whichever post is on the way), even
for a registration of another office; the referrals it makes stay the registration's office's to follow up
(docs/recruitment.md, "Returns"). Services add and flush; the request or command commits.
"""
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit.services import record_event
from registry.core.access import PERSONAL_DATA_ROLES
from registry.core.errors import DomainError, Forbidden, ValidationFailed
from registry.core.ids import stable_id
from registry.extensions import db
from registry.recruitment.models import RETURN_REASONS, SelectionStep, WorkerReturn
from registry.referrals.models import Referral, Service, Vacancy
from registry.registration.models import Registration

MAX_NOTE = 500
MAX_WAGES = 10_000_000
# The services a returned worker may be referred to from the return form.
RETURN_SERVICE_KINDS = ("reintegration", "counselling", "trafficking", "medical")
DEFAULT_DAYS_TO_ATTEND = 14


@dataclass
class ReturnData:
    returned_on: date | None = None
    reason: str = ""
    wages_owed_amount: int | None = None
    wages_owed_currency: str = ""
    note: str = ""
    service_ids: list = field(default_factory=list)  # reintegration services to refer the worker to
    due_by: date | None = None  # attend those by


def return_id(registration):
    """The same row for the return of the same registration wherever it is recorded: two posts recording it
    offline meet as a version conflict of one row, never as two returns."""
    return stable_id("worker_return", str(registration.id))


def check_may_record(actor):
    if actor.role not in PERSONAL_DATA_ROLES:
        raise Forbidden("Only labour officers, supervisors and administrators record returns.")


def placement_of(registration):
    """The referral that placed the registration's person in work abroad (the latest), or None."""
    return db.session.scalars(
        select(Referral).where(Referral.registration_id == registration.id, Referral.status == "placed",
                               Referral.vacancy_id.is_not(None), Referral.deleted_at.is_(None))
        .options(selectinload(Referral.vacancy).selectinload(Vacancy.employer),
                 selectinload(Referral.vacancy).selectinload(Vacancy.agency))
        .order_by(Referral.sequence.desc())).first()


def _departures(referral_ids):
    """{referral id: the day its departure step was recorded}."""
    if not referral_ids:
        return {}
    return dict(db.session.execute(select(SelectionStep.referral_id, SelectionStep.done_on).where(
        SelectionStep.referral_id.in_(referral_ids), SelectionStep.step == "departed",
        SelectionStep.deleted_at.is_(None))).all())


def departed_on(registration, placement=None, departures=None):
    """The day the worker left: the departure step, else the placement's day, else the day the registration
    became departed."""
    if placement is not None:
        departures = _departures([placement.id]) if departures is None else departures
        return departures.get(placement.id) or placement.outcome_on or registration.status_changed_on
    return registration.status_changed_on


def _add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def expected_return_on(vacancy, left_on):
    """When the worker is due home: the job order's end date, else the day they left plus its duration in
    months; None when the job order says neither."""
    if vacancy.ends_on:
        return vacancy.ends_on
    if vacancy.duration_months and left_on:
        return _add_months(left_on, vacancy.duration_months)
    return None


def _currency(code):
    return bool(code) and pycountry.currencies.get(alpha_3=code) is not None


def _check_return(registration, data, placement, today):
    errors = {}
    if registration.is_deleted:
        raise DomainError(f"{registration.registration_number} was removed.")
    if registration.status == "returned":
        existing = db.session.get(WorkerReturn, return_id(registration))
        where = f" at {existing.office_code} by {existing.recorded_by}" if existing else ""
        raise DomainError(f"{registration.registration_number} is already returned (on "
                          f"{registration.status_changed_on.isoformat()}{where}).")
    if registration.status != "departed":
        raise DomainError(f"{registration.registration_number} is {registration.status}: only a registration whose "
                          "person departed to work abroad ends in a return. If they left without it, record the "
                          "departure on the registration first.")
    left = departed_on(registration, placement)
    if not isinstance(data.returned_on, date):
        errors["returned_on"] = ["Enter the day the worker came back, as YYYY-MM-DD."]
    elif data.returned_on > today:
        errors["returned_on"] = ["The day of return cannot be in the future."]
    elif data.returned_on < left:
        errors["returned_on"] = [f"The worker left on {left.isoformat()}: they cannot have come back before."]
    if data.reason not in RETURN_REASONS:
        errors["reason"] = ["Choose why the worker came back: " + ", ".join(
            label.lower() for label in RETURN_REASONS.values()) + "."]
    amount, currency = data.wages_owed_amount, (data.wages_owed_currency or "").strip().upper()
    if amount is not None:
        if not isinstance(amount, int) or isinstance(amount, bool):
            errors["wages_owed_amount"] = ["Enter the wages owed in whole units."]
        elif amount < 0:
            errors["wages_owed_amount"] = ["Wages owed cannot be negative: enter what the employer still owes."]
        elif amount == 0:
            errors["wages_owed_amount"] = ["Leave the wages owed empty when nothing is owed."]
        elif amount > MAX_WAGES:
            errors["wages_owed_amount"] = [f"Enter at most {MAX_WAGES:,}."]
        if not _currency(currency):
            errors["wages_owed_currency"] = ["Choose the currency of the wages owed (ISO 4217, e.g. ZAR)."]
    elif currency:
        errors["wages_owed_amount"] = ["Enter the amount owed, or leave the currency empty."]
    note = " ".join((data.note or "").split())
    if len(note) > MAX_NOTE:
        errors["note"] = [f"Keep this under {MAX_NOTE} characters."]
    services = []
    for service_id in data.service_ids or ():
        service = db.session.get(Service, service_id) if isinstance(service_id, uuid.UUID) else None
        if service is None or service.is_deleted or not service.active or service.kind not in RETURN_SERVICE_KINDS:
            errors["service_ids"] = ["Choose reintegration services from the list."]
            break
        services.append(service)
    due_by = data.due_by or today + timedelta(days=DEFAULT_DAYS_TO_ATTEND)
    if services and (not isinstance(due_by, date) or due_by < today):
        errors["due_by"] = ["The day to attend the services by cannot be in the past."]
    if errors:
        raise ValidationFailed(errors)
    return note or None, amount, currency or None, services, due_by


def record_return(registration, data, actor, today=None):
    """Record a worker's return: the registration becomes returned on the day, the reason, wages owed and what
    they report are kept, and the chosen reintegration services get a referral each. Everything is checked
    first; a refusal leaves nothing behind."""
    from flask import current_app

    from registry.referrals.services import issue_referral

    today = today or date.today()
    check_may_record(actor)
    placement = placement_of(registration)
    note, amount, currency, services, due_by = _check_return(registration, data, placement, today)
    with db.session.begin_nested():
        row = db.session.get(WorkerReturn, return_id(registration))
        if row is None:
            row = WorkerReturn(id=return_id(registration), registration_id=registration.id,
                               registration=registration)
            db.session.add(row)
        row.deleted_at = None
        row.person_id = registration.person_id
        row.referral_id = placement.id if placement else None
        row.returned_on, row.reason, row.note = data.returned_on, data.reason, note
        row.wages_owed_amount, row.wages_owed_currency = amount, currency
        row.office_code, row.recorded_by = current_app.config["OFFICE_CODE"], actor.username
        before = registration.status
        registration.status, registration.status_changed_on = "returned", data.returned_on
        db.session.flush()
        record_event("registration.status_changed", registration, actor=actor, details={
            "before": before, "after": "returned", "on": data.returned_on.isoformat()})
        record_event("return.recorded", row, actor=actor, details={
            "registration": registration.registration_number, "on": data.returned_on.isoformat(),
            "reason": data.reason, "wages_owed": f"{currency} {amount}" if amount else None})
        referrals = [issue_referral(registration, service, due_by, actor, today=today, at_return=True)
                     for service in services]
    return row, referrals


def return_of(registration):
    row = db.session.get(WorkerReturn, return_id(registration))
    return None if row is None or row.is_deleted else row


def recent_returns(limit=100):
    """The latest returns recorded anywhere, newest first, with registration and person loaded."""
    return db.session.scalars(
        select(WorkerReturn).where(WorkerReturn.deleted_at.is_(None))
        .options(selectinload(WorkerReturn.registration).selectinload(Registration.person),
                 selectinload(WorkerReturn.referral).selectinload(Referral.vacancy).selectinload(Vacancy.employer))
        .order_by(WorkerReturn.returned_on.desc(), WorkerReturn.updated_at.desc()).limit(limit)).all()


@dataclass
class OverdueReturn:
    referral: Referral
    registration: Registration
    left_on: date
    expected_on: date
    days_overdue: int

    @property
    def vacancy(self):
        return self.referral.vacancy


def overdue_returns(today=None):
    """Placed workers whose contract has ended (the job order's end, or its duration from departure) and whose
    registration is still departed: most overdue first. Recording their return takes them off."""
    today = today or date.today()
    placements = db.session.scalars(
        select(Referral).join(Referral.registration)
        .where(Referral.status == "placed", Referral.vacancy_id.is_not(None), Referral.deleted_at.is_(None),
               Registration.status == "departed", Registration.deleted_at.is_(None))
        .options(selectinload(Referral.registration).selectinload(Registration.person),
                 selectinload(Referral.vacancy).selectinload(Vacancy.employer),
                 selectinload(Referral.vacancy).selectinload(Vacancy.agency))).all()
    departures = _departures([p.id for p in placements])
    rows = []
    for placement in placements:
        left = departed_on(placement.registration, placement, departures)
        expected = expected_return_on(placement.vacancy, left)
        if expected is not None and expected < today:
            rows.append(OverdueReturn(placement, placement.registration, left, expected, (today - expected).days))
    rows.sort(key=lambda row: (-row.days_overdue, row.registration.registration_number))
    return rows


def return_services():
    """Active services a returned worker may be referred to, reintegration first."""
    order = {kind: number for number, kind in enumerate(RETURN_SERVICE_KINDS)}
    services = db.session.scalars(select(Service).where(
        Service.kind.in_(RETURN_SERVICE_KINDS), Service.active.is_(True), Service.deleted_at.is_(None))).all()
    return sorted(services, key=lambda s: (order[s.kind], s.name))


def departed_registrations_of(person_ids):
    """{person id: [their departed or returned registrations, newest first]} for the people found when
    looking a returning worker up."""
    if not person_ids:
        return {}
    found = {person_id: [] for person_id in person_ids}
    for registration in db.session.scalars(select(Registration).where(
            Registration.person_id.in_(list(person_ids)), Registration.deleted_at.is_(None),
            Registration.status.in_(("departed", "returned")))
            .order_by(Registration.status_changed_on.desc())):
        found[registration.person_id].append(registration)
    return found
