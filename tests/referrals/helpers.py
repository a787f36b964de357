"""Referral test helpers: targets with sensible defaults, a node seen as another office, and row counts."""
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.referrals.models import Employer, Referral, Service, Vacancy
from registry.referrals.targets import (
    EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy,
)
from registry.registration.models import Registration
from registry.slips.models import Revocation, SlipPrint
from registry.sync.models import OutboxEntry

COUNTED = {"service": Service, "employer": Employer, "vacancy": Vacancy, "referral": Referral,
           "registration": Registration, "print": SlipPrint, "revocation": Revocation, "outbox": OutboxEntry,
           "audit": AuditEvent}


def counts():
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def counts_in(app):
    """Counts read in a fresh app context, so nothing a request left pending is counted."""
    with app.app_context():
        return counts()


def audit_actions(since=0):
    """Audit actions after the first `since` events, sorted (events of one transaction may share a time)."""
    return sorted(event.action for event in db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)).all()[since:])


def outbox_rows(since=0):
    """(entity, operation) of the outbox entries after the first `since`, in the order they were written;
    audit events (which travel too) left out."""
    entries = db.session.scalars(select(OutboxEntry).where(OutboxEntry.entity != "audit_event")
                                 .order_by(OutboxEntry.seq)).all()
    return [(entry.entity, entry.operation) for entry in entries][since:]


@contextmanager
def as_node(app, code):
    """The same database seen from another office's node: what it creates carries that office as origin."""
    before = app.config["OFFICE_CODE"]
    app.config["OFFICE_CODE"] = code
    try:
        yield
    finally:
        app.config["OFFICE_CODE"] = before


def service_data(**overrides):
    values = dict(kind="medical", name="Beitbridge District Hospital", address="Hospital Road, Beitbridge",
                  country="ZW", subdivision="ZW-MS", phone="0242 700 100", hours="Mon-Fri 08:00-16:00",
                  what_to_bring="Passport\nTwo photographs")
    values.update(overrides)
    return ServiceData(**values)


def employer_data(**overrides):
    values = dict(name="Mopani Citrus Estates", country="ZA", subdivision="ZA-LP", address="Farm 12, Letsitele",
                  phone="+27 15 307 1234", email="jobs@mopani.example.org", contact_name="Anna van Wyk",
                  registration_number="2011/123456/07")
    values.update(overrides)
    return EmployerData(**values)


def vacancy_data(**overrides):
    today = date.today()
    values = dict(title="Citrus pickers", occupation_code="9211", country="ZA", subdivision="ZA-LP", places=3,
                  starts_on=today, ends_on=today + timedelta(days=180), closes_on=today + timedelta(days=60),
                  wage_amount=4500, wage_currency="ZAR", wage_period="month", what_to_bring="Work boots")
    values.update(overrides)
    return VacancyData(**values)


def make_service(actor, **overrides):
    return create_service(service_data(**overrides), actor)


def make_employer(actor, **overrides):
    return create_employer(employer_data(**overrides), actor)


def make_vacancy(actor, employer=None, **overrides):
    employer = employer or make_employer(actor)
    return create_vacancy(employer, vacancy_data(**overrides), actor)
