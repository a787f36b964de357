"""Recruitment test helpers: agencies and job orders with sensible defaults, candidates, and row counts."""
from datetime import date, timedelta

from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.recruitment.agencies import AgencyData, create_agency
from registry.recruitment.models import Agency, Complaint, ComplaintChange, SelectionStep, WorkerReturn
from registry.referrals.models import Employer, Referral, Vacancy
from registry.registration.models import Registration
from registry.sync.models import OutboxEntry
from tests.referrals.helpers import make_vacancy
from tests.support.factories import person_data, registration_data
from registry.registration.services import register

COUNTED = {"agency": Agency, "employer": Employer, "vacancy": Vacancy, "referral": Referral,
           "selection_step": SelectionStep, "registration": Registration, "outbox": OutboxEntry,
           "audit": AuditEvent, "worker_return": WorkerReturn, "complaint": Complaint,
           "complaint_change": ComplaintChange}


def counts():
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def counts_in(app):
    with app.app_context():
        return counts()


def agency_data(**overrides):
    today = date.today()
    values = dict(name="Limpopo Farm Labour Services", licence_number="ZA-PEA-2024-0117",
                  licence_valid_from=today - timedelta(days=100), licence_valid_until=today + timedelta(days=300),
                  status="active", country="ZA", subdivision="ZA-LP", address="12 Main Road, Musina",
                  phone="+27 15 555 0101", email="info@lfls.example.org", contact_name="Thandi Nkosi")
    values.update(overrides)
    return AgencyData(**values)


def make_agency(actor, **overrides):
    return create_agency(agency_data(**overrides), actor)


def make_order(actor, **overrides):
    """An open job order: 9211 citrus pickers in ZA-LP from today for 180 days, 3 places."""
    return make_vacancy(actor, **overrides)


def candidate(actor, *, registration=None, today=None, **person_overrides):
    """A registration of a new person with chosen registration data (keyword `registration`: overrides)."""
    return register(actor, registration_data(**(registration or {})), person_data=person_data(**person_overrides),
                    override_duplicates=True, today=today)


def placed_worker(actor, order, *, left_on, today=None, **person_overrides):
    """A candidate referred to `order` and taken through every selection step to departure on `left_on`."""
    from registry.recruitment.models import STEP_ORDER
    from registry.recruitment.selection import record_step
    from registry.referrals.services import issue_referral

    today = today or date.today()
    registration = candidate(actor, today=left_on - timedelta(days=10), **person_overrides)
    referral = issue_referral(registration, order, left_on, actor, today=left_on - timedelta(days=5))
    for step in STEP_ORDER:
        record_step(referral, step, left_on, actor, today=today)
    return referral
