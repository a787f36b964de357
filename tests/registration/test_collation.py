"""Prefix filters must not depend on the database's collation. The test server uses C.UTF-8, but a
production PostgreSQL cluster is often initialised with a linguistic collation (en_US.UTF-8, ICU), where
punctuation such as ':' or '[' does not sort after digits and letters."""
from datetime import date

import pytest
from sqlalchemy import text

from registry.extensions import db
from registry.people.services import create_person, search_people
from registry.registration.services import RegistrationFilters, filtered_registrations, register
from tests.support.factories import person_data, registration_data


@pytest.mark.parametrize("backend", ["postgresql"])
def test_prefix_filters_work_under_a_linguistic_collation(ctx, officer):
    collation = db.session.scalar(text("SELECT collname FROM pg_collation WHERE collname = 'und-x-icu'"))
    if collation is None:
        pytest.skip("this PostgreSQL has no ICU collations")
    db.session.execute(text('ALTER TABLE registration ALTER COLUMN occupation_code TYPE varchar(4) COLLATE "und-x-icu"'))
    db.session.execute(text('ALTER TABLE person ALTER COLUMN surname_key TYPE varchar(80) COLLATE "und-x-icu"'))
    db.session.commit()

    person = create_person(person_data(surname="Munyaza", given_names="Tinashe"), officer)
    elementary = register(officer, registration_data(occupation_code="9211"), person=person, today=date(2026, 1, 5))
    builder = register(officer, registration_data(occupation_code="7112"), person=person, today=date(2026, 1, 6))
    db.session.flush()

    def found(code):
        return db.session.scalars(filtered_registrations(RegistrationFilters(occupation=code))).all()

    assert found("9") == [elementary]
    assert found("92") == [elementary]
    assert found("921") == [elementary]
    assert found("71") == [builder]
    assert search_people("Munyaz") == [person]
    assert search_people("Mu") == [person]
