"""Job orders: a vacancy's recruitment terms, the contract-vetting checklist and the fair-recruitment rules
that decide whether a job order may be published (offered to job seekers and referred to).

The vacancy itself (employer, occupation, places, period, wage) is created and changed by
registry.referrals.targets, which calls `terms_values` here for the recruitment terms and `publish_blockers`
before a job order opens. Services add and flush; the request or command commits.
"""
import uuid
from dataclasses import dataclass
import calendar
from datetime import date

from sqlalchemy import select

from registry.audit.services import record_event
from registry.core.access import PERSONAL_DATA_ROLES
from registry.core.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.recruitment.models import Agency
from registry.referrals.models import Referral, Vacancy

MIN_WORKING_AGE = 18  # no placement of a child in work abroad (ILO C138, C182; docs/recruitment.md)
MAX_DURATION_MONTHS = 60
MAX_FEE = 10**9

# The contract-vetting checklist: what a labour officer checks in the employment contract of a job order
# before workers are recruited for it (ILO General principles and operational guidelines for fair
# recruitment, 2019; Private Employment Agencies Convention, 1997 (C181); Migration for Employment
# Convention (Revised), 1949 (C97), Annex I Art. 5). Every point must pass for the contract to count as vetted.
CHECKLIST = {
    "no_fees": "No recruitment fees or related costs are charged to the worker",
    "written_contract": "A written contract in a language the worker understands, given before departure",
    "wage": "Wage, pay days and every deduction stated; at least the legal minimum wage where the work is",
    "hours": "Working hours, rest days, overtime pay and leave stated",
    "documents_kept_by_worker": "The worker keeps their own passport and identity documents",
    "housing_transport": "Housing, food and transport: who provides and who pays is stated, with no unlawful "
                         "deductions",
    "safety_insurance": "Occupational safety, health care and injury compensation covered",
    "termination_return": "Termination terms and the return journey at the end of the contract stated",
    "free_to_leave": "The worker is free to leave the job and to join a union; no debt bondage",
}


