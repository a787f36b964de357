"""User administration (web and `flask users`), the password policy, and ending sessions."""
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.auth.services import MIN_PASSWORD, check_password_policy
from registry.extensions import db
from registry.sync.models import OutboxEntry
from tests.conftest import extract_csrf
from tests.support.factories import PASSWORD

NEW_PASSWORD = "a fresh passphrase 42"


def counts(app):
    """Users, audit events and outbox entries: what a refused operation must leave as it was."""
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (User, AuditEvent, OutboxEntry))


def get_user(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def can_log_in(app, username, password):
    client = app.test_client()
    token = extract_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return response.status_code == 302


def still_logged_in(client):
    response = client.get("/account/password")
    return response.status_code == 200


def test_password_policy():
    assert check_password_policy("correct horse battery", "officer") == []
    assert check_password_policy("Tb7kq2Lm9wZrVx"[:MIN_PASSWORD], "") == []
    # Breached and guessable passwords (OWASP ASVS 2.1.7), however long.
    assert "most common" in check_password_policy("password1234", "")[0]
    assert "most common" in check_password_policy("qwertyuiop123", "")[0]
    assert "too easy to guess" in check_password_policy("iloveyou2000", "")[0]
    assert "too easy to guess" in check_password_policy("abcdabcdabcd", "")[0]
    assert check_password_policy("abc" + "x" * (MIN_PASSWORD - 4), "") == [f"Use at least {MIN_PASSWORD} characters."]
    short = check_password_policy("abc12", "officer")
    assert any(str(MIN_PASSWORD) in problem for problem in short)
    assert check_password_policy("", "officer") == [f"Use at least {MIN_PASSWORD} characters."]
    assert "Do not put the username in the password." in check_password_policy("my Officer password", "officer")
    assert "Use more varied characters." in check_password_policy("abababababab", "")


def test_admin_creates_a_user_in_the_web_ui(app, client, login):
    login(client, "admin")
    page = client.get("/admin/users/new")
    assert page.status_code == 200
    response = client.post("/admin/users/new", data={
        "csrf_token": extract_csrf(page.get_data(as_text=True)), "username": "Tatenda.Officer",
        "full_name": "Tatenda Officer", "role": "officer", "office_code": "HRE", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD, "active": "y", "version": "0",
    })
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "User tatenda.officer created." in client.get("/admin/users").get_data(as_text=True)

    user = get_user(app, "tatenda.officer")
    assert (user.full_name, user.role, user.office_code, user.active) == ("Tatenda Officer", "officer", "HRE", True)
    assert NEW_PASSWORD not in user.password_hash
    with app.app_context():
        created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                             AuditEvent.entity_id == user.id))
        assert created.actor == "admin"
    assert can_log_in(app, "tatenda.officer", NEW_PASSWORD)


BAD_NEW_USERS = [
    ({"password": "short", "confirm": "short"}, f"Use at least {MIN_PASSWORD} characters."),
    ({"password": "newbie password", "confirm": "newbie password"}, "Do not put the username in the password."),
    ({"confirm": "something else entirely"}, "The passwords differ."),
    ({"username": "officer"}, "The username officer is taken."),
    ({"username": "Bad Name!"}, "Use 3 to 64 lower-case letters"),
    ({"office_code": "ZZZ"}, "Not a valid choice"),
    ({"role": "superuser"}, "Not a valid choice"),
    ({"full_name": ""}, "This field is required."),
]


def test_bad_new_user_is_refused_with_a_message_and_nothing_saved(app, client, login):
    login(client, "admin")
    token = extract_csrf(client.get("/admin/users/new").get_data(as_text=True))
    before = counts(app)
    for changes, message in BAD_NEW_USERS:
        data = {"csrf_token": token, "username": "newbie", "full_name": "New Bie", "role": "officer",
                "office_code": "BBR", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "active": "y",
                "version": "0", **changes}
        response = client.post("/admin/users/new", data=data)
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
        assert counts(app) == before, changes
        assert get_user(app, "newbie") is None, changes


def test_admin_edits_a_user_and_sees_stale_and_self_changes_refused(app, client, login):
    login(client, "admin")
    officer = get_user(app, "officer")
    page = client.get("/admin/users/officer")
    assert page.status_code == 200
    token = extract_csrf(page.get_data(as_text=True))
    base = {"csrf_token": token, "username": "officer", "full_name": "Rudo Officer", "role": "supervisor",
            "office_code": "BBR", "active": "y"}

    response = client.post("/admin/users/officer", data={**base, "version": str(officer.version)})
    assert response.status_code == 302
    changed = get_user(app, "officer")
    assert (changed.full_name, changed.role, changed.version) == ("Rudo Officer", "supervisor", officer.version + 1)

    # A form opened before that change must not overwrite it.
    before = counts(app)
    stale = client.post("/admin/users/officer", data={**base, "role": "officer", "version": str(officer.version)})
    assert "Someone changed this user" in stale.get_data(as_text=True)
    assert get_user(app, "officer").role == "supervisor"
    assert counts(app) == before

    admin = get_user(app, "admin")
    own = client.post("/admin/users/admin", data={**base, "username": "admin", "full_name": "Admin", "role": "officer",
                                                  "office_code": "HQ", "version": str(admin.version)})
    assert "You cannot change your own role" in own.get_data(as_text=True)
    assert get_user(app, "admin").role == "admin"
    assert counts(app) == before
    assert client.get("/admin/users/nobody").status_code == 404


