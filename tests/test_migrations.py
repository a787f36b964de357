"""Migrations: an empty database upgraded to head equals the models, on SQLite and PostgreSQL; downgrade to
base and upgrade again works; the ISCO-08 rows get the same UUIDs everywhere."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text

from registry.codes.isco import isco_row_id, read_packaged
from registry.codes.models import IscoGroup
from registry.extensions import db
from tests.conftest import BACKENDS, _postgres_admin_url, make_app, skip_or_fail
from tests.support.postgres import PostgresUnavailable, scratch_database


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """A database with nothing in it: no tables, no alembic_version."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    server = request.getfixturevalue("postgres_server")
    if isinstance(server, PostgresUnavailable):
        skip_or_fail(f"PostgreSQL unavailable: {server}")
    admin_url = _postgres_admin_url(server)
    with scratch_database(admin_url, "m") as url:
        yield url


@pytest.fixture
def empty_app(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences():
    """What autogenerate would write to bring the database in line with the models (nothing, we hope)."""
    migrate_config = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": migrate_config.get("compare_type", True),
            "render_as_batch": migrate_config.get("render_as_batch", True),
        })
        return compare_metadata(context, db.metadata)


def table_names():
    return set(inspect(db.engine).get_table_names())


def isco_ids():
    return {code: row_id for code, row_id in db.session.execute(select(IscoGroup.code, IscoGroup.id))}


def test_there_is_one_head(empty_app):
    scripts = ScriptDirectory.from_config(empty_app.extensions["migrate"].migrate.get_config())
    assert len(scripts.get_heads()) == 1


def test_upgrade_to_head_matches_the_models_and_survives_downgrade_to_base(empty_app):
    assert table_names() == set()
    upgrade()
    assert schema_differences() == []
    model_tables = set(db.metadata.tables)
    assert model_tables <= table_names()
    ids = isco_ids()
    assert ids == {entry.code: isco_row_id(entry.code) for entry in read_packaged()}
    db.session.remove()

    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}

    upgrade()
    assert schema_differences() == []
    assert isco_ids() == ids
    upgrade()  # at head already: nothing to do, nothing breaks
    assert schema_differences() == []

    # The comparison does see a drift: a column the models do not have.
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE office ADD COLUMN stray INTEGER"))
    drift = schema_differences()
    assert [(change[0], change[2], change[3].name) for change in drift] == [("remove_column", "office", "stray")]


def test_isco_rows_have_the_same_uuids_on_sqlite_and_postgresql(sqlite_template, postgres_template):
    if isinstance(postgres_template, PostgresUnavailable):
        skip_or_fail(f"PostgreSQL unavailable: {postgres_template}")
    found = {}
    for backend, url in (("sqlite", f"sqlite:///{sqlite_template}"),
                         ("postgresql", postgres_template.rsplit("/", 1)[0] + "/registry_template")):
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT code, id FROM isco_group")).all()
        finally:
            engine.dispose()  # a template database must have no open connection when copied
        found[backend] = {code: uuid.UUID(str(value)) for code, value in rows}
    assert len(found["sqlite"]) == 619
    assert found["sqlite"] == found["postgresql"]
    assert all(row_id == isco_row_id(code) for code, row_id in found["sqlite"].items())
