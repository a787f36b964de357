"""Finding, showing and editing people through the test client."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from tests.conftest import user
from tests.registration.helpers import field_error, flashes, read_form, registration_at_hre, row_counts, submit
from tests.support.factories import create_registration


@pytest.fixture
def officer_client(client, login):
    login(client, "officer")
    return client


@pytest.fixture
def person_id(app):
    with app.app_context(), command_transaction():
        registration = create_registration(actor=user("officer"), surname="Mlambo", given_names="Chipo",
                                           national_id="63-123456 A 78", date_of_birth=date(1993, 4, 5))
        return registration.person_id


def stored(app, person_id):
    with app.app_context():
        person = db.session.get(Person, person_id)
        db.session.expunge(person)
        return person


def test_search_finds_by_id_or_name_and_is_audited(app, officer_client, person_id):
    for q in ("63123456a78", "Chipo Mlambo", "MLAMBO", "mla"):
        page = officer_client.get("/people/", query_string={"q": q}).get_data(as_text=True)
        assert "1 person found" in page, q
        assert f"/people/{person_id}" in page and "63-123456 A 78" in page
    page = officer_client.get("/people/", query_string={"q": "Mlambo", "dob": "1993-04-06"}).get_data(as_text=True)
    assert "Nobody found." in page
    page = officer_client.get("/people/", query_string={"q": "Mlambo", "dob": "1993-02-30"}).get_data(as_text=True)
    assert "'1993-02-30' is not a date that exists" in field_error(page, "dob")
    with app.app_context():
        searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.searched")).all()
        assert len(searches) == 5 and all(event.actor == "officer" for event in searches)


def test_person_page_shows_details_registrations_and_is_audited(app, officer_client, person_id):
    page = officer_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "MLAMBO, Chipo" in page and "+263 77 212 3456" in page and "Masvingo" in page
    assert "BBR-" in page and f"/people/{person_id}/edit" in page
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.viewed")).entity_id == person_id
    assert officer_client.get("/people/00000000-0000-0000-0000-000000000000").status_code == 404


def test_edit_person_end_to_end(app, officer_client, person_id):
    form = read_form(officer_client.get(f"/people/{person_id}/edit").get_data(as_text=True))
    assert (form["surname"], form["national_id"], form["version"]) == ("Mlambo", "63123456A78", "1")
    assert "consent" not in form
    response = officer_client.post(f"/people/{person_id}/edit", data=submit(form, given_names="Chipo Rutendo",
                                                                            phone="+27 82 123 4567"))
    assert response.status_code == 302
    person = stored(app, person_id)
    assert (person.given_names, person.given_names_key, person.phone, person.version) == (
        "Chipo Rutendo", "CHIPO RUTENDO", "+27821234567", 2)


def test_edit_person_errors_and_stale_form_change_nothing(app, officer_client, person_id):
    with app.app_context(), command_transaction():
        create_registration(actor=user("officer"), national_id="63-654321 B 21", surname="Other")
    form = read_form(officer_client.get(f"/people/{person_id}/edit").get_data(as_text=True))
    before = row_counts(app)
    for changes, name, message in (
        (dict(phone="12"), "phone", "'12' is not a valid phone number for ZW"),
        (dict(date_of_birth="1993-02-30"), "date_of_birth", "is not a date that exists"),
        (dict(national_id="63 654321 b 21"), "national_id", "A person with this national ID is already registered"),
        (dict(citizenship="XX"), "citizenship", "Choose a country of citizenship"),
    ):
        page = officer_client.post(f"/people/{person_id}/edit", data=submit(form, **changes)).get_data(as_text=True)
        assert message in (field_error(page, name) or ""), changes
    page = officer_client.post(f"/people/{person_id}/edit", data=submit(form, version="0", surname="Changed"))
    assert "Someone changed this person's record since you opened it" in " ".join(flashes(page.get_data(as_text=True)))
    assert row_counts(app) == before
    assert (stored(app, person_id).surname, stored(app, person_id).version) == ("Mlambo", 1)


def test_another_offices_person_cannot_be_edited(app, database_url, officer_client):
    _, hre_person = registration_at_hre(database_url, surname="Chikore")
    page = officer_client.get(f"/people/{hre_person}").get_data(as_text=True)
    assert "CHIKORE" in page and f"/people/{hre_person}/edit" not in page
    before = row_counts(app)
    assert officer_client.get(f"/people/{hre_person}/edit").status_code == 403
    token = read_form(officer_client.get("/registrations/new").get_data(as_text=True))["csrf_token"]
    response = officer_client.post(f"/people/{hre_person}/edit", data={"csrf_token": token, "version": "1",
                                                                        "surname": "Forged"})
    assert response.status_code == 403
    assert row_counts(app) == before
    assert stored(app, hre_person).surname == "Chikore"
