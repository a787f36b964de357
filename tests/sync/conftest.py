"""Sync fixtures: central as a real HTTP server on 127.0.0.1 (SQLite and PostgreSQL), offices on SQLite."""
import shutil
from contextlib import contextmanager

import pytest
from sqlalchemy import delete

from registry.core.db import command_transaction
from registry.extensions import db
from registry.sync.central import issue_secret
from registry.sync.models import OutboxEntry
from tests.conftest import make_app
from tests.support.live_server import LiveServer


@pytest.fixture
def central_app(database_url):
    app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def central(central_app):
    with LiveServer(central_app) as server:
        server.app = central_app
        yield server


def secret_for(central_app, code):
    with central_app.app_context(), command_transaction():
        return issue_secret(code)


@pytest.fixture
def make_office(central, central_app, sqlite_template, tmp_path):
    """make_office('BBR') -> an office app on its own SQLite copy, configured to sync with `central`."""
    apps = []

    def build(code, secret=None, **config):
        path = tmp_path / f"office-{code.lower()}-{len(apps)}.db"
        shutil.copyfile(sqlite_template, path)
        app = make_app(f"sqlite:///{path}", OFFICE_CODE=code, CENTRAL_URL=central.url,
                       OFFICE_SECRET=secret or secret_for(central_app, code), **config)
        apps.append(app)
        with app.app_context(), command_transaction():
            # The seed (offices, users and their audit events) is central's too: a fresh node owes it nothing.
            db.session.execute(delete(OutboxEntry))
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def within(app):
    with app.app_context():
        yield
        db.session.rollback()
