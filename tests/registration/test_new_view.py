"""The new-registration form through the test client: success, the same national ID, and every bad input
answered next to its field with nothing stored. Likely matches by name: test_likely_matches.py."""
from datetime import date

import pytest
from sqlalchemy import select, text

from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from registry.registration.numbering import RegistrationSequence
from tests.conftest import user
from tests.registration.helpers import click, field_error, flashes, read_form, row_counts, submit
from tests.support.factories import create_registration, unique_national_id

_served = {}


def filled(client, **changes):
    """The new-registration form as the page serves it (read once per client), filled in as an officer would."""
    if _served.get("client") is not client:
        page = client.get("/registrations/new")
        assert page.status_code == 200
        _served.update(client=client, data=read_form(page.get_data(as_text=True)))
    data = dict(_served["data"])
    assert data["citizenship"] == "ZW" and data["destination_country"] == "ZA"  # the defaults the page offers
    data.update(
        surname="Moyo", given_names="Tendai", sex="F", date_of_birth="1995-03-14",
        national_id=unique_national_id(), phone="077 212 3456", home_subdivision="ZW-MV",
        home_district="Chiredzi", languages=["sna", "eng"], education_level="3", consent="y",
        destination_subdivision="ZA-LP", intended_sector="A", occupation_code="9211", skills="Citrus picking",
        years_experience="2",
    )
    return submit(data, **changes)


@pytest.fixture
def officer_client(client, login):
    login(client, "officer")
    return client


def post(client, data):
    return client.post("/registrations/new", data=data)


def test_new_registration_end_to_end(app, officer_client):
    before = row_counts(app)
    response = post(officer_client, filled(officer_client, other_occupation_codes="6111, 9212"))
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    page = officer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Registered: {number}" in flashes(page)
    assert "MOYO, Tendai" in page and "Crop farm labourers" in page
    assert row_counts(app) == {"person": before["person"] + 1, "registration": before["registration"] + 1,
                               # person, registration and their two audit events, plus the view of the page
                               "audit": before["audit"] + 3, "outbox": before["outbox"] + 5}
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert registration.registration_number == number
        assert (registration.office_code, registration.registered_by, registration.registered_on) == (
            "BBR", "officer", date.today())
        assert registration.other_occupation_codes == ["6111", "9212"]
        person = registration.person
        assert person.phone == "+263772123456" and person.languages == ["eng", "sna"]
        assert person.consent_recorded_by == "officer"


def test_existing_national_id_offers_the_existing_person(app, officer_client):
    first = filled(officer_client, surname="Sibanda", given_names="Nomsa")
    assert post(officer_client, first).status_code == 302
    before = row_counts(app)

    again = submit(filled(officer_client, surname="Ncube", given_names="Sipho", date_of_birth="1990-01-01"),
                   national_id=first["national_id"].replace("-", "").replace(" ", "").lower())
    response = post(officer_client, again)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This national ID is already registered" in page
    assert "SIBANDA, Nomsa" in page
    assert "already registered; open their record" in field_error(page, "national_id")
    assert row_counts(app) == before
    with app.app_context():
        existing = db.session.scalar(select(Person))
    assert f'name="use_person" value="{existing.id}"' in page

    # "Register this person": the registration is added to the existing person; no second person.
    response = post(officer_client, click(read_form(page), "use_person", str(existing.id)))
    assert response.status_code == 302
    after = row_counts(app)
    assert (after["person"], after["registration"]) == (before["person"], before["registration"] + 1)
    with app.app_context():
        assert {r.person_id for r in db.session.scalars(select(Registration))} == {existing.id}


def _years_ago(years, days=0):
    today = date.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return date.fromordinal(day.toordinal() + days).isoformat()