def test_disabling_a_user_ends_their_session(app, client, login):
    officer_client = app.test_client()
    login(officer_client, "officer")
    assert still_logged_in(officer_client)
    login(client, "admin")
    officer = get_user(app, "officer")
    token = extract_csrf(client.get("/admin/users/officer").get_data(as_text=True))
    response = client.post("/admin/users/officer", data={
        "csrf_token": token, "username": "officer", "full_name": officer.full_name, "role": "officer",
        "office_code": "BBR", "version": str(officer.version)})  # "active" unticked
    assert response.status_code == 302
    assert get_user(app, "officer").active is False
    assert not still_logged_in(officer_client)
    assert not can_log_in(app, "officer", PASSWORD)
    assert "Disabled" in client.get("/admin/users").get_data(as_text=True)


def test_changing_own_password_ends_other_sessions_but_keeps_this_one(app, login):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "officer")
    login(elsewhere, "officer")
    epoch = get_user(app, "officer").session_epoch
    page = here.get("/account/password")
    token = extract_csrf(page.get_data(as_text=True))

    before = counts(app)
    weak = here.post("/account/password", data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert f"Use at least {MIN_PASSWORD} characters." in weak.get_data(as_text=True)
    assert counts(app) == before and get_user(app, "officer").session_epoch == epoch

    response = here.post("/account/password", data={"csrf_token": token, "password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert get_user(app, "officer").session_epoch == epoch + 1
    assert still_logged_in(here)
    assert not still_logged_in(elsewhere)
    assert not can_log_in(app, "officer", PASSWORD)
    assert can_log_in(app, "officer", NEW_PASSWORD)


def test_flask_users_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Chipo.Moyo", "--role", "supervisor", "--office", "hre",
                                 "--full-name", "Chipo Moyo"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created chipo.moyo (supervisor at HRE)" in result.output
    user = get_user(app, "chipo.moyo")
    assert (user.full_name, user.role, user.office_code) == ("Chipo Moyo", "supervisor", "HRE")
    assert can_log_in(app, "chipo.moyo", NEW_PASSWORD)


BAD_CREATE_COMMANDS = [
    (["newbie", "--role", "chief", "--office", "BBR"], NEW_PASSWORD, "Invalid value for '--role'", 2),
    (["newbie", "--role", "officer", "--office", "ZZZ"], NEW_PASSWORD, "No office with code 'ZZZ'", 1),
    (["newbie", "--role", "officer", "--office", "BBR"], "short", f"password: Use at least {MIN_PASSWORD} characters.", 1),
    (["newbie", "--role", "officer", "--office", "BBR"], "", f"password: Use at least {MIN_PASSWORD} characters.", 1),
    (["officer", "--role", "officer", "--office", "BBR"], NEW_PASSWORD, "The username officer is taken.", 1),
    (["no", "--role", "officer", "--office", "BBR"], NEW_PASSWORD, "username: Use 3 to 64", 1),
    (["newbie", "--office", "BBR"], NEW_PASSWORD, "Missing option '--role'", 2),
]


def test_flask_users_create_refuses_bad_input_and_creates_nothing(app, runner):
    before = counts(app)
    for args, password, message, exit_code in BAD_CREATE_COMMANDS:
        result = runner.invoke(args=["users", "create", *args], input=password + "\n")
        assert result.exit_code == exit_code, (args, result.output)
        assert message in result.output, args
        assert "created" not in result.output, args
        assert counts(app) == before, args
        assert get_user(app, "newbie") is None, args


def test_flask_users_set_password(app, runner, login):
    officer_client = app.test_client()
    login(officer_client, "officer")
    before = counts(app)
    weak = runner.invoke(args=["users", "set-password", "officer"], input="abc\n")
    assert weak.exit_code == 1 and f"Use at least {MIN_PASSWORD} characters." in weak.output
    assert counts(app) == before
    unknown = runner.invoke(args=["users", "set-password", "ghost"], input=NEW_PASSWORD + "\n")
    assert unknown.exit_code == 1 and "No user 'ghost'" in unknown.output

    result = runner.invoke(args=["users", "set-password", "officer"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not still_logged_in(officer_client)
    assert can_log_in(app, "officer", NEW_PASSWORD)


def test_admin_setting_a_password_ends_the_users_sessions(app, client, login):
    officer_client = app.test_client()
    login(officer_client, "officer")
    login(client, "admin")
    token = extract_csrf(client.get("/admin/users/officer/password").get_data(as_text=True))
    before = counts(app)
    weak = client.post("/admin/users/officer/password", data={"csrf_token": token, "password": "officer123456",
                                                             "confirm": "officer123456"})
    assert "Do not put the username in the password." in weak.get_data(as_text=True)
    assert counts(app) == before and still_logged_in(officer_client)
    response = client.post("/admin/users/officer/password", data={
        "csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not still_logged_in(officer_client)
    assert still_logged_in(client)
    assert can_log_in(app, "officer", NEW_PASSWORD)
