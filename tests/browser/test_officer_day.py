"""An officer's day in real Chromium against a live office server: log in, register, catch a duplicate, find.

Screenshots of each page go to the test's temporary folder; to refresh the ones the README shows, run
    REGISTRY_SCREENSHOTS=docs/screens .venv/bin/python -m pytest tests/browser
"""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser

NUMBER = re.compile(r"^BBR-\d{4}-\d{6}-[0-9A-Z]$")
CONSENT = "The person consents to the processing of their data for labour migration services"


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("REGISTRY_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)

    def shoot(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000, f"screenshot {name} is (nearly) empty"

    return shoot


def counts(server):
    with server.app.app_context():
        people = db.session.scalar(select(func.count()).select_from(Person))
        registrations = db.session.scalar(select(func.count()).select_from(Registration))
        db.session.remove()
    return people, registrations


def log_in_with_keyboard(page, username):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_label("Username")).to_be_focused()  # autofocus: the officer can type at once
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a person before registering")


def pick_occupation(page, words, code):
    """Type words into the ISCO-08 picker and choose `code` with the arrow keys and Enter."""
    box = page.get_by_role("combobox", name="Occupation sought (ISCO-08)")
    box.focus()
    page.keyboard.type(words)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    wanted = listbox.get_by_role("option", name=re.compile(rf"^{code} "))
    expect(wanted).to_have_count(1)
    for _ in range(listbox.get_by_role("option").count()):
        if wanted.get_attribute("aria-selected") == "true":
            break
        page.keyboard.press("ArrowDown")
    expect(wanted).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(box).to_have_value(code)
    expect(listbox).to_be_hidden()


def fill_registration(page, *, surname, given_names, born, national_id):
    page.get_by_label("Surname").fill(surname)
    page.get_by_label("Given names").fill(given_names)
    page.get_by_label("Female").check()
    page.get_by_label("Date of birth").fill(born)
    page.get_by_label("National ID number").fill(national_id)
    page.get_by_label("Phone").fill("077 212 3456")
    page.get_by_label("Home province").select_option("ZW-MV")
    page.get_by_label("Home district").fill("Chiredzi")
    page.get_by_label("Shona").check()
    page.get_by_label("Highest education completed (ISCED 2011)").select_option("3")

    country = page.get_by_label("Destination country")
    provinces = page.get_by_label("Destination province or region")
    limpopo = provinces.locator("option", has_text="Limpopo")
    country.select_option("BW")  # the province list follows the country, loaded by the page's script
    expect(provinces.locator("option", has_text="Gaborone")).to_have_count(1)
    expect(limpopo).to_have_count(0)
    country.select_option("ZA")
    expect(limpopo).to_have_count(1)
    provinces.select_option("ZA-LP")

    pick_occupation(page, "crop farm", "9211")
    page.get_by_label("Intended industry (ISIC Rev.4)").select_option("A")
    page.get_by_label("Years of experience").fill("4")
    page.get_by_label("Skills").fill("Citrus picking, pruning")
    consent = page.get_by_label(CONSENT)
    consent.focus()
    page.keyboard.press("Space")
    expect(consent).to_be_checked()


def open_filled_form(page, national_id, **person):
    """Go to New registration through the menu and fill it in for a Moyo, Tendai Rudo unless told otherwise."""
    page.get_by_role("link", name="New registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New registration")
    names = {"surname": "Moyo", "given_names": "Tendai Rudo", "born": "1995-03-14", **person}
    fill_registration(page, national_id=national_id, **names)


def start_registration(page, national_id, **person):
    open_filled_form(page, national_id, **person)
    page.get_by_role("button", name="Save registration").click()


def registered_number(page):
    """The number of the registration page the browser landed on."""
    expect(page).to_have_url(re.compile(r"/registrations/BBR-"))
    number = page.locator("h1 .number").inner_text().strip()
    assert NUMBER.match(number), number
    return number


def test_officer_registers_catches_a_duplicate_and_finds_the_registration(page, watch, live_office, shots):
    page.goto("/login")
    shots(page, "login")
    log_in_with_keyboard(page, "officer")

    open_filled_form(page, "63-123456 A 78")
    shots(page, "new-registration")
    page.get_by_role("button", name="Save registration").click()
    number = registered_number(page)
    expect(page.get_by_role("status")).to_have_text(f"Registered: {number}")
    intention = page.locator("section").filter(has=page.get_by_role("heading", name="Migration intention"))
    expect(intention).to_contain_text("South Africa, Limpopo")
    expect(intention).to_contain_text("9211 — Crop farm labourers")
    shots(page, "registration")
    assert counts(live_office) == (1, 1)

    # Same name and date of birth, another national ID: the officer is warned before anything is stored.
    start_registration(page, "63-654321 B 12")
    warning = page.get_by_role("alert").filter(has=page.get_by_role("heading", name=re.compile("Possible duplicate")))
    expect(warning).to_be_visible()
    candidate = warning.get_by_role("row").filter(has_text="MOYO, Tendai Rudo")
    expect(candidate).to_contain_text("63-123456 A 78")
    # Ranked by identity matching: the score, the decision and the reasons in words, and where she was recorded.
    expect(candidate).to_contain_text(re.compile(r"\d+%\s*Possibly the same person"))
    expect(candidate.get_by_role("listitem")).to_contain_text(["same surname", "same given names",
                                                                "same date of birth", "national ID differs"])
    expect(candidate).to_contain_text(number)  # her last registration
    shots(page, "duplicate-warning")
    assert counts(live_office) == (1, 1)

    page.get_by_role("link", name="Registrations", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrations")
    expect(page.locator("caption")).to_have_text("1 registration")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number, exact=True))
    expect(row).to_contain_text("MOYO, Tendai Rudo")
    expect(row).to_contain_text("ZA / ZA-LP")
    expect(row).to_contain_text("9211")
    shots(page, "registrations")

    assert watch.foreign_requests == [], "every asset must come from this server"
    assert watch.console_errors == []


