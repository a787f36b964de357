"""Likely matches on the new-registration form: ranked by identity matching with their reasons, then either
"same person" (the registration is attached to them) or "a different person" (recorded); bad input is
answered next to its field and never reaches the matcher."""
import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from tests.registration.helpers import click, field_error, flashes, read_form, row_counts, submit
from tests.registration.test_new_view import filled, post

WARNING = re.compile(r'<section class="warning" role="alert" aria-labelledby="dup-title">(.*?)</section>', re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td>(.*?)</td>", re.S)
USE_PERSON = re.compile(r'name="use_person" value="([0-9a-f-]+)"')


@pytest.fixture
def officer_client(client, login):
    login(client, "officer")
    return client


def text_of(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def likely_matches(page):
    """The rows of the warning: [{"person_id", "percent", "decision", "person", "documents", "home", "office",
    "last", "reasons", "button"}], in the order shown; [] when there is no warning."""
    warning = WARNING.search(page)
    if warning is None:
        return []
    rows = []
    for row in ROW.findall(warning.group(1).split("<tbody>", 1)[1]):
        cells = CELL.findall(row)
        match, person, documents, home, office, last, reasons, action = cells
        rows.append({
            "person_id": USE_PERSON.search(action).group(1),
            "percent": int(re.search(r"(\d+)%", match).group(1)),
            "decision": text_of(match.split("<br>", 1)[1]),
            "person": text_of(person), "documents": text_of(documents), "home": text_of(home),
            "office": text_of(office), "last": text_of(last),
            "reasons": [text_of(item) for item in re.findall(r"<li>(.*?)</li>", reasons, re.S)],
            "button": text_of(action),
        })
    return rows


def register_on_form(client, **changes):
    """Register someone through the form; return the registration number."""
    response = post(client, filled(client, **changes))
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    number = response.headers["Location"].rsplit("/", 1)[-1]
    return number


def person_of(app, number):
    with app.app_context():
        return db.session.scalar(select(Registration.person_id).where(Registration.registration_number == number))


def test_a_spelling_variant_is_offered_ranked_with_its_reasons_and_the_details_to_judge(app, officer_client):
    first = register_on_form(officer_client, surname="Moyo", given_names="Tendai", national_id="63-417211 A 78",
                             home_district="Chiredzi")
    # Born a day later: one typing slip in the date, so a weaker match than the first.
    second = register_on_form(officer_client, surname="Moyo", given_names="Tendai", date_of_birth="1995-03-15",
                              national_id="63-590032 C 12", home_district="Mwenezi", override_duplicates="y")
    register_on_form(officer_client, surname="Sibanda", given_names="Nomsa")  # same birth date, someone else
    before = row_counts(app)

    # "Tendayi Moyo" comes back with a passport instead of her national ID.
    response = post(officer_client, filled(officer_client, surname="Moyo", given_names="Tendayi", national_id="",
                                           passport_number="FN112233"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert any("may be this person" in message for message in flashes(page))
    rows = likely_matches(page)
    assert [row["person_id"] for row in rows] == [str(person_of(app, first)), str(person_of(app, second))]
    assert rows[0]["percent"] > rows[1]["percent"] >= 50
    assert rows[0]["decision"] == "Likely the same person"
    assert "given name is a spelling variant" in rows[0]["reasons"] and "same date of birth" in rows[0]["reasons"]
    assert "date of birth differs by one typing slip" in rows[1]["reasons"]
    # What the officer needs to judge: who, born when, documents, home, where recorded, the last registration.
    assert rows[0]["person"] == "MOYO, Tendai born 1995-03-14, female"
    assert rows[0]["documents"] == "63-417211 A 78 no passport"
    assert (rows[0]["home"], rows[0]["office"]) == ("Chiredzi", "BBR")
    assert rows[0]["last"] == f"{first} Registered, {date.today()} at BBR"
    assert rows[1]["home"] == "Mwenezi" and rows[1]["last"].startswith(second)
    assert all(row["button"] == "Same person: attach this registration to them" for row in rows)
    assert 'name="override_duplicates"' in page
    assert row_counts(app) == before


def test_swapped_names_then_same_person_attaches_the_registration_to_them(app, officer_client):
    number = register_on_form(officer_client, surname="Moyo", given_names="Tendai Rudo")
    existing = person_of(app, number)
    before = row_counts(app)

    # Names in each other's boxes, and another national ID: possibly her, the officer is asked to check.
    page = post(officer_client, filled(officer_client, surname="Tendai Rudo", given_names="Moyo")).get_data(
        as_text=True)
    [row] = likely_matches(page)
    assert row["person_id"] == str(existing) and row["decision"] == "Possibly the same person"
    assert "surname and given names swapped" in row["reasons"] and "national ID differs" in row["reasons"]
    assert row_counts(app) == before

    warned = read_form(page)
    assert warned["surname"] == "Tendai Rudo" and warned["consent"] == "y"  # what was typed is kept
    response = post(officer_client, click(warned, "use_person", row["person_id"]))
    assert response.status_code == 302
    after = row_counts(app)
    assert (after["person"], after["registration"]) == (before["person"], before["registration"] + 1)
    with app.app_context():
        attached = db.session.scalar(select(Registration).where(
            Registration.registration_number == response.headers["Location"].rsplit("/", 1)[-1]))
        assert attached.person_id == existing
        assert db.session.get(Person, existing).given_names == "Tendai Rudo"  # the record on file is unchanged
        assert not db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "person.duplicate_warning_overridden")).all()


def test_day_and_month_swapped_with_the_same_passport_then_a_confirmed_new_person_is_recorded(app, officer_client):
    number = register_on_form(officer_client, surname="Moyo", given_names="Tendai", date_of_birth="1995-03-04",
                              passport_number="FN246810")
    existing = person_of(app, number)
    before = row_counts(app)

    typed = filled(officer_client, surname="Moyo", given_names="Tendai", date_of_birth="1995-04-03", national_id="",
                   passport_number="fn 246810")
    page = post(officer_client, typed).get_data(as_text=True)
    [row] = likely_matches(page)
    assert row["person_id"] == str(existing) and row["decision"] == "Likely the same person"
    assert "day and month of birth swapped" in row["reasons"] and "same passport number" in row["reasons"]
    assert row["documents"].endswith("passport FN246810 (ZW)")
    assert row_counts(app) == before

    # "I have checked: this is a different person": a new person, and the decision with what was shown.
    response = post(officer_client, submit(read_form(page), override_duplicates="y"))
    assert response.status_code == 302
    after = row_counts(app)
    assert (after["person"], after["registration"]) == (before["person"] + 1, before["registration"] + 1)
    with app.app_context():
        created = db.session.scalar(select(Registration.person_id).where(
            Registration.registration_number == response.headers["Location"].rsplit("/", 1)[-1]))
        assert created != existing
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "person.duplicate_warning_overridden")).all()
        assert event.actor == "officer" and event.entity_id == created
        assert event.details == {"candidates": [{"person_id": str(existing), "score": row["percent"],
                                                 "decision": "match", "reasons": row["reasons"]}]}


