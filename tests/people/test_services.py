"""create_person, update_person, search_people and likely_duplicates on a real database."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import (
    DuplicateNationalId, create_person, get_person, likely_duplicates, person_data_from, search_people, update_person,
    validate_person,
)
from tests.conftest import user
from tests.registration.helpers import registration_at_hre, row_counts
from tests.support.factories import person_data


def events(action, entity=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if entity is not None:
        query = query.where(AuditEvent.entity_id == entity.id)
    return db.session.scalars(query).all()


def test_create_person_stores_normalised_values_and_consent(ctx, officer):
    person = create_person(person_data(surname="ndlovu", national_id="63 777777 b 12", phone="0772123456"), officer)
    db.session.commit()
    stored = db.session.get(Person, person.id)
    assert stored.surname == "ndlovu" and stored.surname_key == "NDLOVU"
    assert stored.national_id == "63777777B12" and stored.national_id_country == "ZW"
    assert stored.phone == "+263772123456"
    assert stored.consent_recorded_by == "officer" and stored.consent_at is not None
    assert (stored.origin_office, stored.version) == ("BBR", 1)
    [created] = events("person.created", stored)
    assert (created.actor, created.office_code) == ("officer", "BBR")

    # A refused person leaves nothing behind.
    before = row_counts()
    with pytest.raises(ValidationFailed):
        create_person(person_data(consent=False), officer)
    assert not db.session.new
    assert row_counts() == before


def test_update_person_records_before_and_after(ctx, officer):
    person = create_person(person_data(surname="Moyo", date_of_birth=date(1990, 1, 2), phone=""), officer)
    db.session.commit()
    data = person_data_from(person)
    data.surname, data.date_of_birth, data.phone = "Moyo-Ncube", date(1990, 2, 1), "0772000111"
    _, changed = update_person(person, data, 1, officer)
    db.session.commit()
    assert changed
    stored = db.session.get(Person, person.id)
    assert (stored.surname, stored.surname_key, stored.version) == ("Moyo-Ncube", "MOYO NCUBE", 2)
    [updated] = events("person.updated", stored)
    assert updated.details["before"] == {"surname": "Moyo", "surname_key": "MOYO", "date_of_birth": "1990-01-02",
                                         "phone": None}
    assert updated.details["after"] == {"surname": "Moyo-Ncube", "surname_key": "MOYO NCUBE",
                                        "date_of_birth": "1990-02-01", "phone": "+263772000111"}

    # Saving the same details again changes nothing and writes nothing.
    before = row_counts()
    _, changed = update_person(stored, person_data_from(stored), 2, officer)
    assert not changed
    assert row_counts() == before
    assert stored.version == 2


def test_update_refuses_a_stale_form_and_another_office(ctx, database_url, officer):
    person = create_person(person_data(), officer)
    db.session.commit()
    data = person_data_from(person)
    data.surname = "Changed"
    before = row_counts()
    with pytest.raises(StaleVersion, match="Someone changed this person's record since you opened it"):
        update_person(person, data, 0, officer)
    assert row_counts() == before

    _, hre_person_id = registration_at_hre(database_url, surname="Chikore")
    hre_person = get_person(hre_person_id)
    before = row_counts()
    with pytest.raises(Forbidden, match="registered at HRE; only that office can change the record"):
        update_person(hre_person, person_data_from(hre_person), hre_person.version, officer)
    with pytest.raises(Forbidden):
        update_person(hre_person, person_data_from(hre_person), hre_person.version, user("statistician"))
    assert row_counts() == before
    db.session.refresh(hre_person)
    assert hre_person.surname == "Chikore"
    # An administrator may correct any office's record.
    data = person_data_from(hre_person)
    data.given_names = "Farai"
    assert update_person(hre_person, data, hre_person.version, user("admin"))[1]


def test_update_refuses_another_persons_national_id(ctx, officer):
    first = create_person(person_data(national_id="63-111111 A 11"), officer)
    second = create_person(person_data(national_id="63-222222 B 22", surname="Sibanda"), officer)
    db.session.commit()
    data = person_data_from(second)
    data.national_id = "63111111A11"
    with pytest.raises(DuplicateNationalId) as caught:
        update_person(second, data, second.version, officer)
    assert caught.value.existing.id == first.id
    db.session.rollback()
    assert db.session.get(Person, second.id).national_id == "63222222B22"


def test_get_person_hides_tombstones_and_unknown_ids(ctx, officer):
    person = create_person(person_data(), officer)
    assert get_person(person.id) is person
    person.mark_deleted()
    db.session.flush()
    with pytest.raises(NotFound):
        get_person(person.id)
    with pytest.raises(NotFound):
        get_person("not-a-uuid")


def test_search_by_identifier_in_any_spelling(ctx, officer):
    person = create_person(person_data(national_id="63-123456 A 78", passport_number="FN123456"), officer)
    create_person(person_data(surname="Other"), officer)
    assert search_people("63123456a78") == [person]
    assert search_people(" 63-123456 A 78 ") == [person]
    assert search_people("fn 123456") == [person]
    assert search_people("") == [] and search_people("   ") == []


def test_search_by_name_in_either_order_with_accents_and_birth_date(ctx, officer):
    tendai = create_person(person_data(surname="Moyo", given_names="Tendai", date_of_birth=date(1995, 3, 14)), officer)
    rudo = create_person(person_data(surname="Moyo", given_names="Rudo", date_of_birth=date(1990, 1, 1)), officer)
    mpofu = create_person(person_data(surname="Mpofu", given_names="Tendai", date_of_birth=date(1995, 3, 14)), officer)
    gone = create_person(person_data(surname="Moyo", given_names="Tendai", date_of_birth=date(1999, 9, 9)), officer,
                         override_duplicates=True)
    gone.mark_deleted()
    db.session.flush()
    assert search_people("Tendai Moyo")[0] == tendai
    assert search_people("MOYO tendai")[0] == tendai
    assert set(search_people("Móyo")) == {tendai, rudo}
    assert set(search_people("mo")) == {tendai, rudo}  # a single word is a surname prefix
    assert search_people("Moyo", born=date(1990, 1, 1)) == [rudo]
    assert set(search_people("", born=date(1995, 3, 14))) == {tendai, mpofu}
    assert gone not in search_people("Moyo")
    assert search_people("Ncube") == []
    assert len(search_people("Mo", limit=1)) == 1


def test_likely_duplicates_are_ranked_best_first_and_need_not_share_the_birth_date(ctx, officer):
    born = date(1992, 7, 7)
    exact = create_person(person_data(surname="Chiweshe", given_names="Tapiwa", date_of_birth=born), officer)
    typo = create_person(person_data(surname="Chiweshe", given_names="Tapiwe", date_of_birth=born), officer,
                         override_duplicates=True)
    other_day = create_person(person_data(surname="Chiweshe", given_names="Tapiwa", date_of_birth=date(1992, 7, 8)),
                              officer, override_duplicates=True)
    create_person(person_data(surname="Nyathi", given_names="Sipho", date_of_birth=born), officer)
    # The same person again, this time with a passport: no national ID to tell the records apart.
    values = validate_person(person_data(surname="Chiweshe", given_names="Tapiwa", date_of_birth=born,
                                         national_id="", passport_number="FN998877"))
    found = likely_duplicates(values)
    assert [match.person for match in found] == [exact, typo, other_day]
    assert found[0].score > found[1].score > found[2].score >= 0.5
    assert "same date of birth" in found[0].reasons and "date of birth differs by one typing slip" in found[2].reasons
    assert [match.person for match in likely_duplicates(values, exclude_id=exact.id)] == [typo, other_day]