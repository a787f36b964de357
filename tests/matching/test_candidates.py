"""Blocking keys kept in step with people; ranked candidates for a registration; the scan that queues pairs."""
from datetime import date

import pytest
from sqlalchemy import event, func, select

from registry.extensions import db
from registry.matching.candidates import rank_candidates, scan, scan_total
from registry.matching.models import DuplicateCandidate, PersonMatchKey
from registry.matching.normalise import BadRecord
from registry.matching.services import link, mark_distinct, queue_pair
from registry.people.services import create_person, person_data_from, update_person
from tests.support.factories import person_data

BORN = date(1991, 4, 9)


def keys_of(person):
    return db.session.get(PersonMatchKey, person.id)


def add(officer, **values):
    """A person through the registry's own service (a similar person already stored is accepted)."""
    return create_person(person_data(**values), officer, override_duplicates=True)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_keys_are_written_with_the_person_and_follow_its_changes(ctx, officer):
    person = add(officer, surname="Ndhlovu", given_names="Tendayi", date_of_birth=BORN, national_id="63-123456 A 78")
    db.session.commit()
    keys = keys_of(person)
    assert (keys.birth_key, keys.birth_year, keys.birthday) == ("19910409", 1991, "0409")
    assert keys.id_digits == "6312345678" and keys.phone == person.phone
    surname_code, name_codes = keys.surname_code, keys.name_codes
    spelled = add(officer, surname="Ndlovu", given_names="Tendai", date_of_birth=BORN, national_id="",
                  passport_number="FN123123")
    db.session.commit()
    assert (keys_of(spelled).surname_code, keys_of(spelled).name_codes) == (surname_code, name_codes)

    data = person_data_from(person)
    data.surname, data.phone = "Sibanda", ""
    update_person(person, data, person.version, officer)
    db.session.commit()
    db.session.expire_all()
    assert keys_of(person).surname_code != surname_code and keys_of(person).phone is None

    person.mark_deleted()
    db.session.commit()
    assert keys_of(person) is None
    assert count(PersonMatchKey) == 1


