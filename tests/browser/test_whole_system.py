"""The whole system in real Chromium: head office (central, HQ) and the Beitbridge (BBR) and Harare (HRE)
offices as live servers that sync with each other, and a day of each role through the web pages.

An officer at BBR registers a person, catches a likely duplicate, prints and verifies a slip, refers the person
to a clinic and syncs; a supervisor records the referral's outcome and, at head office, resolves a sync
conflict; a statistician reads the dashboard and a table and downloads it; an administrator adds a user and an
office, issues the office's sync secret and links two offices' records of one person.

Screenshots of each main page go to the test's temporary folder; to refresh the ones the README shows, run
    REGISTRY_SCREENSHOTS=docs/screens .venv/bin/python -m pytest tests/browser/test_whole_system.py
"""
import csv
import io
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from registry.auth.models import User
from registry.core.db import command_transaction
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.matching.models import DuplicateCandidate
from registry.offices.models import Office
from registry.offices.services import OfficeData, create_office
from registry.people.models import Person
from registry.people.services import person_data_from, update_person
from registry.referrals.models import Referral
from registry.referrals.targets import ServiceData, create_service
from registry.registration.models import Registration
from registry.slips.payload import format_short_code, parse_payload
from registry.sync import office as office_sync
from registry.sync.central import issue_secret
from registry.sync.models import OfficeCredential, OutboxEntry, SyncConflict
from tests.browser.test_officer_day import (
    fill_registration, log_in_with_keyboard, registered_number, start_registration,
)
from tests.conftest import make_app, user
from tests.slips.helpers import pdf_text, scan_pdf
from tests.support.factories import PASSWORD, create_registration
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

NATIONAL_ID = "63-123456 A 78"
MISTYPED_ID = "63-123465 A 78"  # two neighbouring digits exchanged
TWICE_REGISTERED_ID = "63-505050 F 50"  # registered at BBR and at HRE, each offline