def age_on(person, day):
    """Whole years of age on a day."""
    born = person.date_of_birth
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def minor_problem(registration, day):
    """Why the person may not be placed in work abroad on a day (under 18), or None."""
    person = registration.person
    if age_on(person, day) < MIN_WORKING_AGE:
        adult_on = add_years(person.date_of_birth, MIN_WORKING_AGE)
        return (f"{registration.registration_number} is under {MIN_WORKING_AGE} on {day.isoformat()} (born "
                f"{person.date_of_birth.isoformat()}): no one is placed in work abroad before turning "
                f"{MIN_WORKING_AGE}, on {adult_on.isoformat()}")
    return None


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day, months):
    """The same day `months` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expected_end(vacancy):
    """The day the work is expected to end: the end date, else the start plus the duration, else None."""
    if vacancy.ends_on:
        return vacancy.ends_on
    if vacancy.duration_months:
        return add_months(vacancy.starts_on, vacancy.duration_months)
    return None


def duration_text(vacancy):
    end = expected_end(vacancy)
    if end is None:
        return "open-ended"
    days = (end - vacancy.starts_on).days + 1
    if vacancy.duration_months and not vacancy.ends_on:
        return f"{vacancy.duration_months} months (to about {end.isoformat()})"
    return f"{days} days" if days < 60 else f"about {round(days / 30.44)} months"


def required_items(text):
    """'Pruning, tractor driving; first aid' -> ['Pruning', 'tractor driving', 'first aid']"""
    parts = (text or "").replace(";", ",").replace("\n", ",").split(",")
    return [" ".join(part.split()) for part in parts if part.strip()]


def _items_text(errors, name, value, limit=500):
    items = required_items(value)
    text = ", ".join(items)
    if len(text) > limit:
        errors[name] = [f"Keep this under {limit} characters."]
    return text or None


def fee_text(vacancy):
    return f"{vacancy.worker_fee_currency or ''} {vacancy.worker_fee_amount:,}".strip()


# Recruitment terms -----------------------------------------------------------------------------------------

def _agency_id(value):
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return False


def terms_values(data, errors, today, current_agency_id=None):
    """The recruitment terms of a job order from VacancyData, checked; errors go into `errors`."""
    from registry.referrals.targets import is_currency  # the vacancy module imports this one

    values = {
        "skills_required": _items_text(errors, "skills_required", data.skills_required),
        "certificates_required": _items_text(errors, "certificates_required", data.certificates_required),
        "housing_provided": bool(data.housing_provided),
        "transport_provided": bool(data.transport_provided),
    }
    season = " ".join((data.season or "").split())
    if len(season) > 80:
        errors["season"] = ["Keep this under 80 characters."]
    values["season"] = season or None
    note = " ".join((data.provisions_note or "").split())
    if len(note) > 255:
        errors["provisions_note"] = ["Keep this under 255 characters."]
    values["provisions_note"] = note or None

    months = data.duration_months
    if months is not None and (not isinstance(months, int) or isinstance(months, bool)
                               or not 1 <= months <= MAX_DURATION_MONTHS):
        errors["duration_months"] = [f"Enter the duration in whole months, from 1 to {MAX_DURATION_MONTHS}."]
    elif months and isinstance(data.starts_on, date) and isinstance(data.ends_on, date) \
            and data.ends_on >= data.starts_on:
        expected = add_months(data.starts_on, months)
        if abs((expected - data.ends_on).days) > 31:
            errors["duration_months"] = [
                f"The work runs from {data.starts_on.isoformat()} to {data.ends_on.isoformat()}, not {months} "
                "months: correct one of them, or leave the duration empty."]
    values["duration_months"] = months

    fee, currency = data.worker_fee_amount, (data.worker_fee_currency or "").strip().upper()
    if fee is not None and (not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee < MAX_FEE):
        errors["worker_fee_amount"] = ["Enter the fee as a whole number, 0 or more."]
    elif fee:
        if not is_currency(currency):
            errors["worker_fee_currency"] = ["Choose the fee's currency (ISO 4217, e.g. ZAR)."]
    elif currency and fee is None:
        errors["worker_fee_amount"] = ["Enter the fee, or leave its currency empty."]
    values["worker_fee_amount"] = fee or None
    values["worker_fee_currency"] = (currency or None) if fee else None

    agency_id = _agency_id(data.agency_id)
    if agency_id is False:
        errors["agency_id"] = ["Choose the recruitment agency from the list, or none."]
        agency_id = None
    elif agency_id is not None:
        agency = db.session.get(Agency, agency_id)
        if agency is None or agency.is_deleted:
            errors["agency_id"] = ["There is no such recruitment agency: choose one from the list, or none."]
        elif agency_id != current_agency_id:
            problem = agency.licence_problem(today)
            if problem:
                errors["agency_id"] = [f"{agency.name} cannot recruit: {problem}."]
    values["agency_id"] = agency_id
    return values


# Publishing --------------------------------------------------------------------------------------------

def failed_points(vacancy):
    checklist = vacancy.vetting_checklist or {}
    return [point for point in CHECKLIST if checklist.get(point) is False]


def publish_blockers(vacancy):
    """Why a job order may not be published (offered and referred to): [] when it may."""
    blockers = []
    if vacancy.worker_fee_amount:
        blockers.append(f"it charges the worker a recruitment fee ({fee_text(vacancy)}), and workers pay no "
                        "recruitment fee (ILO fair recruitment)")
    failed = failed_points(vacancy)
    if failed:
        blockers.append("the contract vetting found " + "; ".join(CHECKLIST[p].lower() for p in failed)
                        + ": not met")
    return blockers


def vetting_state(vacancy):
    """'passed', 'failed' or 'not vetted'."""
    if vacancy.vetting_checklist is None:
        return "not vetted"
    return "failed" if failed_points(vacancy) else "passed"


def withdraw_if_unpublishable(vacancy, actor):
    """An open job order that now breaks a fair-recruitment rule goes back to draft (no new referrals)."""
    blockers = publish_blockers(vacancy)
    if vacancy.status == "open" and blockers:
        vacancy.status = "draft"
        db.session.flush()
        record_event("vacancy.status_changed", vacancy, actor=actor, details={
            "before": "open", "after": "draft", "reason": "; ".join(blockers)})
    return blockers


def check_may_vet(actor):
    """Labour officers vet contracts; so do supervisors and administrators, at any office."""
    if actor.role not in PERSONAL_DATA_ROLES:
        raise Forbidden("Only labour officers, supervisors and administrators vet contracts.")


def record_vetting(vacancy, results, expected_version, actor, today=None):
    """Record the contract-vetting checklist of a job order: each point passed (True) or failed (False).
    A job order whose contract failed a point cannot be published; an open one goes back to draft."""
    today = today or date.today()
    check_may_vet(actor)
    if vacancy.version != expected_version:
        raise StaleVersion("Someone changed this job order since you opened it. Reload it and record the "
                           "vetting again.")
    errors = {}
    checklist = {}
    for point, label in CHECKLIST.items():
        value = (results or {}).get(point)
        if value not in (True, False):
            errors[point] = [f"Say whether the contract meets this point: {label.lower()}."]
        checklist[point] = value
    unknown = sorted(set(results or {}) - set(CHECKLIST))
    if unknown:
        errors["checklist"] = [f"Unknown checklist point(s): {', '.join(unknown)}."]
    if checklist.get("no_fees") is True and vacancy.worker_fee_amount:
        errors["no_fees"] = [f"This job order charges the worker a fee ({fee_text(vacancy)}): the contract "
                             "cannot pass this point until the fee is removed from the job order."]
    if errors:
        raise ValidationFailed(errors)
    before = vacancy.vetting_checklist
    vacancy.vetting_checklist = checklist
    vacancy.contract_vetted = all(checklist.values())
    vacancy.vetted_on, vacancy.vetted_by = today, actor.username
    db.session.flush()
    record_event("vacancy.vetted", vacancy, actor=actor, details={
        "passed": [p for p, ok in checklist.items() if ok], "failed": [p for p, ok in checklist.items() if not ok],
        "before": before})
    withdraw_if_unpublishable(vacancy, actor)
    return vacancy


# Listing -----------------------------------------------------------------------------------------------

def get_job_order(order_id):
    if isinstance(order_id, str):
        try:
            order_id = uuid.UUID(order_id)
        except ValueError:
            raise NotFound(f"{order_id!r} is not a job order id (a UUID, as `flask jobs list` shows).") from None
    vacancy = db.session.get(Vacancy, order_id)
    if vacancy is None or vacancy.is_deleted:
        raise NotFound(f"There is no job order {order_id}.")
    return vacancy


@dataclass
class OpenOrder:
    vacancy: Vacancy
    placed: int

    @property
    def places_left(self):
        return max(self.vacancy.places - self.placed, 0)


def open_job_orders(today=None):
    """Job orders taking referrals today, soonest start first."""
    from registry.referrals.targets import list_vacancies

    rows = list_vacancies(open_only=True, today=today)
    return sorted((OpenOrder(v, placed) for v, placed in rows),
                  key=lambda o: (o.vacancy.starts_on, o.vacancy.employer.name, o.vacancy.title))


def orders_fitting(registration, today=None, limit=5):
    """Open job orders with places left that a registration would be shortlisted for (a related occupation,
    18 by the start, not referred to it yet, not engaged elsewhere in the same period), best first, with the
    reasons."""
    from registry.recruitment.shortlist import engagements_of, score_candidate

    today = today or date.today()
    if registration.status not in ("registered", "referred"):
        return []
    referred = set(db.session.scalars(select(Referral.vacancy_id).where(
        Referral.registration_id == registration.id, Referral.vacancy_id.is_not(None), Referral.status != "cancelled",
        Referral.deleted_at.is_(None))))
    engaged = engagements_of([registration.person_id]).get(registration.person_id, [])
    fitting = []
    for order in open_job_orders(today):
        vacancy = order.vacancy
        if vacancy.id in referred or not order.places_left:
            continue
        if minor_problem(registration, max(today, vacancy.starts_on)):
            continue
        if any(p.vacancy_id == vacancy.id or p.overlaps(vacancy.starts_on, expected_end(vacancy)) for p in engaged):
            continue  # engaged in this job order (an earlier registration) or in another one at the same time
        others = [p for p in engaged if p.vacancy_id != vacancy.id]
        before = [p for p in others if p.placed and p.ends_on is not None and p.ends_on < vacancy.starts_on]
        score, reasons, fits = score_candidate(vacancy, registration, before)
        if fits:
            fitting.append((score, order, reasons))
    fitting.sort(key=lambda item: (-item[0], item[1].vacancy.starts_on))
    return [(order, reasons) for _, order, reasons in fitting[:limit]]


def verification_stamp(record, verified, actor, today):
    """Who verified an employer, and when: stamped when first marked verified, cleared when unmarked."""
    if verified and record.verified_on is None:
        record.verified_on, record.verified_by = today, actor.username
    elif not verified:
        record.verified_on = record.verified_by = None
