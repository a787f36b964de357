"""Demo recruitment: agencies (one licensed, one with an expired licence, one suspended), job orders with
their recruitment terms and contract vetting (one held back as a draft because it charges the worker a fee),
and candidates referred from a shortlist at several selection steps, so every recruitment page has
something to show."""
from datetime import date, timedelta

from sqlalchemy import func, select

from registry.extensions import db
from registry.recruitment.agencies import AgencyData, create_agency
from registry.recruitment.models import STEP_ORDER, Agency, SelectionStep
from registry.recruitment.orders import CHECKLIST, open_job_orders, record_vetting
from registry.recruitment.selection import record_step
from registry.recruitment.shortlist import build_shortlist, refer_candidates
from registry.referrals.models import Employer
from registry.referrals.targets import VacancyData, create_vacancy, placed_count

# name, licence number, granted (days from today), expires (days from today), status, country, subdivision, phone
DEMO_AGENCIES = (
    ("Limpopo Farm Labour Services", "ZA-PEA-2024-0117", -400, 700, "active", "ZA", "ZA-LP", "+27155550101"),
    ("Beitbridge Cross-Border Recruiters", "ZW-LRA-2021-0042", -1500, -40, "active", "ZW", "ZW-MS", "+263772000333"),
    ("Quick Jobs Placement Agency", "ZA-PEA-2023-0981", -600, 500, "suspended", "ZA", "ZA-GP", "+27115550199"),
)
# The steps the demo's referred candidates reached, best ranked first: several at each stage.
DEMO_PROGRESS = ("departed", "contract", "contract", "documents", "medical", "interviewed", "interviewed", None)


def ensure_demo_recruitment(actor, today=None):
    """The demo's agencies and extra job orders, unless this node already has agencies."""
    today = today or date.today()
    if db.session.scalar(select(func.count()).select_from(Agency)):
        return
    agencies = [create_agency(AgencyData(
        name=name, licence_number=number, licence_valid_from=today + timedelta(days=start),
        licence_valid_until=today + timedelta(days=end), status=status, country=country, subdivision=subdivision,
        phone=phone), actor) for name, number, start, end, status, country, subdivision, phone in DEMO_AGENCIES]
    employer = db.session.scalar(select(Employer).where(Employer.name == "Mopani Citrus Estates"))
    if employer is None:
        return
    starts = today + timedelta(days=21)
    common = dict(occupation_code="9211", country="ZA", subdivision="ZA-LP", starts_on=starts,
                  ends_on=starts + timedelta(days=150), closes_on=starts - timedelta(days=2), wage_amount=5200,
                  wage_currency="ZAR", wage_period="month", housing_provided=True, transport_provided=True,
                  provisions_note="Hostel on the farm; bus from Beitbridge border post",
                  what_to_bring="Passport with a valid work visa\nWork boots")
    harvest = create_vacancy(employer, VacancyData(
        title="Orange harvest team", places=40, agency_id=agencies[0].id, season="Citrus harvest",
        skills_required="fruit picking, pruning", certificates_required="first aid", **common), actor)
    record_vetting(harvest, dict.fromkeys(CHECKLIST, True), harvest.version, actor)
    create_vacancy(employer, VacancyData(
        title="Packhouse workers", places=8, season="Citrus harvest", worker_fee_amount=1500,
        worker_fee_currency="ZAR", **{**common, "occupation_code": "9329"}), actor)
    failed = create_vacancy(employer, VacancyData(
        title="Irrigation assistants", places=3, season="Citrus harvest", draft=True,
        **{**common, "occupation_code": "9214"}), actor)
    record_vetting(failed, {**dict.fromkeys(CHECKLIST, True), "documents_kept_by_worker": False}, failed.version,
                   actor)


def ensure_demo_selection(actor, today=None):
    """Candidates referred from the shortlist of the first open job order with enough of them, at several
    selection steps, unless some selection step exists already."""
    today = today or date.today()
    if actor is None or db.session.scalar(select(func.count()).select_from(SelectionStep)):
        return 0
    for order in open_job_orders(today):
        candidates = [c.registration for c in build_shortlist(order.vacancy, limit=40, today=today).candidates
                      if actor.role == "admin" or c.registration.office_code == actor.office_code]
        if len(candidates) < 3 or order.places_left < 1:
            continue
        referrals = refer_candidates(order.vacancy, candidates[:len(DEMO_PROGRESS)], today + timedelta(days=7),
                                     actor, today=today)
        for referral, reached in zip(referrals, DEMO_PROGRESS):
            for step in STEP_ORDER if reached else ():
                if step == "departed" and placed_count(order.vacancy) >= order.vacancy.places:
                    break
                record_step(referral, step, today, actor, today=today)
                if step == reached:
                    break
        return len(referrals)
    return 0


