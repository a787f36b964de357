"""Migrations on databases full of data, on SQLite and PostgreSQL.

- Every migration step upgrades a database holding rows in every table of the previous schema without
  losing or changing one, and downgrades again to exactly what was there.
- The demo's data, made at head, goes down step by step to the first revision and back up to head: what the
  oldest schema can hold comes back as it was.
- An upgrade that fails half way, or is killed half way, leaves the database at its old revision with its
  schema and data untouched, and a failure says so in plain words.

Revisions are never named here: the chain is walked from base to head, so new migrations are covered as
they come.
"""
import hashlib
import os
import shutil
import signal
import string
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select, text

from registry.config import PROJECT_ROOT
from registry.extensions import db
from tests.conftest import TEST_CONFIG, make_app
from tests.test_migrations import empty_app, empty_database_url  # noqa: F401  (fixtures)

ROWS_PER_TABLE = 4
SURNAMES = ("Moyo", "Ncube", "Dube", "Sibanda", "Mpofu", "Chikore", "Mutasa")
GIVEN_NAMES = ("Tendai", "Chipo", "Farai", "Rudo", "Tatenda", "Nyasha", "Tapiwa")
# Values a downgrade rewrites on purpose, because the older schema's application does not know them: the
# migration that creates the key table, going down, turns these values of these columns into those.
DOWNGRADE_REWRITES = {
    "agency": {("vacancy", "status"): {"draft": "closed"}},  # recruitment: a draft job order was never offered
}


# --- the chain and the database's contents ---------------------------------------------------------------

def revision_chain(directory=None):
    """Every revision from the first to head, in order."""
    scripts = ScriptDirectory(str(directory or PROJECT_ROOT / "migrations"))
    assert len(scripts.get_heads()) == 1
    return [script.revision for script in reversed(list(scripts.walk_revisions("base", "heads")))]


def current_revision(engine):
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def columns_by_table(engine):
    """{table: [column, ...]} of every table but alembic_version, as the database has them now."""
    found = inspect(engine)
    return {name: [column["name"] for column in found.get_columns(name)]
            for name in found.get_table_names() if name != "alembic_version"}


def read_tables(engine, columns):
    """{table: sorted rows} of the given columns, read raw (as the driver returns them, no type conversion),
    so a value that was rewritten in any way shows."""
    quote = engine.dialect.identifier_preparer.quote
    found = {}
    with engine.connect() as connection:
        for table, names in columns.items():
            query = f"SELECT {', '.join(map(quote, names))} FROM {quote(table)}"
            found[table] = sorted((tuple(row) for row in connection.exec_driver_sql(query)), key=repr)
    return found


def digest(rows):
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def schema_of(engine):
    """Tables, their columns and their indexes: what a half-done migration would change."""
    found = inspect(engine)
    return {name: (sorted(column["name"] for column in found.get_columns(name)),
                   sorted(index["name"] for index in found.get_indexes(name)))
            for name in found.get_table_names()}


# --- rows for any schema ------------------------------------------------------------------------------------