def test_duplicate_warnings_register_the_existing_person_or_a_confirmed_new_one(page, watch, live_office):
    log_in_with_keyboard(page, "officer")
    start_registration(page, "63-123456 A 78")
    first = registered_number(page)

    # Same national ID: the officer registers the person already on record, with this form's intention.
    start_registration(page, "63 123456 a 78", surname="Moyo-Dube")
    alert = page.get_by_role("alert").filter(has_text="This national ID is already registered")
    expect(alert).to_contain_text("MOYO, Tendai Rudo")
    assert counts(live_office) == (1, 1)
    alert.get_by_role("button", name=re.compile("Register this person")).click()
    second = registered_number(page)
    assert second != first
    expect(page.locator("main")).to_contain_text("63-123456 A 78")
    assert counts(live_office) == (1, 2)

    # Same name and birth date, another ID: possibly her. Enter in a field only saves again: the warning stays.
    start_registration(page, "63-654321 B 12")
    duplicate = page.get_by_role("alert").filter(has_text="Possible duplicate")
    expect(duplicate).to_be_visible()
    with page.expect_navigation():  # the same address again, so wait for the new page itself
        page.get_by_label("Home district").press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Possible duplicate")).to_be_visible()
    assert counts(live_office) == (1, 2)

    # "Same person" attaches the registration to the person on record, not to a new one.
    duplicate.get_by_role("button", name="Same person: attach this registration to them").click()
    third = registered_number(page)
    assert third not in (first, second)
    expect(page.locator("main")).to_contain_text("63-123456 A 78")
    assert counts(live_office) == (1, 3)

    # Confirmed as someone else, with the keyboard: a new person is recorded.
    start_registration(page, "63-654321 B 12")
    confirm = page.get_by_label("I have checked: this is a different person")
    confirm.focus()
    page.keyboard.press("Space")
    page.get_by_label("Home district").press("Enter")
    registered_number(page)
    expect(page.locator("main")).to_contain_text("63-654321 B 12")
    assert counts(live_office) == (2, 4)

    assert watch.foreign_requests == []
    assert watch.console_errors == []
