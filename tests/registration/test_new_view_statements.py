"""What a registration POST asks of the database, in which order: every read comes before the first write.

On SQLite the first write takes the write lock, which every other officer saving at that moment waits for,
so nothing may read while holding it; and the request's final commit must not make anything read again.
"""
import re

import pytest
from sqlalchemy import event, select

from registry.extensions import db
from registry.offices.models import Office
from registry.registration.models import Registration
from tests.registration.helpers import read_form, row_counts, submit

FIRST_WORD = re.compile(r"\s*(\w+)")


@pytest.fixture
def officer_client(client, login):
    login(client, "officer")
    return client


@pytest.fixture
def statements(app):
    """Every statement the app's engine runs from now on, as (first word, statement), and "COMMIT" marks."""
    seen = []

    def before_cursor_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append((FIRST_WORD.match(statement).group(1).upper(), statement))

    def commit(_conn):
        seen.append(("COMMIT", ""))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine, "commit", commit)
    yield seen
    event.remove(engine, "before_cursor_execute", before_cursor_execute)
    event.remove(engine, "commit", commit)


def new_form(client, **changes):
    page = client.get("/registrations/new")
    assert page.status_code == 200
    data = read_form(page.get_data(as_text=True))
    data.update(surname="Moyo", given_names="Tendai", sex="F", date_of_birth="1995-03-14",
                national_id="63-417211 A 78", phone="077 212 3456", home_subdivision="ZW-MV",
                home_district="Chiredzi", languages=["sna", "eng"], education_level="3", consent="y",
                destination_subdivision="ZA-LP", intended_sector="A", occupation_code="9211",
                skills="Citrus picking", years_experience="2")
    return submit(data, **changes)


def test_a_registration_reads_everything_before_its_first_write_and_nothing_after_its_commit(
        app, officer_client, statements):
    data = new_form(officer_client)
    statements.clear()
    response = officer_client.post("/registrations/new", data=data)
    assert response.status_code == 302
    kinds = [kind for kind, _ in statements]
    writes = [index for index, kind in enumerate(kinds) if kind in ("INSERT", "UPDATE", "DELETE")]
    assert writes, kinds
    first_write = statements[writes[0]][1]
    assert first_write.lstrip().upper().startswith("UPDATE REGISTRATION_SEQUENCE"), first_write
    assert "SELECT" not in kinds[writes[0]:], kinds  # nothing read while holding the write lock
    assert kinds.count("COMMIT") == 1 and kinds[-1] == "COMMIT", kinds  # nothing read again after it
    assert not [sql for kind, sql in statements if kind == "SELECT" and re.search(r"\bFROM office\b", sql)]
    with app.app_context():
        assert db.session.scalar(select(Registration.registration_number)) == response.headers["Location"].rsplit(
            "/", 1)[-1]


def test_the_form_offers_the_office_default_destination_and_a_post_without_one_uses_it(app, officer_client):
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "BBR"))
        office.default_destination = "BW"
        db.session.commit()
    data = new_form(officer_client, destination_subdivision="")
    assert data["destination_country"] == "BW"  # preselected on the page
    before = row_counts(app)
    response = officer_client.post("/registrations/new", data=dict(data, destination_country=""))
    assert response.status_code == 302
    assert row_counts(app)["registration"] == before["registration"] + 1
    with app.app_context():
        assert db.session.scalar(select(Registration.destination_country)) == "BW"
