"""Showing, editing, status changes, the list with its filters, and finding by number, through the client."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.services import create_person
from registry.registration.models import Registration
from registry.registration.services import change_status, get_registration, register
from tests.conftest import user
from tests.registration.helpers import (
    field_error, flashes, numbers_on, read_form, registration_at_hre, row_counts, submit,
)
from tests.support.factories import create_registration, person_data, registration_data


@pytest.fixture
def officer_client(client, login):
    login(client, "officer")
    return client


@pytest.fixture
def number(app):
    with app.app_context(), command_transaction():
        return create_registration(actor=user("officer"), surname="Gumbo", given_names="Tatenda").registration_number


def stored(app, number):
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.registration_number == number))
        db.session.expunge(registration)
        return registration


def test_show_page_displays_and_audits_the_view(app, officer_client, number):
    page = officer_client.get(f"/registrations/{number}").get_data(as_text=True)
    assert number in page and "GUMBO, Tatenda" in page and "Crop farm labourers" in page
    assert "Limpopo" in page  # destination subdivision by name
    with app.app_context():
        [viewed] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "registration.viewed")).all()
        assert viewed.actor == "officer"
    # An address that holds no registration number is simply not found.
    assert officer_client.get("/registrations/NOT-A-NUMBER").status_code == 404


def test_edit_end_to_end_bumps_the_version_and_audits(app, officer_client, number):
    page = officer_client.get(f"/registrations/{number}/edit").get_data(as_text=True)
    form = read_form(page)
    assert (form["version"], form["occupation_code"], form["destination_subdivision"]) == ("1", "9211", "ZA-LP")
    response = officer_client.post(f"/registrations/{number}/edit", data=submit(
        form, occupation_code="7112", skills="Bricklaying", destination_subdivision="ZA-GP"))
    assert response.status_code == 302
    registration = stored(app, number)
    assert (registration.occupation_code, registration.skills, registration.version) == ("7112", "Bricklaying", 2)
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "registration.updated")).all()
        assert event.details["before"]["occupation_code"] == "9211"
        assert event.details["after"]["destination_subdivision"] == "ZA-GP"


def test_edit_with_bad_input_shows_the_error_and_changes_nothing(app, officer_client, number):
    form = read_form(officer_client.get(f"/registrations/{number}/edit").get_data(as_text=True))
    before = row_counts(app)
    for changes, name, message in (
        (dict(occupation_code="0000"), "occupation_code", "'0000' is not an ISCO-08 unit group"),
        (dict(destination_subdivision="ZW-MV"), "destination_subdivision", "ZW-MV is not a province or region of ZA."),
        (dict(destination_country="XX"), "destination_country", "Choose the country of destination"),
    ):
        page = officer_client.post(f"/registrations/{number}/edit", data=submit(form, **changes)).get_data(as_text=True)
        assert message in (field_error(page, name) or ""), changes
        assert row_counts(app) == before
    assert stored(app, number).version == 1


def test_stale_edit_form_is_refused_with_a_clear_message(app, client, officer_client, login, number):
    mine = read_form(officer_client.get(f"/registrations/{number}/edit").get_data(as_text=True))

    # Meanwhile the supervisor saves a change.
    other = app.test_client()
    login(other, "supervisor")
    theirs = read_form(other.get(f"/registrations/{number}/edit").get_data(as_text=True))
    assert other.post(f"/registrations/{number}/edit", data=submit(theirs, skills="Tractor driving")).status_code == 302

    before = row_counts(app)
    response = officer_client.post(f"/registrations/{number}/edit", data=submit(mine, skills="Pruning"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Someone changed this registration since you opened it. Reload it and enter your change again." in flashes(page)
    assert row_counts(app) == before
    registration = stored(app, number)
    assert (registration.skills, registration.version) == ("Tractor driving", 2)


def test_another_offices_registration_cannot_be_changed(app, database_url, officer_client):
    number, _ = registration_at_hre(database_url, surname="Chikore")
    page = officer_client.get(f"/registrations/{number}").get_data(as_text=True)
    assert "CHIKORE" in page and f"/registrations/{number}/edit" not in page  # may see, may not edit
    before = row_counts(app)
    assert officer_client.get(f"/registrations/{number}/edit").status_code == 403
    own_form = read_form(officer_client.get("/registrations/new").get_data(as_text=True))
    token = own_form["csrf_token"]
    forged = {"csrf_token": token, "version": "1", "destination_country": "BW", "occupation_code": "7112"}
    assert officer_client.post(f"/registrations/{number}/edit", data=forged).status_code == 403
    assert officer_client.post(f"/registrations/{number}/status", data={
        "csrf_token": token, "version": "1", "status": "cancelled", "on": date.today().isoformat()}).status_code == 403
    assert row_counts(app) == before
    registration = stored(app, number)
    assert (registration.destination_country, registration.status, registration.version) == ("ZA", "registered", 1)


def test_status_change_through_the_page(app, officer_client, number):
    page = officer_client.get(f"/registrations/{number}").get_data(as_text=True)
    form = read_form(page)
    # Only the statuses a registered registration may move to are offered.
    assert 'value="returned"' not in page and 'value="referred"' in page
    response = officer_client.post(f"/registrations/{number}/status", data=submit(form, status="referred"))
    assert response.status_code == 302
    assert (stored(app, number).status, stored(app, number).version) == ("referred", 2)

    before = row_counts(app)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for changes, message in (
        (dict(status="returned", version="2"), "A referred registration can become registered, departed, cancelled, not returned."),
        (dict(status="departed", version="2", on=tomorrow), "The date must be between the registration date"),
        (dict(status="departed", version="2", on="2026-02-30"), "'2026-02-30' is not a date that exists"),
        (dict(status="departed", version="1"), "Someone changed this registration since you opened it"),
    ):
        page = officer_client.post(f"/registrations/{number}/status", data=submit(form, **changes),
                                   follow_redirects=True).get_data(as_text=True)
        assert any(message in flash for flash in flashes(page)), changes
    assert row_counts(app)["outbox"] == before["outbox"] + 4  # only the four page views were recorded
    assert (stored(app, number).status, stored(app, number).version) == ("referred", 2)


def _registrations(app, count=1, **kwargs):
    """Register `count` people on given dates etc. (dates may be a list)."""
    with app.app_context(), command_transaction():
        officer = user("officer")
        made = []
        for i in range(count):
            on = kwargs.get("on", [date(2026, 1, 1)])[i]
            person = create_person(person_data(sex=kwargs.get("sex", "F"), given_names=f"Person {chr(65 + i)}x"),
                                   officer, override_duplicates=True, today=on)
            made.append(register(officer, registration_data(**kwargs.get("data", {})), person=person, today=on)
                        .registration_number)
        return made


def test_list_filters_by_date_destination_occupation_status_and_sex(app, officer_client):
    [jan] = _registrations(app, on=[date(2026, 1, 10)])
    [feb] = _registrations(app, on=[date(2026, 2, 10)], sex="M",
                           data=dict(destination_country="BW", destination_subdivision="", occupation_code="7112"))
    [mar] = _registrations(app, on=[date(2026, 3, 10)], data=dict(occupation_code="9212"))
    with app.app_context(), command_transaction():
        change_status(get_registration(mar), "cancelled", date(2026, 3, 11), 1, user("officer"))

    def listed(**args):
        response = officer_client.get("/registrations/", query_string=args)
        assert response.status_code == 200
        return numbers_on(response.get_data(as_text=True).split("<tbody>", 1)[-1])

    assert listed() == [mar, feb, jan]
    assert listed(registered_from="2026-02-01") == [mar, feb]
    assert listed(registered_from="2026-01-10", registered_to="2026-02-10") == [feb, jan]
    assert listed(destination_country="BW") == [feb]
    assert listed(occupation="9") == [mar, jan]
    assert listed(occupation="921") == [mar, jan]
    assert listed(occupation="7112") == [feb]
    assert listed(status="cancelled") == [mar]
    assert listed(status="registered", sex="F") == [jan]
    assert listed(sex="M") == [feb]
    assert listed(office_code="bbr") == [mar, feb, jan]
    assert listed(office_code="HRE") == []

    page = officer_client.get("/registrations/", query_string={
        "registered_from": "2026-03-01", "registered_to": "2026-02-01"}).get_data(as_text=True)
    assert field_error(page, "registered_to") == "The end of the date range is before its start."
    assert "<tbody>" not in page  # no list at all, rather than a wrong one
    page = officer_client.get("/registrations/", query_string={"registered_from": "2026-02-30"}).get_data(as_text=True)
    assert "'2026-02-30' is not a date that exists" in field_error(page, "registered_from")
    page = officer_client.get("/registrations/", query_string={"status": "lost"}).get_data(as_text=True)
    assert "Not a valid choice" in field_error(page, "status")


def test_list_pages_keep_the_filters(app, officer_client):
    app.config["PAGE_SIZE"] = 2
    made = _registrations(app, 5, on=[date(2026, 1, d) for d in (1, 2, 3, 4, 5)])
    _registrations(app, 1, on=[date(2026, 1, 6)], sex="M")
    newest_first = made[::-1]
    first = officer_client.get("/registrations/?sex=F").get_data(as_text=True)
    assert "5 registrations, page 1 of 3" in first
    assert numbers_on(first.split("<tbody>", 1)[-1]) == newest_first[:2]
    assert 'href="/registrations/?page=2&amp;sex=F" rel="next"' in first and 'rel="prev"' not in first
    second = officer_client.get("/registrations/?page=2&sex=F").get_data(as_text=True)
    assert numbers_on(second.split("<tbody>", 1)[-1]) == newest_first[2:4]
    assert 'rel="prev"' in second and 'rel="next"' in second
    last = officer_client.get("/registrations/?page=3&sex=F").get_data(as_text=True)
    assert numbers_on(last.split("<tbody>", 1)[-1]) == newest_first[4:]
    assert 'rel="next"' not in last
    beyond = officer_client.get("/registrations/?page=9&sex=F").get_data(as_text=True)
    assert "No registrations match." in beyond


def test_find_by_number(app, officer_client, number):
    response = officer_client.get("/registrations/find", query_string={"number": " " + number.lower().replace("-", " ")})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/registrations/{number}")

    typo = number[:-3] + ("1" if number[-3] != "1" else "2") + number[-2:]
    page = officer_client.get("/registrations/find", query_string={"number": typo}, follow_redirects=True)
    assert f"'{typo}' does not check out: one of its characters is probably mistyped. Compare it with the slip." in flashes(
        page.get_data(as_text=True))
    page = officer_client.get("/registrations/find", query_string={"number": "BBR2026"}, follow_redirects=True)
    assert "'BBR2026' is not a registration number; they look like BBR-2026-000123-K." in flashes(page.get_data(as_text=True))
    page = officer_client.get("/registrations/find", query_string={"number": ""}, follow_redirects=True)
    assert "Enter a registration number." in flashes(page.get_data(as_text=True))


def test_new_registration_for_an_existing_person(app, officer_client, number):
    person_id = stored(app, number).person_id
    url = f"/registrations/new/{person_id}"
    page = officer_client.get(url).get_data(as_text=True)
    assert "New registration for GUMBO, Tatenda" in page
    form = read_form(page)
    before = row_counts(app)
    page = officer_client.post(url, data=submit(form, occupation_code="12")).get_data(as_text=True)
    assert "'12' is not an ISCO-08 unit group" in field_error(page, "occupation_code")
    assert row_counts(app) == before
    response = officer_client.post(url, data=submit(form, occupation_code="7112", destination_country="BW",
                                                   destination_subdivision=""))
    assert response.status_code == 302
    with app.app_context():
        assert [r.occupation_code for r in db.session.scalars(
            select(Registration).where(Registration.person_id == person_id).order_by(Registration.registration_number))] == [
            "9211", "7112"]
    assert officer_client.get("/registrations/new/00000000-0000-0000-0000-000000000000").status_code == 404