@pytest.fixture
def shots(tmp_path):
    """shots(page, name) saves a full-page screenshot as <name>.png: into $REGISTRY_SCREENSHOTS when set."""
    folder = Path(os.environ.get("REGISTRY_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000, f"screenshot {name} is (nearly) empty"

    return shoot


class Node:
    """One live node: its app, its address, and a way to read its database."""

    def __init__(self, app, server):
        self.app, self.url = app, server.url

    def scalar(self, query):
        with self.app.app_context():
            try:
                return db.session.scalar(query)
            finally:
                db.session.remove()

    def count(self, model, *where):
        return self.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def nodes(sqlite_template, tmp_path):
    """Central (HQ) and the offices BBR and HRE, each on its own copy of the seeded database, served live on
    127.0.0.1; the offices sync with central when told to (no background rounds)."""
    apps, servers = [], []

    def serve(name, **config):
        path = tmp_path / f"{name}.db"
        shutil.copyfile(sqlite_template, path)
        app = make_app(f"sqlite:///{path}", **config)
        apps.append(app)
        server = LiveServer(app).start()
        servers.append(server)
        return app, server

    central_app, central_server = serve("central", REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    found = {"HQ": Node(central_app, central_server)}
    for code in ("BBR", "HRE"):
        with central_app.app_context(), command_transaction():
            secret = issue_secret(code)
        app, server = serve(code.lower(), OFFICE_CODE=code, CENTRAL_URL=central_server.url, OFFICE_SECRET=secret,
                            SYNC_INTERVAL_SECONDS=0)
        with app.app_context(), command_transaction():
            # The seed (offices, users and their audit events) is central's too: a fresh node owes it nothing.
            db.session.execute(delete(OutboxEntry))
        found[code] = Node(app, server)
    try:
        yield found
    finally:
        for server in servers:
            server.stop()
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def log_in(page, username):
    """Log in through the form, for users whose first page is not the person search."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def sync_now(page, shots=None):
    page.get_by_role("link", name=re.compile(r"^(Never synced|Synced)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sync with head office")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Synced: \d+ change\(s\) sent, \d+ received\.$"))
    expect(page.locator("a.sync-badge")).to_contain_text("Synced just now · 0 waiting")
    if shots:
        shots(page, "walk-sync")


def register_offline(node, username, **person):
    with node.app.app_context(), command_transaction():
        create_registration(actor=user(username), **person)


def test_a_day_across_the_registry(nodes, new_page, watch, shots, tmp_path):
    central, bbr, hre = nodes["HQ"], nodes["BBR"], nodes["HRE"]
    with bbr.app.app_context(), command_transaction():
        create_service(ServiceData(kind="medical", name="Migrant health clinic", address="Hospital Road, Beitbridge",
                                   phone="077 200 0011", what_to_bring="National ID"), user("supervisor"))
    # One woman registered at both offices, each while offline: head office queues the two records for review.
    for node, username in ((bbr, "officer"), (hre, "officer.hre")):
        register_offline(node, username, surname="Ncube", given_names="Farai", date_of_birth=date(1990, 7, 2),
                         national_id=TWICE_REGISTERED_ID, phone="0713555111")

    number = officer_day(new_page(bbr.url), new_page, bbr, central, shots, tmp_path)
    with hre.app.app_context():
        sent, _ = office_sync.run_round()  # Harare syncs too: central now holds both Ncube records
    assert sent > 0 and central.count(Person, Person.surname == "Ncube") == 2
    supervisor_day(new_page, bbr, central, number, shots)
    statistician_day(new_page(central.url), central, shots, tmp_path)
    admin_day(new_page(central.url), central, shots)

    assert watch.foreign_requests == [], "every asset must come from the registry's own server"
    assert watch.console_errors == []


def officer_day(page, new_page, bbr, central, shots, tmp_path):
    """Register, catch a likely duplicate, print and verify a slip, refer, sync. Returns the slip's number."""
    log_in_with_keyboard(page, "officer")
    page.get_by_role("link", name="New registration").click()
    fill_registration(page, surname="Moyo", given_names="Tendai Rudo", born="1995-03-14", national_id=NATIONAL_ID)
    shots(page, "walk-officer-new-registration")
    page.get_by_role("button", name="Save registration").click()
    first = registered_number(page)
    expect(page.get_by_role("status")).to_have_text(f"Registered: {first}")
    assert bbr.count(Person, Person.surname == "Moyo") == 1

    # She comes back; the officer spells her name another way and mistypes her ID: the form says who it may be.
    start_registration(page, MISTYPED_ID, given_names="Tendayi Rudo")
    warning = page.get_by_role("alert").filter(has=page.get_by_role("heading", name=re.compile("Possible duplicate")))
    candidate = warning.get_by_role("row").filter(has_text="MOYO, Tendai Rudo")
    expect(candidate).to_contain_text(re.compile(r"\d+%\s*Likely the same person"))
    expect(candidate.get_by_role("listitem")).to_contain_text(["given name is a spelling variant",
                                                               "national ID differs by one character"],
                                                              ignore_case=True)
    expect(candidate).to_contain_text(first)
    shots(page, "walk-duplicate-warning")
    assert bbr.count(Registration) == 2  # the Ncube registration and hers: nothing stored yet
    candidate.get_by_role("button", name="Same person: attach this registration to them").click()
    number = registered_number(page)
    assert number != first
    expect(page.locator("main")).to_contain_text(NATIONAL_ID)
    assert bbr.count(Person, Person.surname == "Moyo") == 1  # no new person: her record has both
    assert bbr.count(Registration, Registration.registration_number.in_((first, number))) == 2

    # The slip: a PDF with the signed QR code.
    with page.expect_download() as download:
        page.get_by_role("button", name="Print slip (A4)").click()
    assert download.value.suggested_filename == f"slip-{number}-a4.pdf"
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    pdf = path.read_bytes()
    assert f"Registration number {number}" in pdf_text(pdf) and "MOYO, Tendai Rudo" in pdf_text(pdf)
    [[scanned]] = scan_pdf(pdf)
    short_code = format_short_code(parse_payload(scanned).short_code)

    # Anyone, not logged in, checks it: first as typed from the paper, then as scanned.
    check = new_page(bbr.url)
    check.goto("/verify")
    check.get_by_label("Registration number").fill(number)
    check.get_by_label("Short code").fill(short_code)
    check.get_by_role("button", name="Check number and short code").click()
    verdict = check.get_by_role("status")
    expect(verdict.get_by_role("heading")).to_have_text("Genuine")
    expect(verdict).to_contain_text(number)
    expect(verdict).to_contain_text("MOYO, Tendai Rudo")
    check.get_by_label("Scanned code").fill(scanned)
    check.keyboard.press("Enter")
    expect(check.get_by_role("status").get_by_role("heading")).to_have_text("Genuine")
    shots(check, "walk-slip-verify")

    # A referral to the clinic.
    page.get_by_role("link", name="Refer to a service or vacancy").click()
    page.get_by_label("Refer to").select_option(label="Migrant health clinic")
    page.get_by_role("button", name="Issue referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {number}/R1")
    expect(page.locator("p.status")).to_have_text("Issued")
    shots(page, "walk-referral")
    assert bbr.count(Referral, Referral.registration_number == number, Referral.status == "issued") == 1

    # Sync: her records reach head office.
    expect(page.locator("a.sync-badge")).to_contain_text("Never synced")
    sync_now(page, shots)
    assert central.count(Registration, Registration.registration_number.in_((first, number))) == 2
    assert central.count(Referral, Referral.registration_number == number) == 1
    return number


def supervisor_day(new_page, bbr, central, number, shots):
    """At the office: the referral's outcome, and an edit that head office also made. At head office: the conflict."""
    page = new_page(bbr.url)
    log_in_with_keyboard(page, "supervisor")
    page.get_by_role("link", name="Referrals").click()
    page.get_by_role("link", name=f"{number}/R1").click()
    page.get_by_label("Outcome").select_option("attended")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.locator("p.status")).to_contain_text("Attended")
    assert bbr.count(Referral, Referral.registration_number == number, Referral.status == "attended") == 1

    # Meanwhile head office corrects her home district one way ...
    with central.app.app_context(), command_transaction():
        person = db.session.scalar(select(Person).where(Person.surname == "Moyo"))
        data = person_data_from(person)
        data.home_district = "Mwenezi"
        update_person(person, data, person.version, user("admin"))
    # ... and the supervisor, who has not synced since, another.
    page.get_by_role("link", name="Registration", exact=True).click()
    page.get_by_role("link", name="MOYO, Tendai Rudo").click()
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Home district").fill("Beitbridge")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    sync_now(page)
    assert central.count(Referral, Referral.registration_number == number, Referral.status == "attended") == 1
    assert central.count(SyncConflict, SyncConflict.resolved_at.is_(None)) == 1

    # At head office the supervisor sees both versions side by side and keeps the office's district.
    hq = new_page(central.url)
    log_in_with_keyboard(hq, "supervisor")
    hq.get_by_role("link", name="Sync", exact=True).click()
    expect(hq.get_by_role("heading", name="Conflicts waiting (1)")).to_be_visible()
    hq.get_by_role("link", name="Review").click()
    expect(hq.get_by_role("heading", level=1)).to_have_text("Two versions of one person")
    district = hq.get_by_role("row").filter(has=hq.get_by_role("rowheader", name=re.compile(r"home[ _]district", re.I)))
    expect(district).to_contain_text("Mwenezi")
    expect(district).to_contain_text("Beitbridge")
    shots(hq, "walk-conflict")
    district.get_by_role("radio", name="Beitbridge").check()
    hq.get_by_role("button", name="Resolve").click()
    expect(hq.get_by_role("status")).to_contain_text("Conflict resolved")
    expect(hq.get_by_role("heading", name="Conflicts waiting (0)")).to_be_visible()
    with central.app.app_context():
        conflict = db.session.scalar(select(SyncConflict))
        assert (conflict.resolution, conflict.resolved_by) == ("took_loser", "supervisor")
        assert db.session.scalar(select(Person.home_district).where(Person.surname == "Moyo")) == "Beitbridge"
        db.session.remove()
    # The office takes the resolved record at its next sync.
    sync_now(page)
    assert bbr.scalar(select(Person.home_district).where(Person.surname == "Moyo")) == "Beitbridge"
    assert bbr.scalar(select(Person.version).where(Person.surname == "Moyo")) == \
        central.scalar(select(Person.version).where(Person.surname == "Moyo"))


def statistician_day(page, central, shots, tmp_path):
    """The dashboard and a standard table, downloaded as CSV, from head office's figures."""
    # Two more offices' registrations, synthetic, as head office holds them (their numbers are their offices').
    with central.app.app_context():
        with command_transaction():
            for code, name in (("CHR", "District Labour Office, Chiredzi"),
                               ("MSV", "Provincial Labour Office, Masvingo")):
                create_office(OfficeData(code, name, "district_office", "ZW", "ZW-MV", default_destination="ZA"))
        load_demo(300, ["CHR", "MSV"], seed=5, today=date.today())
        db.session.remove()
    log_in(page, "statistician")
    page.get_by_role("link", name="Statistics").click()
    page.get_by_role("link", name="Dashboard").click()
    for title in ("Registrations by month and sex", "Top countries of destination", "Age pyramid"):
        chart = page.get_by_role("region", name=title)
        expect(chart.locator(".chart-data table tbody tr").first).to_be_attached()
    # Chart.js (served by the registry) has drawn all five charts.
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 5")
    shots(page, "walk-dashboard")

    page.get_by_role("link", name="Statistics").click()
    page.get_by_label("Table").select_option("outbound-sex-destination")
    page.get_by_label("Period").fill(str(date.today().year))
    page.get_by_role("button", name="Show the table").click()
    table = page.locator("table.figures")
    expect(table.locator("tfoot")).to_contain_text("Total")
    shots(page, "walk-table")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "table.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "Country of destination" and header[-1] == "Total"
    assert body and all(len(row) == len(header) for row in rows)
    assert totals[0] == "Total" and int(totals[-1]) > 0
    # The grand total is the sum of its row (no suppression reaches totals of 300 registrations).
    assert sum(int(value) for value in totals[1:-1]) == int(totals[-1])


def admin_day(page, central, shots):
    """Users, offices, an office's sync secret and the duplicate queue, at head office."""
    log_in(page, "admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    page.get_by_role("link", name="Add user").click()
    page.get_by_label("Username").fill("t.ncube")
    page.get_by_label("Full name").fill("Tatenda Ncube")
    page.get_by_label("Role").select_option(label="Labour officer")
    page.get_by_label("Office").select_option("BBR")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("User t.ncube created.")
    expect(page.get_by_role("row").filter(has_text="t.ncube")).to_contain_text("Tatenda Ncube")
    shots(page, "walk-users")
    with central.app.app_context():
        added = db.session.scalar(select(User).where(User.username == "t.ncube"))
        assert (added.role, added.office_code, added.active) == ("officer", "BBR", True)
        assert check_password_hash(added.password_hash, PASSWORD)
        db.session.remove()

    page.get_by_role("link", name="Offices").click()
    page.get_by_role("link", name="Add office").click()
    page.get_by_label("Code").fill("PLM")
    page.get_by_label("Name").fill("Labour Migration Centre, Plumtree")
    page.get_by_label("Kind").select_option("border_post")
    page.get_by_label("Province or region").select_option("ZW-MS")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Office PLM added.")
    expect(page.get_by_role("row").filter(has_text="PLM")).to_contain_text("Labour Migration Centre, Plumtree")
    shots(page, "walk-offices")
    assert central.count(Office, Office.code == "PLM", Office.kind == "border_post",
                         Office.subdivision == "ZW-MS") == 1

    page.get_by_role("link", name="Sync", exact=True).click()
    plumtree = page.get_by_role("row").filter(has=page.get_by_role("cell", name=re.compile(r"^PLM\b")))
    expect(plumtree).to_contain_text("silent")  # never in contact yet
    plumtree.get_by_role("button", name="Issue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New sync secret for PLM")
    secret = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    shots(page, "walk-secret")
    assert central.scalar(select(OfficeCredential.secret).where(OfficeCredential.office_code == "PLM")) == secret
    page.get_by_role("link", name="Back to sync health").click()
    expect(page.locator("main")).not_to_contain_text(secret)  # shown once only

    page.get_by_role("link", name="Duplicates").click()
    pair = page.locator("section.pair").filter(has_text="same national ID")
    expect(pair).to_have_count(1)
    expect(pair).to_contain_text(re.compile("registered at (BBR and HRE|HRE and BBR)"))
    expect(pair.get_by_role("link", name="NCUBE, Farai")).to_have_count(2)
    shots(page, "walk-duplicate-queue")
    pair.get_by_role("button", name="Same person: link").click()
    expect(page.get_by_role("status")).to_have_text("Linked as one person.")
    with central.app.app_context():
        pair = db.session.scalar(select(DuplicateCandidate))
        assert (pair.status, pair.decided_by) == ("linked", "admin")
        people = [db.session.get(Person, pair.first_person_id), db.session.get(Person, pair.second_person_id)]
        assert sorted((person.given_names, person.origin_office) for person in people) == [("Farai", "BBR"),
                                                                                            ("Farai", "HRE")]
        kept, linked = sorted(people, key=lambda person: person.same_as_id is not None)
        assert kept.same_as_id is None and linked.same_as_id == kept.id
        db.session.remove()
