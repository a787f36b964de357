"""The optional second factor for administrators: set up at head office with a real TOTP code, asked
after the password, used once, counted towards the lockout, refused at offices, removable."""
import time

import pyotp
import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth.models import SecondFactor, User
from registry.core.db import command_transaction
from registry.extensions import db
from tests.conftest import extract_csrf, make_app
from tests.support.factories import PASSWORD, make_user


@pytest.fixture
def central(database_url):
    app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post_login(client, username="admin", password=PASSWORD):
    token = extract_csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post_code(client, code):
    token = extract_csrf(client.get("/login/code").get_data(as_text=True))
    return client.post("/login/code", data={"code": code, "csrf_token": token})


def enrol(app, username="admin"):
    """Set up the second factor through the page, as the administrator would; return the secret."""
    client = app.test_client()
    assert post_login(client, username).status_code == 302
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "data:image/svg+xml;base64," in page
    with client.session_transaction() as session:
        secret = session["second_factor_secret"]
    assert secret in page
    token = extract_csrf(page)
    wrong = client.post("/account/second-factor", data={"code": "000000", "csrf_token": token})
    assert "That code is not right" in wrong.get_data(as_text=True)
    done = client.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 302
    return secret


def code_at(secret, offset_steps):
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def test_set_up_then_every_login_needs_the_code(central):
    secret = enrol(central)
    with central.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.second_factor_required
        assert db.session.get(SecondFactor, admin.id).secret == secret
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.second_factor_enabled"))

    client = central.test_client()
    response = post_login(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert client.get("/admin/users").status_code == 302  # not logged in yet: the password alone is not enough
    assert "not right" in post_code(client, "123456").get_data(as_text=True)
    assert post_code(client, code_at(secret, 1)).status_code == 302  # a phone a little ahead still works
    assert client.get("/admin/users").status_code == 200


def test_a_code_works_once(central):
    secret = enrol(central)
    code = code_at(secret, 1)
    first = central.test_client()
    post_login(first)
    assert post_code(first, code).status_code == 302
    second = central.test_client()
    post_login(second)
    refused = post_code(second, code)
    assert refused.status_code == 200 and "used already" in refused.get_data(as_text=True)


def test_wrong_codes_lock_the_account_and_the_password_does_not_reset_the_count(central):
    enrol(central)
    client = central.test_client()
    for attempt in range(4):
        post_login(client)  # the right password each time
        assert "not right" in post_code(client, "999999").get_data(as_text=True)
    post_login(client)
    locked = post_code(client, "999999").get_data(as_text=True)
    assert "locked" in locked
    with central.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.locked_out"))


def test_a_half_finished_login_expires(central):
    enrol(central)
    client = central.test_client()
    post_login(client)
    with client.session_transaction() as session:
        session["pending_login"]["at"] -= 301
        session.modified = True
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_an_office_refuses_an_account_whose_second_factor_is_at_head_office(app):
    with app.app_context(), command_transaction():
        db.session.scalar(select(User).where(User.username == "admin")).second_factor_required = True
    client = app.test_client()
    page = post_login(client).get_data(as_text=True)
    assert "checked at head office only" in page
    assert client.get("/admin/users").status_code == 302
    assert client.get("/login/code").status_code == 302  # no way round the password page


def test_offices_cannot_set_one_up(app, login):
    client = app.test_client()
    login(client, "admin")
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "set up at head office" in page and "data:image" not in page


def test_turn_off_with_a_code_and_reset_by_another_administrator(central):
    secret = enrol(central)
    with central.app_context(), command_transaction():
        make_user(username="admin2", role="admin", office="HQ")
    # Another administrator removes it (a lost phone).
    other = central.test_client()
    post_login(other, "admin2")
    page = other.get("/admin/users").get_data(as_text=True)
    assert "Remove second factor" in page
    other.post("/admin/users/admin/second-factor/reset", data={"csrf_token": extract_csrf(page)})
    with central.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert not admin.second_factor_required and db.session.get(SecondFactor, admin.id) is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset"))
    assert post_login(central.test_client()).status_code == 302
    # Set up again, then turned off by its owner with a current code.
    secret = enrol(central)
    client = central.test_client()
    post_login(client)
    assert post_code(client, code_at(secret, 1)).status_code == 302
    page = client.get("/account/second-factor").get_data(as_text=True)
    used = code_at(secret, 1)
    refused = client.post("/account/second-factor", data={"code": used, "csrf_token": extract_csrf(page)})
    assert "used already" in refused.get_data(as_text=True)  # not even to turn it off
    with central.app_context(), command_transaction():  # a minute later: the codes used are in the past
        db.session.scalar(select(SecondFactor)).last_step -= 2
    client.post("/account/second-factor", data={"code": code_at(secret, 0), "csrf_token": extract_csrf(page)})
    with central.app_context():
        assert not db.session.scalar(select(User).where(User.username == "admin")).second_factor_required


def test_only_administrators_have_a_second_factor_page(central):
    client = central.test_client()
    post_login(client, "statistician")
    assert client.get("/account/second-factor").status_code == 403
