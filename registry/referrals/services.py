"""Issue referrals, record their outcomes, list open and overdue ones. Services add and flush; the request or
command commits.

A registration's status follows its referrals: it becomes `referred` with its first referral, `departed`
when a referral to a vacancy ends in a placement, and `registered` again if every referral it had was
cancelled (issued in error). Other outcomes leave it as it is (docs/referrals.md).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from registry.audit.services import record_event
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.people.models import Person
from registry.recruitment.orders import minor_problem
from registry.referrals.models import (
    OPEN_STATUSES, REFERRAL_STATUSES, REFERRAL_TRANSITIONS, SERVICE_KINDS, Referral, Service, Vacancy,
)
from registry.referrals.targets import placed_count, vacancy_closed_reason
from registry.registration.models import Registration
from registry.registration.services import change_status

MAX_DAYS_AHEAD = 365
DEFAULT_DAYS_TO_ATTEND = 14
MAX_NOTE = 500
REFERABLE_STATUSES = ("registered", "referred")


def _check_may_refer(actor, registration):
    if actor.role not in PERSONAL_DATA_ROLES or not can_change_office_records(actor, registration.office_code):
        raise Forbidden(f"{registration.registration_number} belongs to {registration.office_code}: only that "
                        "office's officers refer it.")


def _note(errors, name, text):
    note = " ".join((text or "").split())
    if len(note) > MAX_NOTE:
        errors[name] = [f"Keep this under {MAX_NOTE} characters."]
    return note or None


def _next_sequence(registration):
    last = db.session.scalar(select(func.max(Referral.sequence)).where(Referral.registration_id == registration.id))
    return (last or 0) + 1


def issue_referral(registration, target, due_by, actor, note="", today=None, at_return=False):
    """Refer a registration to a Service or a Vacancy, to attend by `due_by`. Everything is checked before
    anything is written, so a refusal leaves nothing behind. A returned worker is referred to services only;
    `at_return`: made with the return, at whichever post recorded it (registry.recruitment.returns)."""
    today = today or date.today()
    if at_return:
        if actor.role not in PERSONAL_DATA_ROLES:
            raise Forbidden("Only labour officers, supervisors and administrators refer returned workers.")
    else:
        _check_may_refer(actor, registration)
    errors = {}
    if registration.is_deleted:
        raise DomainError(f"{registration.registration_number} was removed.")
    if isinstance(target, Service) and (registration.status == "returned" or (
            registration.status == "departed" and target.kind == "trafficking")):
        pass  # back home, any service; still abroad, trafficking support acts for them (docs/recruitment.md)
    elif registration.status not in REFERABLE_STATUSES:
        raise DomainError(f"{registration.registration_number} is {registration.status}: only a registered or "
                          "referred registration can be referred.")
    if isinstance(target, Service):
        if target.is_deleted or not target.active:
            errors["target"] = [f"{target.name} no longer takes referrals: choose another service."]
        kind = target.kind
    elif isinstance(target, Vacancy):
        reason = vacancy_closed_reason(target, today)
        if reason:
            errors["target"] = [f"No one can be referred to {target.title} at {target.employer.name}: {reason}."]
        else:
            minor = minor_problem(registration, max(today, target.starts_on))
            if minor:
                errors["target"] = [f"{minor}."]
        kind = "vacancy"
    else:
        raise ValidationFailed({"target": ["Choose the service or vacancy to refer the person to."]})
    if not isinstance(due_by, date):
        errors["due_by"] = ["Enter the day to attend by, as YYYY-MM-DD."]
    elif due_by < today:
        errors["due_by"] = ["The day to attend by cannot be in the past."]
    elif due_by > today + timedelta(days=MAX_DAYS_AHEAD):
        errors["due_by"] = [f"Give a day within {MAX_DAYS_AHEAD} days from today."]
    note = _note(errors, "note", note)
    if "target" not in errors:
        column = Referral.service_id if kind != "vacancy" else Referral.vacancy_id
        already = db.session.scalar(select(Referral).where(
            Referral.registration_id == registration.id, column == target.id,
            Referral.status.in_(OPEN_STATUSES), Referral.deleted_at.is_(None)))
        if already is not None:
            errors["target"] = [f"{registration.registration_number} already has an open referral there "
                                f"({already.reference}, issued {already.issued_on.isoformat()})."]
    if registration.status == "registered" and registration.registered_on > today:
        # Its status becomes referred today, which cannot come before the day it was registered.
        errors.setdefault("target", []).append(
            f"{registration.registration_number} is dated {registration.registered_on.isoformat()}, after today: "
            "check this computer's date.")
    if errors:
        raise ValidationFailed(errors)
    referral = Referral(
        registration_id=registration.id, registration=registration,
        registration_number=registration.registration_number, sequence=_next_sequence(registration),
        office_code=registration.office_code, kind=kind,
        service_id=target.id if kind != "vacancy" else None, vacancy_id=target.id if kind == "vacancy" else None,
        issued_on=today, issued_by=actor.username, due_by=due_by, note=note, status="issued",
    )
    db.session.add(referral)
    db.session.flush()
    record_event("referral.issued", referral, actor=actor, details={
        "reference": referral.reference, "kind": kind, "target": _target_name(target), "due_by": due_by.isoformat()})
    if registration.status == "registered":
        change_status(registration, "referred", today, registration.version, actor, today=today)
    return referral


def _target_name(target):
    return f"{target.title} at {target.employer.name}" if isinstance(target, Vacancy) else target.name


def record_outcome(referral, status, on, expected_version, actor, note="", today=None):
    """Record what came of a referral (attended, placed, declined, did not attend, cancelled) on a day."""
    today = today or date.today()
    registration = referral.registration
    _check_may_refer(actor, registration)
    if referral.version != expected_version:
        raise StaleVersion("Someone changed this referral since you opened it. Reload it and enter the outcome "
                           "again.")
    if status not in REFERRAL_STATUSES or status == "issued":
        raise ValidationFailed({"status": ["Choose the outcome: attended, placed, declined, did not attend or "
                                           "cancelled."]})
    if status not in REFERRAL_TRANSITIONS[referral.status]:
        allowed = ", ".join(REFERRAL_STATUSES[s].lower() for s in REFERRAL_TRANSITIONS[referral.status])
        raise ValidationFailed({"status": [
            f"This referral is {REFERRAL_STATUSES[referral.status].lower()}: it can become "
            f"{allowed or 'nothing else'}, not {REFERRAL_STATUSES[status].lower()}."]})
    if status == "placed" and referral.vacancy_id is None:
        raise ValidationFailed({"status": ["Only a referral to a vacancy ends in a placement; a service is "
                                           "attended."]})
    errors = {}
    if not isinstance(on, date):
        errors["on"] = ["Enter the date of the outcome as YYYY-MM-DD."]
    elif on < referral.issued_on:
        errors["on"] = [f"The outcome cannot come before the referral was issued ({referral.issued_on.isoformat()})."]
    elif on > today:
        errors["on"] = ["The outcome date cannot be in the future."]
    elif status == "no_show" and on < referral.due_by:
        errors["on"] = [f"The person has until {referral.due_by.isoformat()} to attend: record that they did not "
                        "attend from that day on."]
    note = _note(errors, "note", note)
    if errors:
        raise ValidationFailed(errors)
    if status == "placed":
        minor = minor_problem(registration, on)
        if minor:
            raise ValidationFailed({"status": [f"{minor}."]})
        vacancy = referral.vacancy
        placed = placed_count(vacancy)
        if placed >= vacancy.places:
            raise ValidationFailed({"status": [
                f"{vacancy.title} at {vacancy.employer.name} has all its {vacancy.places} places filled: no one "
                "more can be placed in it."]})
    before = referral.status
    referral.status, referral.outcome_on, referral.outcome_by = status, on, actor.username
    referral.outcome_note = note
    db.session.flush()
    record_event("referral.outcome", referral, actor=actor, details={
        "reference": referral.reference, "before": before, "after": status, "on": on.isoformat()})
    _follow(registration, status, on, actor, today, before)
    return referral


def _follow(registration, outcome, on, actor, today, before):
    """Keep the registration's status in step with its referrals."""
    if outcome == "placed" and registration.status in ("registered", "referred"):
        change_status(registration, "departed", on, registration.version, actor, today=today)
    elif outcome == "cancelled" and before == "placed" and registration.status == "departed":
        # The placement fell through before departure: the person is referred again, not gone.
        change_status(registration, "referred", on, registration.version, actor, today=today)
    elif outcome == "cancelled" and registration.status == "referred":
        still = db.session.scalar(select(func.count()).select_from(Referral).where(
            Referral.registration_id == registration.id, Referral.status != "cancelled",
            Referral.deleted_at.is_(None)))
        if not still:
            change_status(registration, "registered", on, registration.version, actor, today=today)