def _letters(number, length):
    """`number` written in letters, the last `length` of them: unique while the number fits, and never equal
    to a code made of digits (ISCO groups, years)."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = string.ascii_lowercase[digit] + word
        if not number:
            break
    return word[-length:]


def _value(column, number, sqlite):
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return number % 2 == 0
    if isinstance(kind, sa.Integer):
        return number
    if isinstance(kind, sa.Numeric):
        return number + 0.5
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=number)
    if isinstance(kind, sa.Date):
        return date(1800, 1, 1) + timedelta(days=number)  # later columns later: a 'valid from' before 'until'
    if isinstance(kind, sa.JSON):
        return {"n": number, "text": f"value {number}"}
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if sqlite and isinstance(kind, sa.CHAR) and kind.length == 32:
        return uuid.uuid4().hex  # how a Uuid column is stored on SQLite
    if isinstance(kind, sa.String):
        length = kind.length or 40
        word = f"{column.name}-{number}"
        return word if len(word) <= length else _letters(number, length)
    raise AssertionError(f"no test value for {column.table.name}.{column.name} of type {kind!r}: teach _value")


def _realistic(table, row, index):
    """Values the generic ones cannot give: rules of check constraints, and names the matching keys can read.
    (The generic ones keep the simpler rules already: numbers are positive, and each column's number, date or
    time is later than the one before it in the row.)"""
    if table.name == "referral":  # exactly one target (ck_referral_one_target)
        row["service_id" if index % 2 else "vacancy_id"] = None
    if table.name == "person":
        row["surname"] = SURNAMES[index % len(SURNAMES)]
        row["given_names"] = GIVEN_NAMES[index % len(GIVEN_NAMES)]
        for name, value in (("sex", "FM"[index % 2]), ("citizenship", "ZW"), ("languages", ["sn", "en"])):
            if name in row:
                row[name] = value


class Filler:
    """Adds rows to every table of whatever schema the database has, with foreign keys satisfied."""

    def __init__(self):
        self.number = 100_000  # above any integer the migrations themselves store

    def fill(self, engine, per_table=ROWS_PER_TABLE):
        sqlite = engine.dialect.name == "sqlite"
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                choices = self._references(connection, table)
                rows = []
                for index in range(per_table):
                    row = {}
                    for column in table.columns:
                        self.number += 1
                        if column.name in choices:
                            options = choices[column.name]
                            row[column.name] = options[index % len(options)] if options else None
                        else:
                            row[column.name] = _value(column, self.number, sqlite)
                    _realistic(table, row, index)
                    if any(row[name] is None and not table.c[name].nullable for name in row):
                        break  # a required reference with nothing (left) to refer to
                    rows.append(row)
                if rows:
                    connection.execute(table.insert(), rows)

    @staticmethod
    def _references(connection, table):
        """{column: values it may take} for each foreign key column; a column that is also the whole primary
        key or unique on its own may take only values no row of the table has yet."""
        alone_unique = {tuple(constraint.columns.keys()) for constraint in table.constraints
                        if isinstance(constraint, (sa.PrimaryKeyConstraint, sa.UniqueConstraint))}
        choices = {}
        for key in table.foreign_keys:
            column, target = key.parent, key.column
            values = list(connection.execute(select(target).order_by(target)).scalars())
            if (column.name,) in alone_unique:
                taken = set(connection.execute(select(column)).scalars())
                values = [value for value in values if value not in taken]
            choices[column.name] = values
        return choices


# --- every step, on a database full of rows ----------------------------------------------------------------

def test_every_migration_keeps_the_rows_of_the_previous_schema_up_and_down(empty_app):  # noqa: F811
    check_every_step(db.engine)


def check_every_step(engine, directory=None):
    """Walk the chain one step at a time: fill every table, upgrade, compare, downgrade, compare, upgrade."""
    migrations = {"directory": str(directory)} if directory else {}
    chain = revision_chain(directory)
    filler = Filler()
    upgrade(revision=chain[0], **migrations)
    for previous, this in zip(chain, chain[1:]):
        step = f"{previous} -> {this}"
        filler.fill(engine)
        columns = columns_by_table(engine)
        before = read_tables(engine, columns)
        assert all(before[table] for table in columns), f"{step}: a table got no rows to carry"

        upgrade(revision=this, **migrations)
        assert current_revision(engine) == this
        now = columns_by_table(engine)
        missing = {table: set(names) - set(now.get(table, ())) for table, names in columns.items()}
        assert not any(missing.values()), f"upgrade {step} dropped tables or columns: {missing}"
        assert read_tables(engine, columns) == before, f"upgrade {step} lost or changed rows"

        downgrade(revision=previous, **migrations)
        assert current_revision(engine) == previous
        assert columns_by_table(engine) == columns, f"downgrade {step} did not restore the schema"
        assert read_tables(engine, columns) == before, f"downgrade {step} lost or changed rows"

        upgrade(revision=this, **migrations)
    # The head schema takes the same kind of rows.
    filler.fill(engine)
    assert all(read_tables(engine, columns_by_table(engine)).values())


def rewritten(rewrite, value):
    return rewrite.get(value, value) if rewrite else value


# --- demo data, down to the first revision and back --------------------------------------------------------

@pytest.fixture
def demo_app(empty_database_url):  # noqa: F811
    """The demo's offices, users, referral targets and registrations, at head. An office node on SQLite and
    central on PostgreSQL, as they are deployed."""
    central = not empty_database_url.startswith("sqlite")
    app = make_app(empty_database_url, **({"REGISTRY_ROLE": "central", "OFFICE_CODE": "HQ"} if central else {}))
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        for args in (["demo", "setup"], ["demo", "load", "--registrations", "300"]):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
        db.session.remove()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_demo_data_goes_down_to_the_first_revision_and_back_up_to_head(demo_app):
    """Going down, each step keeps every row of every table that still exists, on the columns that still
    exist. What a downgrade does lose, by design: the tables a migration created go with their rows, and the
    columns it added go with their values. Coming back up, those tables hold only what their migration fills
    in (the office's sync state row; the matching keys, computed again from the people), and the added
    columns hold their defaults; everything the first schema holds is as it was."""
    engine = db.engine
    chain = revision_chain()
    at_head = columns_by_table(engine)
    head_rows = read_tables(engine, at_head)
    for table in ("office", "app_user", "person", "registration", "sync_outbox", "audit_event"):
        assert len(head_rows[table]) > 0, f"the demo made no {table} rows"
    assert len(head_rows["registration"]) == 300

    columns, rows = at_head, head_rows
    lost = {}
    for this, previous in zip(reversed(chain), list(reversed(chain))[1:]):
        downgrade(revision=previous)
        assert current_revision(engine) == previous
        now = columns_by_table(engine)
        for table in set(columns) - set(now):
            lost[table] = len(rows[table])
        assert set(now) <= set(columns), f"downgrade {this} -> {previous} made tables"
        kept = read_tables(engine, now)
        rewrites = {}
        for dropped in set(columns) - set(now):
            rewrites.update(DOWNGRADE_REWRITES.get(dropped, {}))
        for table, names in now.items():
            assert set(names) <= set(columns[table]), f"downgrade {this} -> {previous} added columns to {table}"
            expected = sorted((tuple(rewritten(rewrites.get((table, name)), row[columns[table].index(name)])
                                     for name in names) for row in rows[table]), key=repr)
            assert kept[table] == expected, f"downgrade {this} -> {previous} lost or changed rows of {table}"
        columns, rows = now, kept
    first = columns
    # The demo touched tables later migrations made (referrals, slips): downgrading lost them, as documented.
    assert lost.get("referral_service", 0) > 0

    upgrade()
    assert current_revision(engine) == chain[-1]
    assert columns_by_table(engine) == at_head
    back = read_tables(engine, first)
    for table, names in first.items():
        head_projection = sorted((tuple(row[at_head[table].index(name)] for name in names)
                                  for row in head_rows[table]), key=repr)
        assert digest(back[table]) == digest(head_projection), f"{table} did not come back as it was at head"
    assert read_tables(engine, {"referral_service": ["id"]}) == {"referral_service": []}  # lost going down
    if "person_match_key" in at_head:  # recomputed from the people by its migration: the same keys again
        assert read_tables(engine, {"person_match_key": at_head["person_match_key"]}) == \
            {"person_match_key": head_rows["person_match_key"]}


# --- an upgrade that stops half way ------------------------------------------------------------------------

FAILING_MIGRATION = '''"""A migration that changes schema and data, then stops half way."""
import os
import time

from alembic import op
import sqlalchemy as sa

revision = "half_way"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_way_table", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(sa.Column("half_way_column", sa.Integer(), nullable=True))
    op.execute("UPDATE person SET surname = 'Changed'")
    op.execute("DELETE FROM sync_outbox")
    if os.environ.get("HALF_WAY_BREAKS_KEYS"):
        op.execute("UPDATE app_user SET office_code = 'NOWHERE'")  # SQLite checks foreign keys at the end
        return
    if os.environ.get("HALF_WAY_MARKER"):
        with open(os.environ["HALF_WAY_MARKER"], "w") as marker:
            marker.write("half way")
        time.sleep(600)
    raise RuntimeError("the disk is full (a test's stand-in for any failure)")


def downgrade():
    pass
'''


def migrations_stopping_half_way(tmp_path):
    """A copy of the migrations with one more after head that does some of its work, then fails (or, with
    HALF_WAY_MARKER set, says so in that file and waits to be killed; with HALF_WAY_BREAKS_KEYS set, ends
    leaving rows that break a foreign key)."""
    directory = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = revision_chain(directory)[-1]
    (directory / "versions" / "9999_half_way.py").write_text(FAILING_MIGRATION.format(down=head))
    return directory


def flask_env(database_url, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REGISTRY_", "OFFICE_"))}
    env.update({key: str(value) for key, value in TEST_CONFIG.items()})
    env.update({"DATABASE_URL": database_url, "SYNC_INTERVAL_SECONDS": "0", "PYTHONUNBUFFERED": "1", **extra})
    return env


@pytest.fixture
def older_database(app, runner, database_url):
    """The seeded test database with demo registrations, taken back one revision: an upgrade from it runs the
    newest real migration, then the one that stops half way."""
    result = runner.invoke(args=["demo", "load", "--registrations", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        chain = revision_chain()
        downgrade(revision=chain[-2])
        engine = db.engine
        columns = columns_by_table(engine)
        state = (current_revision(engine), schema_of(engine), columns, read_tables(engine, columns))
        db.session.remove()
        db.engine.dispose()
    assert state[0] == chain[-2]
    assert state[3]["person"] and state[3]["sync_outbox"]
    return state


def assert_untouched(app, older_database):
    revision, schema, columns, rows = older_database
    with app.app_context():
        engine = db.engine
        assert current_revision(engine) == revision
        assert schema_of(engine) == schema
        assert read_tables(engine, columns) == rows
        db.engine.dispose()


def assert_upgrades_again(app, older_database):
    """Run again once the cause is gone, the real migrations bring the database to head, its rows kept."""
    _, _, columns, rows = older_database
    with app.app_context():
        upgrade()
        assert current_revision(db.engine) == revision_chain()[-1]
        assert read_tables(db.engine, columns) == rows
        db.engine.dispose()


def test_an_upgrade_failing_half_way_leaves_the_database_as_it_was(app, database_url, older_database, tmp_path):
    directory = migrations_stopping_half_way(tmp_path)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "--directory",
                           str(directory)], cwd=PROJECT_ROOT, env=flask_env(database_url),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    revision = older_database[0]
    assert "the disk is full" in done.stderr
    assert (f"Everything it changed was rolled back: the database is still at revision {revision}, as it was"
            in done.stderr), done.stderr
    assert_untouched(app, older_database)

    assert_upgrades_again(app, older_database)


def test_an_upgrade_killed_half_way_leaves_the_database_as_it_was(app, database_url, older_database, tmp_path):
    directory = migrations_stopping_half_way(tmp_path)
    marker = tmp_path / "half-way"
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "--directory",
                                str(directory)], cwd=PROJECT_ROOT,
                               env=flask_env(database_url, HALF_WAY_MARKER=str(marker)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the upgrade never got half way"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert_untouched(app, older_database)
    assert_upgrades_again(app, older_database)


def test_an_upgrade_leaving_broken_foreign_keys_is_rolled_back(app, backend, older_database, tmp_path, monkeypatch,
                                                               capfd):
    """SQLite migrates with foreign keys off (a table rebuild would check every row) and checks them all before
    committing; PostgreSQL refuses the statement itself. Either way nothing is kept."""
    directory = migrations_stopping_half_way(tmp_path)
    monkeypatch.setenv("HALF_WAY_BREAKS_KEYS", "1")
    with app.app_context():
        with pytest.raises((SystemExit, sa.exc.IntegrityError)):  # flask-migrate exits on a RuntimeError
            upgrade(directory=str(directory))
        db.engine.dispose()
    err = capfd.readouterr().err
    assert ("break foreign keys" if backend == "sqlite" else "foreign key") in err
    assert f"the database is still at revision {older_database[0]}" in err
    assert_untouched(app, older_database)