BAD_INPUTS = [
    # (what, changes, field, expected message fragment)
    ("impossible date", dict(date_of_birth="2001-02-30"), "date_of_birth",
     "'2001-02-30' is not a date that exists; enter it as YYYY-MM-DD."),
    ("under 15", dict(date_of_birth=_years_ago(15, days=1)), "date_of_birth",
     "The person would be 14: registration is for people aged 15 to 80."),
    ("over 80", dict(date_of_birth=_years_ago(81)), "date_of_birth",
     "The person would be 81: registration is for people aged 15 to 80."),
    ("malformed ID", dict(national_id="63-1234 A 78"), "national_id",
     "'63-1234 A 78' does not have the shape of a ZW national ID (e.g. 63-123456 A 78)."),
    ("phone", dict(phone="071 234"), "phone", "'071 234' is not a valid phone number for ZW"),
    ("unknown ISCO code", dict(occupation_code="9999"), "occupation_code", "'9999' is not an ISCO-08 unit group"),
    ("unknown other ISCO code", dict(other_occupation_codes="7112 1234"), "other_occupation_codes",
     "Not ISCO-08 unit groups: 1234."),
    ("destination subdivision of another country", dict(destination_subdivision="BW-CE"),
     "destination_subdivision", "BW-CE is not a province or region of ZA."),
    ("home subdivision of another country", dict(home_subdivision="ZA-LP"), "home_subdivision",
     "ZA-LP is not a province or region of ZW."),
    ("missing consent", dict(consent=None), "consent",
     "The person must consent to the processing of their data before it is recorded."),
    ("no identity document", dict(national_id="", passport_number=""), "national_id",
     "Enter a national ID or a passport number"),
    ("surname with digits", dict(surname="Moyo2"), "surname", "letters, spaces, hyphens and apostrophes only"),
    ("missing surname", dict(surname=""), "surname", "Enter the surname."),
    ("job offer without employer", dict(has_job_offer="y"), "employer_name", "Name the employer"),
    ("negative experience", dict(years_experience="-1"), "years_experience", "between 0 and 65"),
    # Tampered selects: values the page never offered.
    ("tampered sex", dict(sex="X"), "sex", "Not a valid choice"),
    ("tampered citizenship", dict(citizenship="XX"), "citizenship", "Choose a country of citizenship"),
    ("tampered destination", dict(destination_country="XX"), "destination_country", "Choose the country of destination"),
    ("tampered education", dict(education_level="12"), "education_level", "Not a valid choice"),
    ("tampered sector", dict(intended_sector="Z"), "intended_sector", "Not a valid choice"),
    ("tampered language", dict(languages=["eng", "klingon"]), "languages", "not a valid choice"),
    ("tampered passport country", dict(passport_number="FN123456", passport_country="QQ"), "passport_country",
     "Choose the country that issued the passport"),
]


def test_each_bad_input_is_named_next_to_its_field_and_nothing_is_stored(app, officer_client):
    before = row_counts(app)
    for what, changes, name, message in BAD_INPUTS:
        response = post(officer_client, filled(officer_client, **changes))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, what
        error = field_error(page, name)
        assert error is not None and message in error, f"{what}: {error!r}"
        assert row_counts(app) == before, what
    # The same form without the mistakes goes through.
    assert post(officer_client, filled(officer_client)).status_code == 302


def test_tampered_use_person_is_refused_cleanly(app, officer_client):
    before = row_counts(app)
    for value in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = post(officer_client, filled(officer_client, use_person=value))
        assert response.status_code == 200
        assert "No such person." in flashes(response.get_data(as_text=True))
        assert row_counts(app) == before


def test_officer_of_another_office_cannot_register_here(app, client, login):
    login(client, "officer.hre")
    before = row_counts(app)
    response = post(client, filled(client))
    assert response.status_code == 200
    assert "Only officers of BBR register people at this office's system." in flashes(response.get_data(as_text=True))
    assert row_counts(app) == before


def test_a_failure_after_the_person_was_added_rolls_everything_back(app, officer_client):
    """If the registration cannot be inserted (here: its number is taken, after a restore reset the
    sequence), the person created a moment earlier in the same request must not stay behind."""
    with app.app_context(), command_transaction():
        create_registration(actor=user("officer"))
    with app.app_context(), command_transaction():
        db.session.execute(text("DELETE FROM registration_sequence"))
    before = row_counts(app)
    with pytest.raises(Exception, match="(?i)unique"):
        post(officer_client, filled(officer_client, surname="Gumbo"))
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(Person).where(Person.surname == "Gumbo")) is None
        assert db.session.scalar(select(RegistrationSequence)) is None
