import secrets

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from registry.auth.models import User
from registry.auth.services import UserData, create_user, set_password
from registry.core.db import command_transaction
from registry.demo.data import DEMO_OFFICES
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.offices.models import Office
from registry.offices.services import OfficeData, create_office

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
            create_office(OfficeData(code, name, kind, "ZW", subdivision, default_destination=destination))
    if not db.session.scalar(select(Office.id).where(Office.code == current_app.config["OFFICE_CODE"])):
        code = current_app.config["OFFICE_CODE"]
        create_office(OfficeData(code, f"Office {code}", "district_office", "ZW"))


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
    click.echo(f"added {people:,} people and {registrations:,} registrations")
