"""Fixtures: an office app on a migrated database per test, on SQLite and on PostgreSQL.

Each backend's schema is built once by the real migrations (never create_all) and seeded with offices
and users; every test then gets its own copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL). Where PostgreSQL or Chromium is missing the tests that need them skip, except in CI, where
a skip of that kind is an error.
"""
import os
import shutil

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from registry import create_app
from registry.core.db import command_transaction
from registry.extensions import db
from registry.offices.services import OfficeData, create_office
from tests.support.factories import PASSWORD, USERS, make_user
from tests.support.postgres import PostgresUnavailable, TemporaryPostgres, scratch_database

IN_CI = os.environ.get("CI") == "true"
BACKENDS = ("sqlite", "postgresql")
TEST_CONFIG = {
    "REGISTRY_ENV": "test",
    "REGISTRY_ROLE": "office",
    "OFFICE_CODE": "BBR",
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production uses scrypt
    "CENTRAL_URL": "http://127.0.0.1:9/",  # discard port: a test can never reach a real server
}


def skip_or_fail(reason):
    """Skipping a PostgreSQL or browser test is fine on a laptop, and an error in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run these tests, not skip them)", pytrace=False)
    pytest.skip(reason)


def make_app(database_url, **overrides):
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **overrides})


def seed(app):
    with app.app_context(), command_transaction():
        for code, name, kind, country, subdivision in (
            ("HQ", "Head Office", "head_office", "ZW", "ZW-HA"),
            ("BBR", "Labour Migration Centre, Beitbridge", "border_post", "ZW", "ZW-MS"),
            ("HRE", "District Labour Office, Harare", "district_office", "ZW", "ZW-HA"),
        ):
            create_office(OfficeData(code, name, kind, country, subdivision, default_destination="ZA"))
        for username, role, office in USERS:
            make_user(username=username, role=role, office=office)


def build_template(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade()
    seed(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.db"
    build_template(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server():
    if os.environ.get("REGISTRY_TEST_POSTGRES_URL"):
        yield None
        return
    try:
        server = TemporaryPostgres().start()
    except PostgresUnavailable as exc:
        yield exc
        return
    yield server
    server.stop()


def _postgres_admin_url(server):
    return os.environ.get("REGISTRY_TEST_POSTGRES_URL") or server.url("postgres")


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    if isinstance(postgres_server, PostgresUnavailable):
        return postgres_server
    admin_url = _postgres_admin_url(postgres_server)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS registry_template"))
        connection.execute(text("CREATE DATABASE registry_template"))
    engine.dispose()
    build_template(admin_url.rsplit("/", 1)[0] + "/registry_template")
    return admin_url


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    """A fresh, migrated, seeded database for one test."""
    if backend == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    if isinstance(template, PostgresUnavailable):
        skip_or_fail(f"PostgreSQL unavailable: {template}")
    with scratch_database(template, "t", template="registry_template") as url:
        yield url


@pytest.fixture
def app(database_url):
    application = make_app(database_url)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def user(username):
    from registry.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def officer(ctx):
    return user("officer")


@pytest.fixture
def login():
    """login(client, username) logs that seeded user in through the real form."""

    def do_login(client, username, password=PASSWORD):
        page = client.get("/login")
        token = extract_csrf(page.get_data(as_text=True))
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 302, f"login of {username} failed"
        return response

    return do_login


def extract_csrf(html):
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.find(marker)
    if start < 0:
        marker = 'name="csrf_token" value="'
        start = html.find(marker)
    assert start >= 0, "no CSRF token on the page"
    start += len(marker)
    return html[start:html.index('"', start)]
