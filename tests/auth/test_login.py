"""Logging in and out: passwords, lockout and unlocking, disabled accounts, redirects and CSRF."""
from datetime import timedelta

from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.auth.models import LoginThrottle, User
from registry.auth.services import UserData, update_user
from registry.core.db import command_transaction
from registry.core.types import utcnow
from registry.extensions import db
from tests.conftest import extract_csrf
from tests.support.factories import PASSWORD


def try_login(client, username, password, next_=None):
    """Post the real login form (with its CSRF token); return the response."""
    page = client.get("/login" + (f"?next={next_}" if next_ else ""))
    data = {"username": username, "password": password, "csrf_token": extract_csrf(page.get_data(as_text=True))}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data)


def is_logged_in(client):
    response = client.get("/")
    return response.status_code == 302 and not response.headers["Location"].startswith("/login")


def events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_login_with_right_password_logs_in_and_is_audited(app, client):
    response = try_login(client, "  Officer ", PASSWORD)  # names are trimmed and compared in lower case
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)
    logged_in = events(app, "user.logged_in")
    assert [event.actor for event in logged_in] == ["officer"]
    assert logged_in[0].office_code == "BBR"


def test_wrong_password_and_unknown_user_get_the_same_message(app, client):
    for username, password in (("officer", "not the password at all"), ("nobody.here", PASSWORD)):
        response = try_login(client, username, password)
        assert response.status_code == 200
        assert "Wrong username or password." in response.get_data(as_text=True)
        assert not is_logged_in(client)
        with app.app_context():
            assert db.session.get(LoginThrottle, username).failures == 1
    assert events(app, "user.logged_in") == []


def test_lockout_after_max_failures_refuses_even_the_right_password(app, client):
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert limit > 1
    for attempt in range(1, limit + 1):
        page = try_login(client, "officer", f"wrong password {attempt}").get_data(as_text=True)
        if attempt < limit:
            assert "Wrong username or password." in page
            assert events(app, "user.locked_out") == []
    assert "Too many failed attempts" in page

    response = try_login(client, "officer", PASSWORD)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Too many failed attempts" in text and "locked" in text and "administrator" in text
    assert not is_logged_in(client)

    locked_out = events(app, "user.locked_out")
    assert len(locked_out) == 1
    assert locked_out[0].details == {"username": "officer", "after_failures": limit}
    assert events(app, "user.logged_in") == []
    # Another user is not affected by officer's lockout.
    other = app.test_client()
    assert try_login(other, "supervisor", PASSWORD).status_code == 302


def test_lockout_counts_unknown_names_too(app, client):
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        try_login(client, "guessed.name", f"guess {attempt}")
    assert "Too many failed attempts" in try_login(client, "guessed.name", "guess").get_data(as_text=True)
    assert [event.details["username"] for event in events(app, "user.locked_out")] == ["guessed.name"]


def test_a_success_before_the_limit_resets_the_count(app, client):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for attempt in range(limit - 1):
        try_login(client, "officer", f"wrong {attempt}")
    assert try_login(client, "officer", PASSWORD).status_code == 302
    assert count(app, LoginThrottle) == 0
    client.post("/logout", data={"csrf_token": extract_csrf(client.get("/account/password").get_data(as_text=True))})
    for attempt in range(limit - 1):
        try_login(client, "officer", f"wrong again {attempt}")
    assert try_login(client, "officer", PASSWORD).status_code == 302


def test_a_lockout_ends_when_its_time_is_up(app):
    lock_out(app, "officer")
    with app.app_context(), command_transaction():
        throttle = db.session.get(LoginThrottle, "officer")
        assert throttle.locked_until - utcnow() > timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] - 1)
        throttle.locked_until = utcnow() - timedelta(seconds=1)  # as if the lockout minutes had passed
    assert try_login(app.test_client(), "officer", PASSWORD).status_code == 302


