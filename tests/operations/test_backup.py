"""`flask backup` and `flask restore` on real SQLite and PostgreSQL: a restore brings back the backup's
records, never gives out again a number already given out, and refuses a bad file with a clear message,
leaving the database as it was."""
import gzip
import io
import json
import sqlite3
import tarfile
import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from registry.core.db import command_transaction
from registry.extensions import db
from registry.operations.backup import MANIFEST, code_head, _scripts
from registry.people.models import Person
from registry.registration.models import Registration
from tests.conftest import make_app, user
from tests.support.factories import create_registration


def register(app, count):
    with app.app_context(), command_transaction():
        actor = user("officer")
        return [create_registration(actor=actor).registration_number for _ in range(count)]


def numbers(app):
    with app.app_context():
        return set(db.session.scalars(select(Registration.registration_number)))


def state_of(app):
    """Every row count that matters, and the registration numbers: what a refused restore must not change."""
    with app.app_context():
        counts = {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("person", "registration", "sync_outbox", "audit_event", "registration_sequence")}
        return counts, numbers(app)


@pytest.fixture
def backup_file(app, runner, tmp_path):
    register(app, 2)
    path = tmp_path / "office.backup"
    result = runner.invoke(args=["backup", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def drop_kept_database(app, output):
    """A PostgreSQL restore keeps the replaced database under another name; the test drops it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return
    kept = output.split("kept as ", 1)[1].split(";", 1)[0]
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{kept}" WITH (FORCE)'))
    engine.dispose()


def test_restore_brings_back_the_backup_and_never_reissues_a_number(app, runner, backup_file):
    kept = numbers(app)
    later = register(app, 3)
    result = runner.invoke(args=["restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    drop_kept_database(app, result.output)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    assert numbers(app) == kept
    # Numbers given out after the backup are on slips already: the next registration takes a new one.
    (fresh,) = register(app, 1)
    assert fresh not in later and fresh not in kept
    assert int(fresh.split("-")[2]) > max(int(number.split("-")[2]) for number in later)
    with app.app_context():
        state = db.session.execute(text("SELECT recover_own_after, acknowledged_through FROM sync_state")).one()
        assert state.recover_own_after is not None  # the next sync pulls back the office's own lost changes


def test_backup_file_is_a_manifest_and_the_database(app, backup_file):
    with tarfile.open(backup_file, "r:gz") as archive:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
        assert {member.name for member in archive.getmembers()} == {MANIFEST, manifest["member"]}
    assert manifest["office_code"] == "BBR" and manifest["role"] == "office"
    assert manifest["revision"] == code_head()


def repack(source, target, change_manifest=None, change_data=None):
    with tarfile.open(source, "r:gz") as archive:
        members = [(member, archive.extractfile(member).read()) for member in archive.getmembers()]
    with tarfile.open(target, "w:gz") as archive:
        for member, body in members:
            if member.name == MANIFEST and change_manifest:
                data = json.loads(body)
                change_manifest(data)
                body = json.dumps(data).encode()
            elif member.name != MANIFEST and change_data:
                body = change_data(body)
            member.size = len(body)
            archive.addfile(member, io.BytesIO(body))
    return target


def truncated(path, target):
    target.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return target


def flip_a_byte(body):
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]


BAD_FILES = {
    "truncated": (lambda path, tmp: truncated(path, tmp / "cut.backup"), "truncated, damaged or another kind"),
    "not a backup": (lambda path, tmp: (tmp / "list.csv").write_text("surname,given\nMoyo,Tendai\n") and tmp / "list.csv",
                     "truncated, damaged or another kind"),
    "gzip but no manifest": (lambda path, tmp: (tmp / "x.gz").write_bytes(gzip.compress(b"hello")) and tmp / "x.gz",
                             "truncated, damaged or another kind"),
    "another office": (lambda path, tmp: repack(path, tmp / "hre.backup", lambda m: m.update(office_code="HRE")),
                       "backup of office HRE; this node is office BBR"),
    "central's backup": (lambda path, tmp: repack(path, tmp / "c.backup", lambda m: m.update(role="central")),
                         "backup of central; this node is an office"),
    "made by a newer version": (lambda path, tmp: repack(path, tmp / "new.backup", lambda m: m.update(revision="9999")),
                                "made by a newer version"),
    "damaged data": (lambda path, tmp: repack(path, tmp / "bad.backup", change_data=flip_a_byte),
                     "does not match its manifest's SHA-256"),
    "missing": (lambda path, tmp: tmp / "nowhere.backup", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_backup_is_refused_and_the_database_is_untouched(app, runner, backup_file, tmp_path, case):
    make, message = BAD_FILES[case]
    bad = make(backup_file, tmp_path)
    register(app, 1)
    before = state_of(app)
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert state_of(app) == before


def test_backup_refuses_to_overwrite_a_file(app, runner, backup_file):
    before = backup_file.read_bytes()
    result = runner.invoke(args=["backup", "-o", str(backup_file)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert backup_file.read_bytes() == before


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL: test_postgresql_restore_upgrades
def test_a_backup_from_an_older_schema_is_upgraded_on_restore(app, runner, tmp_path, backend):
    """Made by the previous version (the schema one migration back), restored and upgraded by this one."""
    from flask_migrate import upgrade

    previous = _scripts().get_revision(code_head()).down_revision
    old_path = tmp_path / "old.db"
    old_app = make_app(f"sqlite:///{old_path}")
    with old_app.app_context():
        upgrade(revision=previous)
        db.engine.dispose()
    backup = tmp_path / "old.backup"
    assert old_app.test_cli_runner().invoke(args=["backup", "-o", str(backup)]).exit_code == 0
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"upgraded it from schema {previous}" in result.output
    with app.app_context():
        db.engine.dispose()
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == code_head()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_restore_upgrades(app, runner, tmp_path, backend):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    backup = tmp_path / "pg.backup"
    assert runner.invoke(args=["backup", "-o", str(backup)]).exit_code == 0
    previous = _scripts().get_revision(code_head()).down_revision
    # The backup as the previous version would have made it: its schema one migration back.
    with app.app_context():
        db.session.remove()
        from flask_migrate import downgrade

        downgrade(revision=previous)
        db.engine.dispose()
    older = tmp_path / "older.backup"
    assert runner.invoke(args=["backup", "-o", str(older)]).exit_code == 0
    result = runner.invoke(args=["restore", str(older), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"upgraded it from schema {previous}" in result.output
    drop_kept_database(app, result.output)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == code_head()
    engine.dispose()


def backup_while_registering(app, tmp_path):
    """`flask backup` run while registrations commit before, during and after it. Returns the numbers
    registered and the path of the backup's data file, unpacked into tmp_path."""
    stop, made, errors = threading.Event(), [], []

    def keep_registering():
        try:
            while not stop.is_set():
                made.extend(register(app, 1))
        except Exception as exc:  # reported below
            errors.append(exc)

    writer = threading.Thread(target=keep_registering)
    writer.start()
    try:
        while len(made) < 5:
            threading.Event().wait(0.05)
        backup = tmp_path / "busy.backup"
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(backup)])
        during = len(made)
        while len(made) < during + 5:
            threading.Event().wait(0.05)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert not errors
    with tarfile.open(backup, "r:gz") as archive:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
        archive.extract(manifest["member"], tmp_path, filter="data")
    return made, tmp_path / manifest["member"]