def test_a_change_to_other_columns_leaves_the_keys_alone(ctx, officer):
    person = add(officer, surname="Moyo", given_names="Rudo", date_of_birth=BORN)
    db.session.commit()
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        data = person_data_from(person)
        data.home_district = "Gwanda"
        update_person(person, data, person.version, officer)
        db.session.commit()
        assert any("UPDATE person " in text for text in statements)
        assert not any("person_match_key" in text for text in statements)
        data = person_data_from(person)
        data.given_names = "Rudo Chipo"
        update_person(person, data, person.version, officer)
        db.session.commit()
        assert any("person_match_key" in text for text in statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def people(ctx, officer):
    made = {
        "tendai": add(officer, surname="Moyo", given_names="Tendai", date_of_birth=BORN, national_id="63-123456 A 78"),
        "twin": add(officer, surname="Moyo", given_names="Rudo", date_of_birth=BORN, national_id="63-123457 B 78"),
        "namesake": add(officer, surname="Moyo", given_names="Tendai", date_of_birth=date(1975, 11, 20),
                        national_id="63-222222 C 78"),
        "stranger": add(officer, surname="Sibanda", given_names="Sipho", sex="M", date_of_birth=date(1988, 1, 2),
                        national_id="63-333333 D 78", phone="0772999111"),
    }
    db.session.commit()
    return made


@pytest.mark.parametrize("typed", [
    {"surname": "Moyo", "given_names": "Tendayi"},
    {"surname": "Tendai", "given_names": "Moyo"},
    {"surname": "Moyo", "given_names": "Tendai", "date_of_birth": date(1991, 9, 4)},  # day and month swapped
    {"surname": "Moyo", "given_names": "Tendai", "date_of_birth": date(1981, 4, 9)},  # a digit of the year
    {"surname": "Mayo", "given_names": "Tendai Chipo"},
    {"surname": "Moyo", "given_names": "Tendai", "date_of_birth": date(1970, 1, 1), "national_id": "63123456A78"},
])
def test_the_person_typed_again_is_ranked_first_with_reasons(people, typed):
    values = {"sex": "F", "date_of_birth": BORN, "national_id": "", "passport_number": "FN999888", "phone": "", **typed}
    ranked = rank_candidates(person_data(**values))
    assert ranked and ranked[0].person.id == people["tendai"].id
    assert ranked[0].decision in ("match", "possible") and ranked[0].reasons
    assert [match.score for match in ranked] == sorted((match.score for match in ranked), reverse=True)
    assert people["stranger"].id not in {match.person.id for match in ranked}


def test_ranking_leaves_out_the_person_being_edited_and_unlikely_people(people):
    tendai = people["tendai"]
    assert all(match.person.id != tendai.id for match in rank_candidates(tendai, exclude_id=tendai.id))
    everyone = rank_candidates(tendai, exclude_id=tendai.id, min_decision="distinct", limit=10)
    likely = rank_candidates(tendai, exclude_id=tendai.id)
    assert {match.person.id for match in everyone} >= {people["twin"].id, people["namesake"].id}
    assert all(match.decision != "distinct" for match in likely) and len(likely) < len(everyone)
    assert len(rank_candidates(tendai, exclude_id=tendai.id, min_decision="distinct", limit=1)) == 1


def test_ranking_bad_input_says_what_is_wrong_and_changes_nothing(people):
    before = count(PersonMatchKey), count(DuplicateCandidate)
    with pytest.raises(BadRecord) as caught:
        rank_candidates({"surname": "M", "given_names": "", "date_of_birth": "1991-02-30"})
    assert set(caught.value.problems) == {"surname", "given_names", "date_of_birth"}
    assert (count(PersonMatchKey), count(DuplicateCandidate)) == before


def test_nobody_alike_gives_no_candidates(people):
    assert rank_candidates({"surname": "Zvobgo", "given_names": "Kundai", "date_of_birth": "2001-12-31"}) == []


def test_scan_queues_likely_duplicates_once_with_score_and_reasons(people, officer):
    again = add(officer, surname="Moyo", given_names="Tendayi", date_of_birth=date(1991, 9, 4), national_id="",
                passport_number="FN123123", phone="")
    db.session.commit()
    stats = {}
    steps = []
    assert scan(progress=steps.append, batch=2, stats=stats) == 1
    db.session.commit()
    [candidate] = db.session.scalars(select(DuplicateCandidate)).all()
    assert {candidate.first_person_id, candidate.second_person_id} == {people["tendai"].id, again.id}
    assert candidate.status == "open" and candidate.score >= 0.5
    assert "given name is a spelling variant" in candidate.reasons and "day and month of birth swapped" in candidate.reasons
    assert "day and month of birth swapped" in candidate.reason
    assert stats["pairs"] >= stats["scored"] >= 1
    assert sum(steps) == scan_total() > count(PersonMatchKey) * 4  # every key row read once per pass it is in
    # Again: nothing new. A decided pair is not reopened, and a linked pair is not queued.
    assert scan() == 0
    mark_distinct(candidate, officer)
    db.session.commit()
    assert scan() == 0 and db.session.get(DuplicateCandidate, candidate.id).status == "distinct"


def test_scan_skips_linked_records_and_fills_in_pairs_queued_by_national_id(people, officer):
    again = add(officer, surname="Moyo", given_names="Tendai", date_of_birth=BORN, national_id="",
                passport_number="FN123123", phone="")
    pair = queue_pair(people["tendai"].id, again.id, "same national ID (ZW), registered at BBR and HRE")
    db.session.flush()
    assert scan() == 0  # already queued: given its score and reasons, not queued twice
    assert pair.score is not None and "same given names" in pair.reasons
    link(pair, officer)
    db.session.delete(pair)
    db.session.commit()
    assert scan() == 0 and count(DuplicateCandidate) == 0


def test_scan_first_gives_keys_to_people_written_past_the_flush_hook(people, officer):
    again = add(officer, surname="Moyo", given_names="Tendayi", date_of_birth=BORN, national_id="",
                passport_number="FN123123", phone="")
    db.session.commit()
    # As a bulk insert would leave them: two people without keys.
    db.session.execute(PersonMatchKey.__table__.delete().where(
        PersonMatchKey.person_id.in_([again.id, people["stranger"].id])))
    db.session.commit()
    stats = {}
    assert scan(stats=stats) == 1 and stats["keys_filled"] == 2
    assert keys_of(again) is not None and keys_of(people["stranger"]) is not None