BAD_PERSON_INPUT = [
    # (changes, field, message fragment): each typed as a likely match of the person on file would be.
    (dict(surname="M"), "surname", "The surname needs at least two letters."),
    (dict(given_names="T."), "given_names", "The given names needs at least two letters."),
    (dict(surname="Moyo2"), "surname", "letters, spaces, hyphens and apostrophes only"),
    (dict(given_names=""), "given_names", "Enter the given names."),
    (dict(surname="M" * 81), "surname", "longer than 80 characters"),
    (dict(date_of_birth="1995-02-30"), "date_of_birth", "'1995-02-30' is not a date that exists"),
    (dict(date_of_birth="14/03/1995"), "date_of_birth", "is not a date that exists; enter it as YYYY-MM-DD"),
    (dict(date_of_birth=""), "date_of_birth", "Enter the date of birth"),
    (dict(date_of_birth="2999-03-14"), "date_of_birth", "The date of birth is in the future."),
    (dict(sex="X"), "sex", "Not a valid choice"),
    (dict(passport_number="F#1"), "passport_number", "is not a passport number (6 to 12 letters and digits)"),
]


def test_bad_names_and_dates_are_named_next_to_their_field_never_matched_and_nothing_is_stored(app, officer_client):
    register_on_form(officer_client, surname="Moyo", given_names="Tendai", passport_number="FN246810")
    before = row_counts(app)
    for changes, name, message in BAD_PERSON_INPUT:
        for extra in ({}, {"override_duplicates": "y"}):
            typed = filled(officer_client, national_id="", passport_number="FN246810") | changes | extra
            response = post(officer_client, typed)
            page = response.get_data(as_text=True)
            assert response.status_code == 200, changes
            error = field_error(page, name)
            assert error is not None and message in error, (changes, error)
            assert likely_matches(page) == [], changes
            assert row_counts(app) == before, changes
