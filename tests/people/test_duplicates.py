"""The duplicate rules: a national ID on record refuses a second person; someone identity matching finds
possibly or likely the same refuses unless the officer confirms it is someone else, and that decision is
audited with what the officer was shown."""
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


# The same person again, told apart by nothing but how the record was typed. Each comes with a passport
# instead of the national ID, as often at a border post, so no identity number separates the records.
SIMILAR = [
    (dict(surname="Moyo", given_names="Tendai Rudo"), "same surname"),
    (dict(surname="MOYO", given_names="tendai rudo"), "same given names"),  # case
    (dict(surname="Móyo", given_names="Tendai Rudo"), "same surname"),  # accent
    (dict(surname="Moyo", given_names="Tendayi Rudo"), "given name is a spelling variant"),
    (dict(surname="Tendai Rudo", given_names="Moyo"), "surname and given names swapped"),
    (dict(surname="Rudo", given_names="Tendai Moyo"), "surname and given names swapped"),  # order changed
    (dict(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 5, 11)),
     "day and month of birth swapped"),
    (dict(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 11, 15)),
     "date of birth differs by one typing slip"),
    (dict(surname="Ndlovu", given_names="Tendai Rudo", phone="", passport_number="FN777777"),
     "same passport number"),  # a new surname (married), the passport she showed before
]


@pytest.fixture
def tendai(ctx, officer):
    person = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN,
                                       national_id="63-123456 A 78", passport_number="FN777777"), officer)
    db.session.commit()
    return person


def test_the_same_person_typed_another_way_is_a_possible_duplicate_with_reasons(tendai, officer):
    before = row_counts()
    for changes, reason in SIMILAR:
        values = dict(date_of_birth=BORN, national_id="", passport_number="FN123321") | changes
        with pytest.raises(PossibleDuplicates) as caught:
            create_person(person_data(**values), officer)
        [match] = caught.value.candidates
        assert match.person.id == tendai.id, changes
        assert match.decision in ("match", "possible") and 0.5 <= match.score <= 1, (changes, match)
        assert reason in match.reasons, (changes, match.reasons)
    assert row_counts() == before


def test_same_name_and_birth_date_with_another_national_id_is_still_offered(tendai, officer):
    # A new ID card, or twins with consecutive numbers: only the officer, with the person in front of
    # them, can tell.
    with pytest.raises(PossibleDuplicates) as caught:
        create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN), officer)
    [match] = caught.value.candidates
    assert match.person.id == tendai.id and match.decision == "possible"
    assert "national ID differs" in match.reasons and "same date of birth" in match.reasons


def test_different_birth_date_or_name_is_no_duplicate(tendai, officer):
    create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 11, 6)), officer)
    create_person(person_data(surname="Sibanda", given_names="Nomsa", date_of_birth=BORN), officer)
    create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1971, 2, 20),
                              national_id="", passport_number="FN246810", phone=""), officer)
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.duplicate_warning_overridden")).all()


def test_override_creates_the_person_and_records_the_decision(tendai, officer):
    data = person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN)
    with pytest.raises(PossibleDuplicates) as caught:
        create_person(data, officer)
    [shown] = caught.value.candidates
    db.session.rollback()
    twin = create_person(data, officer, override_duplicates=True)
    db.session.commit()
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.duplicate_warning_overridden")).all()
    assert event.entity_id == twin.id and event.actor == "officer"
    # What the officer was shown, as shown: the score in percent, the decision and its reasons.
    assert event.details == {"candidates": [{"person_id": str(tendai.id), "score": shown.percent,
                                             "decision": shown.decision, "reasons": shown.reasons}]}
    assert 50 <= shown.percent < 90 and "national ID differs" in shown.reasons
    assert db.session.query(Person).count() == 2


def test_a_tombstoned_person_is_no_duplicate(tendai, officer):
    tendai.mark_deleted()
    db.session.commit()
    again = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN,
                                      national_id="63-123456 A 78"), officer)
    assert again.id != tendai.id


def test_likely_matches_are_offered_best_first_and_no_one_else(tendai, officer):
    variant = create_person(person_data(surname="Moyo", given_names="Tendayi Rudo", date_of_birth=BORN), officer,
                            override_duplicates=True)
    create_person(person_data(surname="Sibanda", given_names="Nomsa", date_of_birth=BORN), officer)
    next_day = create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=date(1994, 11, 6)),
                             officer)
    db.session.commit()
    before = row_counts()
    with pytest.raises(PossibleDuplicates) as caught:
        create_person(person_data(surname="Moyo", given_names="Tendai Rudo", date_of_birth=BORN, national_id="",
                                  passport_number="FN777777"), officer)
    candidates = caught.value.candidates
    # Not only people born the same day: a date one typing slip away is offered too, after the others.
    assert [match.person.id for match in candidates] == [tendai.id, variant.id, next_day.id]
    assert candidates[0].score > candidates[1].score > candidates[2].score
    assert all(isinstance(match.person, Person) and match.reasons for match in candidates)
    assert row_counts() == before


def test_a_name_the_matcher_cannot_read_is_checked_by_national_id_only(tendai, officer):
    # Validation accepts letters of any script; the matcher compares Latin letters and says nothing of others.
    person = create_person(person_data(surname="Мойо", given_names="Тендай", date_of_birth=BORN), officer)
    assert person.surname == "Мойо"
    with pytest.raises(DuplicateNationalId):
        create_person(person_data(surname="Мойо", given_names="Тендай", date_of_birth=BORN,
                                  national_id="63-123456 A 78"), officer)
