"""Sessions end after IDLE_TIMEOUT_MINUTES without a request and SESSION_MAX_HOURS after logging in;
the login form and the sync API are rate limited (per client address, per office), with a clear 429."""
import time

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from registry.sync.central import issue_secret
from registry.sync.signing import sign_headers
from tests.conftest import extract_csrf, make_app


def test_a_session_idle_too_long_ends(app, client, login):
    login(client, "officer")
    assert client.get("/people/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 29 * 60
    assert client.get("/people/").status_code == 200  # still within the 30 minutes, and now fresh again
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/people/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "logged out after 30 minutes without activity" in page
    assert client.get("/people/").status_code == 302  # and stays logged out
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.session_expired"))
        assert event is not None and event.actor == "officer"


def test_a_session_ends_hours_after_login_however_busy(client, login):
    login(client, "officer")
    with client.session_transaction() as session:
        session["logged_in_at"] = int(time.time()) - 13 * 3600
    response = client.get("/people/")
    assert response.status_code == 302
    assert "12 hours after logging in" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_idle_timeout_is_configurable(database_url, login):
    app = make_app(database_url, IDLE_TIMEOUT_MINUTES=5)
    client = app.test_client()
    login(client, "officer")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 6 * 60
    assert client.get("/people/").status_code == 302
    with app.app_context():
        db.engine.dispose()


def failed_login(client, address="198.51.100.7"):
    token = extract_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": "nobody", "password": "wrong password", "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_login_attempts_are_rate_limited_per_address(database_url):
    app = make_app(database_url, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    assert [failed_login(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = failed_login(client)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the form itself still opens
    assert failed_login(client, address="198.51.100.8").status_code == 200  # another address is not held up
    with app.app_context():
        db.engine.dispose()


def test_behind_a_proxy_the_forwarded_address_counts(database_url):
    app = make_app(database_url, LOGIN_RATE_LIMIT="2 per minute", PROXY_COUNT=1)
    client = app.test_client()

    def attempt(forwarded):
        token = extract_csrf(client.get("/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True))
        return client.post("/login", data={"username": "x", "password": "y", "csrf_token": token},
                           headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.2") == 200  # the proxy's own address is not one bucket for everyone
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def central_client(database_url):
    app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ", SYNC_RATE_LIMIT="3 per minute")
    with app.app_context(), command_transaction():
        secrets = {code: issue_secret(code) for code in ("BBR", "HRE")}
    yield app.test_client(), secrets
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_sync_api_is_rate_limited_per_office(central_client):
    client, secrets = central_client

    def pull(office):
        path = "/api/v1/sync/pull?after=0&limit=5"
        return client.get(path, headers=sign_headers(office, secrets[office], "GET", path, b""))

    assert [pull("BBR").status_code for _ in range(3)] == [200, 200, 200]
    refused = pull("BBR")
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["status"] == 429 and error["code"] == "too_many_requests" and "Wait a minute" in error["message"]
    assert pull("HRE").status_code == 200  # each office has its own allowance
