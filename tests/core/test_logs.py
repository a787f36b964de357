"""Logs are JSON lines with a request id, and never carry a migrant's name or ID number, whatever the
officer did: register, search by name and by ID, open the record, make a mistake, hit a database error."""
import json

import pytest
from sqlalchemy.exc import IntegrityError

from registry.core.db import command_transaction
from registry.extensions import db
from tests.conftest import make_app
from tests.registration.helpers import read_form, submit

SURNAME, GIVEN, NATIONAL_ID = "Zvobgo", "Nyasha", "63-987654 Q 21"


@pytest.fixture
def logged_app(database_url, capfd):
    """A new app, so the log handler writes to the captured standard error."""
    app = make_app(database_url, LOG_LEVEL="DEBUG")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def log_lines(capfd):
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("{")]
    return err, [json.loads(line) for line in lines]


def test_a_day_of_work_leaves_no_personal_data_in_the_logs(logged_app, login, capfd):
    client = logged_app.test_client()
    login(client, "officer")
    page = client.get("/registrations/new")
    data = submit(dict(read_form(page.get_data(as_text=True))),
                  surname=SURNAME, given_names=GIVEN, sex="F", date_of_birth="1994-07-02", national_id=NATIONAL_ID,
                  phone="077 298 7654", home_subdivision="ZW-MV", home_district="Chiredzi", languages=["sna"],
                  education_level="3", consent="y", destination_subdivision="ZA-LP", intended_sector="A",
                  occupation_code="9211", skills="Citrus picking", years_experience="2")
    created = client.post("/registrations/new", data=data)
    assert created.status_code == 302
    record = created.headers["Location"]
    number = record.rsplit("/", 1)[-1]
    assert client.get(record).status_code == 200
    for query in (SURNAME, f"{GIVEN} {SURNAME}", NATIONAL_ID, number):
        assert client.get("/people/", query_string={"q": query}).status_code == 200
    # A mistake (the same national ID again) and a page that does not exist, named after the person.
    client.post("/registrations/new", data=data)
    client.get(f"/people/{SURNAME}")
    # A database error whose statement carried the person's values.
    with logged_app.app_context():
        try:
            with command_transaction():
                db.session.execute(db.text("INSERT INTO person (id, surname) VALUES (:id, :surname)"),
                                   {"id": "not-a-uuid", "surname": SURNAME})
        except Exception as exc:  # noqa: BLE001  (what matters is what the app would log)
            logged_app.logger.exception("database error: %s", exc)

    err, lines = log_lines(capfd)
    assert lines, "nothing was logged"
    requests_logged = [line for line in lines if line.get("message") == "request"]
    assert len(requests_logged) >= 8
    for line in requests_logged:
        assert len(line["request_id"]) >= 8 and line["status"] and line["method"]
    assert {line["route"] for line in requests_logged} >= {"/registrations/new", "/people/"}
    assert any(line["message"].startswith("database error") for line in lines)
    for secret in (SURNAME, SURNAME.upper(), GIVEN, NATIONAL_ID, "987654", "2987654", number):
        assert secret not in err, f"{secret!r} appears in the logs"


def test_each_request_gets_an_id_in_its_response_and_log(logged_app, capfd):
    client = logged_app.test_client()
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first and second and first != second
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-0123456789abcdef"}).headers["X-Request-ID"]
    assert kept == "nginx-0123456789abcdef"
    refused = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert refused != "bad id <script>"
    _, lines = log_lines(capfd)
    assert [line["request_id"] for line in lines if line.get("route") == "/healthz"] == \
        [first, second, kept, refused]
