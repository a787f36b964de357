"""The duplicate rules: a national ID on record refuses a second person; a similar name on the same birth
date refuses unless the officer confirms it is someone else, and that decision is audited."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import DuplicateNationalId, PossibleDuplicates, create_person
from tests.registration.helpers import row_counts
from tests.support.factories import person_data

BORN = date(1994, 11, 5)


@pytest.fixture
def tendai(ctx, officer):
    person = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN,
                                       national_id="63-123456 A 78"), officer)
    db.session.commit()
    return person


def test_same_national_id_refuses_a_second_person_even_with_override(tendai, officer):
    before = row_counts()
    for spelling in ("63-123456 A 78", "63123456A78", "63 123456 a 78"):
        for override in (False, True):
            with pytest.raises(DuplicateNationalId) as caught:
                create_person(person_data(surname="Ncube", given_names="Sipho", national_id=spelling), officer,
                              override_duplicates=override)
            assert caught.value.existing.id == tendai.id
            assert caught.value.field == "national_id"
            assert "already registered; open their record" in caught.value.message
    assert row_counts() == before


def test_same_number_from_another_country_is_another_person(ctx, officer):
    # Botswana's Omang and a Mozambican ID may share digits; they are different documents.
    motswana = create_person(person_data(citizenship="BW", national_id="123456789", home_subdivision="", phone=""), officer)
    mozambican = create_person(person_data(citizenship="MZ", national_id="123456789", home_subdivision="", phone="",
                                           surname="Cossa", given_names="Armando"), officer)
    assert motswana.id != mozambican.id
    with pytest.raises(DuplicateNationalId):
        create_person(person_data(citizenship="BW", national_id="123 456 789", home_subdivision="", phone="",
                                  surname="Other", given_names="Person"), officer)


SIMILAR = [
    ("Moyo", "Tendai Rudo"),        # same name, new ID: perhaps a new ID card
    ("MOYO", "tendai rudo"),        # case
    ("Móyo", "Tendai Rudo"),        # accent
    ("Moyo", "Tendayi Rudo"),       # spelling variant
    ("Tendai Rudo", "Moyo"),        # surname and given names swapped
    ("Rudo", "Tendai Moyo"),        # order of the names changed
]


def test_similar_name_on_same_birth_date_is_a_possible_duplicate(tendai, officer):
    before = row_counts()
    for surname, given_names in SIMILAR:
        with pytest.raises(PossibleDuplicates) as caught:
            create_person(person_data(surname=surname, given_names=given_names, date_of_birth=BORN), officer)
        [(candidate, score)] = caught.value.candidates
        assert candidate.id == tendai.id, (surname, given_names)
        assert 85 <= score <= 100, (surname, given_names)
    assert row_counts() == before


def test_different_birth_date_or_name_is_no_duplicate(tendai, officer):
    create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 11, 6)), officer)
    create_person(person_data(surname="Sibanda", given_names="Nomsa", date_of_birth=BORN), officer)
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.duplicate_warning_overridden")).all()


def test_override_creates_the_person_and_records_the_decision(tendai, officer):
    twin = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN), officer,
                         override_duplicates=True)
    db.session.commit()
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.duplicate_warning_overridden")).all()
    assert event.entity_id == twin.id and event.actor == "officer"
    assert event.details == {"candidates": [{"person_id": str(tendai.id), "score": 100}]}
    assert db.session.query(Person).count() == 2


def test_a_tombstoned_person_is_no_duplicate(tendai, officer):
    tendai.mark_deleted()
    db.session.commit()
    again = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN,
                                      national_id="63-123456 A 78"), officer)
    assert again.id != tendai.id


def test_every_similar_person_born_that_day_is_offered_best_first_and_no_one_else(tendai, officer):
    variant = create_person(person_data(surname="Moyo", given_names="Tendayi Rudo", date_of_birth=BORN), officer,
                            override_duplicates=True)
    create_person(person_data(surname="Sibanda", given_names="Nomsa", date_of_birth=BORN), officer)
    create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 11, 6)), officer)
    db.session.commit()
    before = row_counts()
    with pytest.raises(PossibleDuplicates) as caught:
        create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN), officer)
    candidates = caught.value.candidates
    assert [person.id for person, _ in candidates] == [tendai.id, variant.id]
    assert candidates[0][1] == 100 and 85 <= candidates[1][1] < 100
    assert all(isinstance(person, Person) and person.date_of_birth == BORN for person, _ in candidates)
    assert row_counts() == before