def lock_out(app, username):
    client = app.test_client()
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        try_login(client, username, f"wrong {attempt}")
    assert "Too many failed attempts" in try_login(client, username, PASSWORD).get_data(as_text=True)


def test_admin_unlocks_in_the_web_ui(app, client, login):
    lock_out(app, "officer")
    login(client, "admin")
    assert client.post("/admin/users/officer/unlock").status_code == 400  # no CSRF token: refused
    assert count(app, LoginThrottle) == 1
    users_page = client.get("/admin/users").get_data(as_text=True)
    officer_row = next(row for row in users_page.split("<tr>") if ">officer<" in row)
    assert "Locked" in officer_row and "/admin/users/officer/unlock" in officer_row
    supervisor_row = next(row for row in users_page.split("<tr>") if ">supervisor<" in row)
    assert "Locked" not in supervisor_row

    token = extract_csrf(users_page)
    response = client.post("/admin/users/officer/unlock", data={"csrf_token": token})
    assert response.status_code == 302
    assert "can log in again" in client.get(response.headers["Location"]).get_data(as_text=True)

    unlocked = events(app, "user.unlocked")
    assert [(event.actor, event.details["username"]) for event in unlocked] == [("admin", "officer")]
    assert try_login(app.test_client(), "officer", PASSWORD).status_code == 302


def test_flask_users_unlock(app, runner):
    lock_out(app, "officer")
    result = runner.invoke(args=["users", "unlock", "Officer"])
    assert result.exit_code == 0, result.output
    assert "officer unlocked" in result.output.lower()
    assert [event.actor for event in events(app, "user.unlocked")] == ["system"]
    assert try_login(app.test_client(), "officer", PASSWORD).status_code == 302


def test_disabled_user_cannot_log_in(app, client):
    with app.app_context(), command_transaction():
        user = db.session.scalar(select(User).where(User.username == "officer"))
        update_user(user, UserData("officer", user.full_name, user.role, user.office_code, active=False), user.version)
    response = try_login(client, "officer", PASSWORD)
    assert response.status_code == 200
    assert "This account is disabled" in response.get_data(as_text=True)
    assert not is_logged_in(client)
    assert events(app, "user.logged_in") == []


def test_next_redirects_only_within_the_site(client):
    response = try_login(client, "officer", PASSWORD, next_="/registrations/summary")
    assert response.headers["Location"] == "/registrations/summary"
    for target in ("//evil.example", "//evil.example/people/", "https://evil.example/", "http:evil.example",
                   "javascript:alert(1)", "evil.example"):
        other = client.application.test_client()
        response = try_login(other, "officer", PASSWORD, next_=target)
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location == "/", f"next={target!r} sent the user to {location!r}"

    # A page asked for before logging in is where the login ends.
    client = client.application.test_client()
    response = client.get("/registrations/summary")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    followed = client.get(response.headers["Location"])
    assert followed.status_code == 200
    token = extract_csrf(followed.get_data(as_text=True))
    html = followed.get_data(as_text=True)
    assert 'value="/registrations/summary' in html  # the hidden next field carries it through the POST
    response = client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token,
                                           "next": "/registrations/summary?"})
    assert response.headers["Location"].startswith("/registrations/summary")


def test_logout_needs_post_with_csrf(app, client, login):
    login(client, "officer")
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert is_logged_in(client)
    assert events(app, "user.logged_out") == []

    token = extract_csrf(client.get("/account/password").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(client)
    assert [event.actor for event in events(app, "user.logged_out")] == ["officer"]


def test_login_post_without_csrf_token_is_refused_and_records_nothing(app, client):
    response = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert not is_logged_in(client)
    assert count(app, LoginThrottle) == 0
    assert count(app, AuditEvent) == events_before_any_request(app)
    client.get("/login")
    forged = client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert not is_logged_in(client)


def events_before_any_request(app):
    """Seeding records office.created and user.created events; nothing else should be there."""
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert actions <= {"office.created", "user.created"}, actions
        return db.session.scalar(select(func.count()).select_from(AuditEvent))
