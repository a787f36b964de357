"""Upgrading a database that already holds people gives each of them matching keys."""
from datetime import date

from flask_migrate import upgrade
from sqlalchemy import select, text

from registry.extensions import db
from registry.matching.keys import key_row
from registry.matching.models import PersonMatchKey
from tests.test_migrations import empty_app, empty_database_url  # noqa: F401  (fixtures)


def test_upgrade_gives_every_stored_person_matching_keys(empty_app):  # noqa: F811
    upgrade(revision="0006")
    people = []
    for n in range(7):
        people.append({"id": f"0190d3f0-0000-7000-8000-{n:012d}", "surname": ["Moyo", "Ndhlovu"][n % 2],
                       "given_names": "Tendayi", "born": date(1990, 1, 1 + n), "national_id": f"63{123450 + n}A78",
                       "deleted_at": "2026-01-01 00:00:00+00:00" if n == 6 else None})
    with db.engine.begin() as connection:
        for person in people:
            connection.execute(text(
                "INSERT INTO person (id, version, origin_office, updated_at, deleted_at, surname, given_names, "
                "surname_key, given_names_key, sex, date_of_birth, citizenship, national_id, national_id_country, "
                "languages, consent_at, consent_recorded_by) VALUES (:id, 1, 'BBR', '2026-01-01 00:00:00+00:00', "
                ":deleted_at, :surname, :given_names, :surname_key, :given_key, 'F', :born, 'ZW', "
                ":national_id, 'ZW', '[]', '2026-01-01 00:00:00+00:00', 'officer')"),
                {**person, "surname_key": person["surname"].upper(), "given_key": person["given_names"].upper(),
                 "id": person["id"] if db.engine.dialect.name == "postgresql" else person["id"].replace("-", "")})
    upgrade()
    stored = {str(row.person_id): row for row in db.session.scalars(select(PersonMatchKey))}
    assert len(stored) == 6  # the tombstone has none
    for person in people[:6]:
        row = stored[person["id"]]
        expected = key_row({"id": row.person_id, "surname": person["surname"], "given_names": person["given_names"],
                            "date_of_birth": person["born"], "national_id": person["national_id"],
                            "passport_number": None, "phone": None, "deleted_at": None})
        assert {name: getattr(row, name) for name in expected} == expected