@pytest.mark.parametrize("backend", ["sqlite"])  # an office's online backup; pg_dump takes one snapshot by design
def test_backup_while_officers_register_is_consistent(app, tmp_path, backend):
    """Registrations commit throughout the backup; the copy holds whole transactions only."""
    made, data = backup_while_registering(app, tmp_path)
    copy = sqlite3.connect(data)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in copy.execute("SELECT registration_number FROM registration")}
        # Whole registrations: each with its person, its outbox entries and its place in the sequence.
        assert copy.execute("SELECT count(*) FROM registration r LEFT JOIN person p ON p.id = r.person_id "
                            "WHERE p.id IS NULL").fetchone()[0] == 0
        outboxed = {row[0] for row in copy.execute(
            "SELECT row_id FROM sync_outbox WHERE entity = 'registration'")}
        assert len(outboxed) == len(stored)
    finally:
        copy.close()
    assert 5 <= len(stored) <= len(made) and stored <= set(made)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_pg_dump_while_people_register_is_consistent(app, tmp_path, backend):
    """Central's backup (pg_dump) with registrations committing throughout: one snapshot, whole
    transactions only, restorable by pg_restore."""
    import subprocess
    import uuid

    from registry.operations.backup import postgresql_tool

    made, data = backup_while_registering(app, tmp_path)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"restored_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    copy = create_engine(url.set(database=name))
    try:
        with app.app_context():
            restore_tool = postgresql_tool("pg_restore")
        target = url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        done = subprocess.run([restore_tool, "--no-owner", "--single-transaction", "--exit-on-error", "--dbname",
                               target, str(data)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        with copy.connect() as connection:
            stored = set(connection.execute(text("SELECT registration_number FROM registration")).scalars())
            assert connection.execute(text(
                "SELECT count(*) FROM registration r LEFT JOIN person p ON p.id = r.person_id "
                "WHERE p.id IS NULL")).scalar() == 0
            outboxed = set(connection.execute(text(
                "SELECT row_id FROM sync_outbox WHERE entity = 'registration'")).scalars())
            assert len(outboxed) == len(stored)
    finally:
        copy.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert 5 <= len(stored) <= len(made) and stored <= set(made)
