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
