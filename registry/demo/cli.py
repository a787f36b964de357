import secrets
from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from registry.auth.models import User
from registry.auth.services import UserData, create_user, set_password
from registry.core.db import command_transaction
from registry.demo.data import DEMO_EMPLOYERS, DEMO_OFFICES, DEMO_SERVICES, DEMO_SLIP_SETTINGS
from registry.demo.generator import load_demo
from registry.demo.recruitment import ensure_demo_aftercare, ensure_demo_recruitment, ensure_demo_selection
from registry.extensions import db
from registry.offices.models import Office
from registry.offices.services import OfficeData, create_office
from registry.recruitment.orders import CHECKLIST, record_vetting
from registry.referrals.models import Service
from registry.referrals.targets import (
    EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy,
)

demo_cli = AppGroup("demo", help="Demo offices, users and synthetic data.")
MAX_REGISTRATIONS = 1_000_000


DEMO_OFFICE = "BBR"  # the office node the one-command demo runs beside central


def demo_users():
    """(username, role, office) for the demo. Central holds everyone, the Beitbridge officers included, and
    offices get them by sync; a stand-alone office makes its own officer and supervisor."""
    head_office = [("statistician", "statistician", "HQ"), ("admin", "admin", "HQ")]
    if current_app.config["REGISTRY_ROLE"] == "central":
        office = DEMO_OFFICE.lower()
        return [(f"officer.{office}", "officer", DEMO_OFFICE), (f"supervisor.{office}", "supervisor", DEMO_OFFICE),
                ("officer.hq", "officer", "HQ")] + head_office
    office = current_app.config["OFFICE_CODE"]
    return [(f"officer.{office.lower()}", "officer", office),
            (f"supervisor.{office.lower()}", "supervisor", office)] + head_office


def ensure_demo_offices():
    for code, name, kind, subdivision, destination in DEMO_OFFICES:
        if not db.session.scalar(select(Office.id).where(Office.code == code)):
            language, helpline = DEMO_SLIP_SETTINGS.get(code, (None, None))
            create_office(OfficeData(code, name, kind, "ZW", subdivision, default_destination=destination,
                                     slip_language=language, helpline=helpline))
    if not db.session.scalar(select(Office.id).where(Office.code == current_app.config["OFFICE_CODE"])):
        code = current_app.config["OFFICE_CODE"]
        create_office(OfficeData(code, f"Office {code}", "district_office", "ZW"))


def ensure_demo_referral_targets(actor):
    """The demo's services, employers and vacancies, unless this node already has some services."""
    if db.session.scalar(select(Service.id).limit(1)) is not None:
        return
    for kind, name, address, subdivision, phone, hours, bring in DEMO_SERVICES:
        create_service(ServiceData(kind=kind, name=name, address=address, country="ZW", subdivision=subdivision,
                                   phone=phone, hours=hours, what_to_bring=bring or ""), actor)
    starts = date.today() + timedelta(days=30)
    for name, country, subdivision, address, phone, vacancies in DEMO_EMPLOYERS:
        employer = create_employer(EmployerData(name=name, country=country, subdivision=subdivision, address=address,
                                                phone=phone), actor)
        for title, occupation, places, wage, currency, vetted, bring in vacancies:
            vacancy = create_vacancy(employer, VacancyData(
                title=title, occupation_code=occupation, country=country, subdivision=subdivision, places=places,
                starts_on=starts, ends_on=starts + timedelta(days=180), closes_on=starts - timedelta(days=3),
                wage_amount=wage, wage_currency=currency, wage_period="month", what_to_bring=bring), actor)
            if vetted:
                record_vetting(vacancy, dict.fromkeys(CHECKLIST, True), vacancy.version, actor)


def demo_manager():
    """Who adds the demo's referral targets: an administrator at central, the office's supervisor elsewhere."""
    role = "admin" if current_app.config["REGISTRY_ROLE"] == "central" else "supervisor"
    username = "admin" if role == "admin" else f"supervisor.{current_app.config['OFFICE_CODE'].lower()}"
    return db.session.scalar(select(User).where(User.username == username))


def reset_demo_logins():
    """Create the demo users if missing and give each a fresh random password; return (username, role, password)."""
    logins = []
    for username, role, office in demo_users():
        password = "demo-" + secrets.token_urlsafe(9)
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            create_user(UserData(username, username.replace(".", " ").title(), role, office), password)
        else:
            set_password(user, password)
        logins.append((username, role, password))
    return logins


@demo_cli.command("setup")
def setup_command():
    """Add the demo offices and users; print the logins (passwords change on every run)."""
    with command_transaction():
        ensure_demo_offices()
        logins = reset_demo_logins()
        ensure_demo_referral_targets(demo_manager())
        ensure_demo_recruitment(demo_manager())
    for username, role, password in logins:
        click.echo(f"{role:<13} {username:<20} {password}")


@demo_cli.command("load")
@click.option("--registrations", "count", type=click.IntRange(1, MAX_REGISTRATIONS), default=1000, show_default=True,
              help=f"How many registrations to add (at most {MAX_REGISTRATIONS:,}).")
@click.option("--seed", type=int, default=2026, show_default=True)
def load_command(count, seed):
    """Add synthetic people and registrations, in batches, with a progress bar."""
    with command_transaction():
        ensure_demo_offices()
    role = current_app.config["REGISTRY_ROLE"]
    # An office registers under its own code; central holds every office's registrations.
    offices = [current_app.config["OFFICE_CODE"]] if role == "office" else [o[0] for o in DEMO_OFFICES if o[0] != "HQ"]
    with click.progressbar(length=count, label="Registrations", show_pos=True) as bar:
        people, registrations = load_demo(count, offices, seed=seed, progress=bar.update)
    with command_transaction():
        referred = ensure_demo_selection(demo_manager())
        returned, overdue, complaints = ensure_demo_aftercare(demo_manager())
    click.echo(f"added {people:,} people and {registrations:,} registrations"
               + (f"; referred {referred} candidates to a job order from its shortlist" if referred else "")
               + (f"; a past season: {returned} returned, {overdue} overdue, {complaints} complaints"
                  if returned or overdue or complaints else ""))