def get_referral(registration, sequence):
    referral = db.session.scalar(select(Referral).where(
        Referral.registration_id == registration.id, Referral.sequence == sequence))
    if referral is None or referral.is_deleted:
        raise NotFound(f"{registration.registration_number} has no referral R{sequence}.")
    return referral


def referrals_of(registration):
    return db.session.scalars(select(Referral).where(
        Referral.registration_id == registration.id, Referral.deleted_at.is_(None))
        .options(selectinload(Referral.service), selectinload(Referral.vacancy))
        .order_by(Referral.sequence.desc())).all()


@dataclass
class ReferralFilters:
    office_code: str = ""
    state: str = "open"  # open, overdue, all, or one status
    kind: str = ""


def filtered_referrals(filters, today=None):
    """A select of referrals (registration and person loaded) matching the filters, oldest due first."""
    today = today or date.today()
    query = (select(Referral).join(Referral.registration).join(Registration.person)
             .options(contains_eager(Referral.registration).contains_eager(Registration.person),
                      selectinload(Referral.service), selectinload(Referral.vacancy).selectinload(Vacancy.employer))
             .where(Referral.deleted_at.is_(None)))
    if filters.office_code:
        query = query.where(Referral.office_code == filters.office_code)
    if filters.state == "open":
        query = query.where(Referral.status.in_(OPEN_STATUSES))
    elif filters.state == "overdue":
        query = query.where(Referral.status == "issued", Referral.due_by < today)
    elif filters.state in REFERRAL_STATUSES:
        query = query.where(Referral.status == filters.state)
    elif filters.state not in ("", "all"):
        raise ValidationFailed({"state": [f"Unknown state {filters.state!r}."]})
    if filters.kind:
        if filters.kind != "vacancy" and filters.kind not in SERVICE_KINDS:
            raise ValidationFailed({"kind": [f"Unknown kind {filters.kind!r}."]})
        query = query.where(Referral.kind == filters.kind)
    return query.order_by(Referral.due_by, Referral.registration_number, Referral.sequence)


def referral_counts(office_code, today=None):
    """Open and overdue referrals of an office, for its pages' headings."""
    today = today or date.today()
    base = select(func.count()).select_from(Referral).where(
        Referral.office_code == office_code, Referral.deleted_at.is_(None))
    return {
        "open": db.session.scalar(base.where(Referral.status.in_(OPEN_STATUSES))) or 0,
        "overdue": db.session.scalar(base.where(Referral.status == "issued", Referral.due_by < today)) or 0,
    }


def is_overdue(referral, today=None):
    return referral.status == "issued" and referral.due_by < (today or date.today())


def vacancy_candidates(vacancy):
    """Everyone referred to a vacancy, with their registration and person: placed first, then open ones."""
    referrals = db.session.scalars(
        select(Referral).join(Referral.registration).join(Registration.person)
        .options(contains_eager(Referral.registration).contains_eager(Registration.person))
        .where(Referral.vacancy_id == vacancy.id, Referral.deleted_at.is_(None))
        .order_by(Referral.issued_on, Person.surname)).all()
    order = {"placed": 0, "attended": 1, "issued": 2}
    return sorted(referrals, key=lambda r: order.get(r.status, 3))