# A season that is over: who went, who came back (and why), who is overdue, and the complaints made.
DEMO_RETURNS = (  # reason, days before the season's end, wages owed (ZAR), what the worker reported
    ("contract_ended", 0, None, None),
    ("contract_ended", -3, 2600, "Last month's wages not paid"),
    ("abuse", 40, None, "Beaten by a supervisor; wants to speak to a counsellor"),
)
DEMO_SEASON_WORKERS = 6  # the first len(DEMO_RETURNS) come back; the rest are overdue
DEMO_COMPLAINTS = (  # kind, complainant, against the agency too, status reached, description
    ("unpaid_wages", "worker", True, "investigating", "Dismissed at the end of the season without the last "
                                                      "month's wages."),
    ("contract_substitution", "family", False, "resolved", "Signed for ZAR 5,200 a month; the farm paid ZAR 3,900."),
    ("trafficking", "family", True, "received", "Our son's passport was taken by the agency; he cannot leave the "
                                                "farm and has not called for six weeks."),
)


def ensure_demo_aftercare(actor, today=None):
    """A season that ended three weeks ago: placed workers, some recorded back (with reason, wages owed and a
    referral to reintegration support), some overdue; and complaints at several stages, one of suspected
    trafficking. Unless a return from a placement, or a complaint, exists already. Returns (returns, overdue,
    complaints)."""
    from registry.core.errors import DomainError
    from registry.recruitment.complaints import ComplaintData, change_complaint_status, file_complaint
    from registry.recruitment.models import Complaint, WorkerReturn
    from registry.recruitment.returns import ReturnData, record_return
    from registry.referrals.models import Service
    from registry.referrals.services import issue_referral
    from registry.referrals.targets import ServiceData, create_service
    from registry.registration.models import Registration

    today = today or date.today()
    # The bulk load's returns have no placement; a return from a placement means this ran (or real work did).
    if actor is None or db.session.scalar(select(func.count()).select_from(WorkerReturn).where(
            WorkerReturn.referral_id.is_not(None))) or db.session.scalar(select(func.count()).select_from(Complaint)):
        return 0, 0, 0
    employer = db.session.scalar(select(Employer).where(Employer.name == "Mopani Citrus Estates"))
    agency = db.session.scalar(select(Agency).where(Agency.licence_number == DEMO_AGENCIES[0][1]))
    if employer is None or agency is None:
        return 0, 0, 0
    desk = db.session.scalar(select(Service).where(Service.kind == "reintegration"))
    if desk is None:
        desk = create_service(ServiceData(
            kind="reintegration", name="Returnee reintegration desk, Labour Migration Centre",
            address="Border Post Road, Beitbridge", country="ZW", subdivision="ZW-MS", phone="+263772000015",
            hours="Mon-Fri 08:00-16:00", what_to_bring="National ID or passport\nContract and pay slips"), actor)
    ends = today - timedelta(days=21)
    starts = ends - timedelta(days=150)
    issued = starts - timedelta(days=10)
    season = create_vacancy(employer, VacancyData(
        title="Summer harvest team", occupation_code="9211", country="ZA", subdivision="ZA-LP", places=10,
        starts_on=starts, ends_on=ends, closes_on=starts - timedelta(days=2), wage_amount=5200, wage_currency="ZAR",
        wage_period="month", agency_id=agency.id, season="Summer harvest", housing_provided=True,
        transport_provided=True), actor)
    record_vetting(season, dict.fromkeys(CHECKLIST, True), season.version, actor)
    query = (select(Registration).where(Registration.status == "registered", Registration.registered_on <= issued,
                                        Registration.deleted_at.is_(None))
             .order_by(Registration.registered_on, Registration.registration_number).limit(60))
    if actor.role != "admin":
        query = query.where(Registration.office_code == actor.office_code)
    placed = []
    for registration in db.session.scalars(query):
        if len(placed) == DEMO_SEASON_WORKERS:
            break
        try:
            with db.session.begin_nested():  # someone who cannot go (under 18 then) is skipped, leaving nothing
                referral = issue_referral(registration, season, starts - timedelta(days=5), actor, today=issued)
                for step in STEP_ORDER:
                    record_step(referral, step, starts, actor, today=today)
        except DomainError:
            continue
        placed.append(referral)
    returned = 0
    for referral, (reason, early, owed, note) in zip(placed, DEMO_RETURNS):
        record_return(referral.registration, ReturnData(
            returned_on=ends - timedelta(days=early), reason=reason, wages_owed_amount=owed,
            wages_owed_currency="ZAR" if owed else "", note=note or "", service_ids=[desk.id] if owed or
            reason == "abuse" else [], due_by=today + timedelta(days=14)), actor, today=today)
        returned += 1
    complaints = 0
    for (kind, complainant, with_agency, reached, text), referral in zip(DEMO_COMPLAINTS, [*placed, None, None, None]):
        complaint = file_complaint(ComplaintData(
            received_on=today - timedelta(days=12), kind=kind, complainant=complainant, employer_id=employer.id,
            agency_id=agency.id if with_agency else "", description=text,
            registration_number=referral.registration_number if referral else ""), actor, today=today)
        if reached in ("investigating", "resolved"):
            change_complaint_status(complaint, "investigating", today - timedelta(days=10),
                                    "Called the employer and the agency.", complaint.version, actor, today=today)
        if reached == "resolved":
            change_complaint_status(complaint, "resolved", today - timedelta(days=2),
                                    "The farm paid the difference; pay slips seen.", complaint.version, actor,
                                    today=today)
        complaints += 1
    return returned, max(len(placed) - returned, 0), complaints
