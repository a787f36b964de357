"""Backup and restore of a node's database (`flask backup`, `flask restore`; docs/operations.md).

A backup file is a gzip'd tar holding `manifest.json` (what, whose, which schema, when, the data file's
SHA-256) and the data: a consistent copy of an office's SQLite database, made with SQLite's online backup
while officers keep working, or a `pg_dump` archive of central's PostgreSQL database (one snapshot).

A restore checks everything it can before it touches the database: that the file is a whole backup of
this kind of node and of this office, that its data matches the manifest's digest, and that this
version of the software knows its schema. It then prepares the restored database beside the live one,
brings it to the current schema, and only then puts it in place. Whatever fails before that, the live
database is as it was.

After a restore an office must not give out again the registration and outbox numbers the replaced
database had given out after the backup was made: they are on slips in migrants' hands and at central.
The restore carries those high-water marks over, from the replaced database when it can be read and from
the numbering ledger beside it (registry.operations.ledger) otherwise; the next sync then brings back the
office's own changes the backup lacks (sync_state.recover_own_after).
"""
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from registry.config import PROJECT_ROOT
from registry.core.errors import DomainError
from registry.operations.ledger import ledger_path, read_ledger
from registry.registration.numbering import raise_sequence_floor
from registry.sync.outbox import raise_outbox_counter

FORMAT = "registry-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"


class BackupError(DomainError):
    """A backup or restore that cannot go ahead; the message says why, in one line."""


@dataclass(frozen=True)
class Manifest:
    role: str
    office_code: str
    engine: str  # "sqlite" or "postgresql"
    revision: str
    created_at: str
    member: str
    size: int
    sha256: str

    def to_json(self):
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **self.__dict__}

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("this is not a registry backup (its manifest is not one)")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"this backup is in format {data.get('format_version')!r}; this version of the "
                              f"registry reads format {FORMAT_VERSION}")
        try:
            manifest = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except KeyError as exc:
            raise BackupError(f"the backup's manifest lacks {exc.args[0]!r}") from None
        if manifest.engine not in ("sqlite", "postgresql") or not isinstance(manifest.size, int):
            raise BackupError("the backup's manifest is damaged")
        return manifest


# --- schema revisions ------------------------------------------------------------------------------

def _scripts():
    return ScriptDirectory(str(PROJECT_ROOT / "migrations"))


def code_head():
    return _scripts().get_current_head()


def _check_revision_known(revision):
    scripts = _scripts()
    try:
        found = scripts.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        found = None
    if found is None:
        raise BackupError(f"the backup's database is at schema {revision!r}, which this version of the registry "
                          f"does not know: it was made by a newer version. Upgrade the software first")


def _revision_of(connection):
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --- backup ----------------------------------------------------------------------------------------

def _database_url():
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def make_backup(output, progress=print):
    """Write a backup of this node's database to `output` (atomically: a half-written file never carries
    the final name). Returns the Manifest."""
    output = Path(output)
    url = make_url(_database_url())
    engine = url.get_backend_name()
    with tempfile.TemporaryDirectory(prefix="registry-backup-", dir=output.parent if output.parent.exists() else None) as work:
        data = Path(work) / (SQLITE_MEMBER if engine == "sqlite" else PG_MEMBER)
        if engine == "sqlite":
            revision = _backup_sqlite(url, data, progress)
        elif engine == "postgresql":
            revision = _backup_postgresql(url, data, progress)
        else:
            raise BackupError(f"backups of {engine} databases are not supported")
        manifest = Manifest(
            role=current_app.config["REGISTRY_ROLE"], office_code=current_app.config["OFFICE_CODE"], engine=engine,
            revision=revision, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            member=data.name, size=data.stat().st_size, sha256=_sha256(data))
        progress("Packing the backup ...")
        partial = Path(work) / "backup.partial"
        with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
            body = json.dumps(manifest.to_json(), indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(body))
            archive.add(data, arcname=data.name)
        shutil.move(partial, output)
    return manifest


def _backup_sqlite(url, target, progress):
    progress("Copying the database (officers may keep working) ...")
    source = sqlite3.connect(url.database, timeout=60)
    with closing(source), closing(sqlite3.connect(target)) as copy:
        # One step: a consistent snapshot however many writers commit meanwhile (WAL lets them go on).
        source.backup(copy)
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise BackupError(f"the database failed SQLite's integrity check ({check}); restore the last good backup")
    if revision is None:
        raise BackupError("the database has no schema revision: was it set up with `flask db upgrade`?")
    return revision[0]


def postgresql_tool(name):
    """Path of pg_dump / pg_restore: PG_BIN_DIR if configured, else PATH, else the newest under
    /usr/lib/postgresql (Debian and Ubuntu keep them there)."""
    configured = current_app.config.get("PG_BIN_DIR")
    if configured:
        candidate = Path(configured) / name
        if candidate.exists():
            return str(candidate)
        raise BackupError(f"PG_BIN_DIR is {configured!r} but has no {name}")
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if versions:
        return str(versions[-1])
    raise BackupError(f"{name} was not found: install PostgreSQL's client tools or set PG_BIN_DIR")


def _libpq(url):
    """A URL libpq's tools read (without SQLAlchemy's +driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _backup_postgresql(url, target, progress):
    progress("Dumping the database with pg_dump (one consistent snapshot) ...")
    done = subprocess.run([postgresql_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                           "--file", str(target), _libpq(url)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        return _revision_of(connection)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- checking a backup -----------------------------------------------------------------------------

def read_backup(path, work):
    """Check the backup file at `path` and unpack its data into the directory `work`.
    Returns (Manifest, path of the data file); raises BackupError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        with tarfile.open(path, "r:gz") as archive:
            try:
                raw = archive.extractfile(MANIFEST)
            except KeyError:
                raise BackupError(f"{path} is not a registry backup (it has no manifest)") from None
            manifest = Manifest.from_json(json.loads(raw.read()))
            if Path(manifest.member).name != manifest.member or manifest.member not in (SQLITE_MEMBER, PG_MEMBER):
                raise BackupError("the backup's manifest names an unexpected data file")
            try:
                member = archive.getmember(manifest.member)
            except KeyError:
                raise BackupError("the backup has no database in it: it is truncated or damaged") from None
            data = Path(work) / manifest.member
            with archive.extractfile(member) as source, open(data, "wb") as copy:
                shutil.copyfileobj(source, copy, 1 << 20)
    except (tarfile.TarError, EOFError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path} is not a readable backup: it is truncated, damaged or another kind of file "
                          f"({exc.__class__.__name__})") from None
    if data.stat().st_size != manifest.size or _sha256(data) != manifest.sha256:
        raise BackupError("the backup's database does not match its manifest's SHA-256: the file is damaged")
    return manifest, data


def check_fits_this_node(manifest):
    config = current_app.config
    engine = make_url(_database_url()).get_backend_name()
    if manifest.role != config["REGISTRY_ROLE"]:
        raise BackupError(f"this is a backup of {'an office' if manifest.role == 'office' else 'central'}; this "
                          f"node is {'an office' if config['REGISTRY_ROLE'] == 'office' else 'central'}")
    if manifest.office_code != config["OFFICE_CODE"]:
        raise BackupError(f"this is a backup of office {manifest.office_code}; this node is office {config['OFFICE_CODE']}")
    if manifest.engine != engine:
        raise BackupError(f"this is a backup of a {manifest.engine} database; this node uses {engine}")
    _check_revision_known(manifest.revision)


# --- restore ---------------------------------------------------------------------------------------

@dataclass
class Restored:
    manifest: Manifest
    carried: dict  # the high-water marks carried over: {"outbox_seq": n, "numbers": {...}, "source": "..."}
    upgraded_from: str | None


def restore_backup(path, progress=print):
    """Restore this node's database from the backup at `path` (see the module's docstring)."""
    url = make_url(_database_url())
    live = Path(url.database) if url.get_backend_name() == "sqlite" else None
    with tempfile.TemporaryDirectory(prefix="registry-restore-", dir=live.parent if live else None) as work:
        progress("Checking the backup ...")
        manifest, data = read_backup(path, work)
        check_fits_this_node(manifest)
        if manifest.engine == "sqlite":
            return _restore_sqlite(manifest, data, live, progress)
        return _restore_postgresql(manifest, data, url, progress)


def _upgrade(database_url):
    """Bring a database to this version's schema, in its own app (the live app's engine stays on the live
    database). One transaction: if it fails, the database stays at its old schema."""
    from flask_migrate import upgrade

    from registry import create_app

    config = {key: current_app.config[key] for key in ("REGISTRY_ROLE", "OFFICE_CODE", "SECRET_KEY")}
    config.update(DATABASE_URL=database_url, SYNC_INTERVAL_SECONDS=0)
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        from registry.extensions import db

        db.engine.dispose()


def _high_water_of_sqlite(path):
    """What a SQLite database has given out: {"outbox_seq", "numbers"}; None if it cannot be read."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as connection:
            seq = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'").fetchone()
            numbers = {f"{office}/{year}": value for office, year, value in connection.execute(
                "SELECT office_code, year, last_value FROM registration_sequence")}
            return {"outbox_seq": seq[0] if seq else 0, "numbers": numbers}
    except sqlite3.Error:
        return None


def _merge_marks(*marks):
    merged = {"outbox_seq": 0, "numbers": {}}
    for mark in marks:
        if not mark:
            continue
        merged["outbox_seq"] = max(merged["outbox_seq"], mark["outbox_seq"])
        for key, value in mark["numbers"].items():
            merged["numbers"][key] = max(merged["numbers"].get(key, 0), value)
    return merged


def _restore_sqlite(manifest, data, live, progress):
    replaced = _high_water_of_sqlite(live) if live.exists() else None
    ledger = read_ledger(ledger_path(_database_url()))
    sources = [name for name, mark in (("the replaced database", replaced), ("the numbering ledger", ledger))
               if mark and (mark["outbox_seq"] or mark["numbers"])]
    marks = _merge_marks(replaced, ledger)
    with closing(sqlite3.connect(data)) as staged:
        check = staged.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the backup's database fails SQLite's integrity check ({check})")
        revision = _revision_of_sqlite(staged)
    upgraded_from = None
    if revision != code_head():
        progress(f"Upgrading the restored database from schema {revision} to {code_head()} ...")
        try:
            _upgrade(f"sqlite:///{data}")
        except Exception as exc:
            raise BackupError(f"the restored database could not be upgraded ({exc.__class__.__name__}: {exc}); "
                              "the live database was not touched") from None
        upgraded_from = revision
    _carry_marks_sqlite(data, marks)
    progress("Putting the restored database in place ...")
    # SQLite's backup API into the live file: one write transaction, so the app's other connections see
    # the old database or the new one, never a mix, and a failure leaves the old one.
    with closing(sqlite3.connect(data)) as source, closing(sqlite3.connect(live, timeout=60)) as target:
        source.backup(target)
    return Restored(manifest, {**marks, "source": " and ".join(sources) or "nothing (no earlier database)"},
                    upgraded_from)


def _revision_of_sqlite(connection):
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise BackupError("the backup's database has no schema revision")
    return row[0]


def _carry_marks_sqlite(path, marks):
    """Into the staged database: never give out again an outbox or registration number given out before,
    and pull back from central the office's own changes the backup lacks."""
    staged = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with staged.begin() as connection:
            if marks["outbox_seq"]:
                raise_outbox_counter(marks["outbox_seq"], connection)
            for key, value in marks["numbers"].items():
                office, year = key.split("/")
                raise_sequence_floor(office, int(year), value, connection)
            connection.execute(text("UPDATE sync_state SET recover_own_after = acknowledged_through "
                                    "WHERE recover_own_after IS NULL"))
    finally:
        staged.dispose()


def _carry_marks_postgresql(live_url, staged_url):
    """Into the staged database, what the replaced one gave out: feed (outbox) numbers, since offices' pull
    cursors are past them and would never pull entries numbered again below; registration numbers; and,
    at an office, the pull of its own changes the backup lacks. Returns the marks carried."""
    query = text("SELECT pg_get_serial_sequence('sync_outbox', 'seq')")
    live = create_engine(live_url, poolclass=NullPool)
    try:
        with live.connect() as connection:
            sequence = connection.execute(query).scalar_one()
            given = connection.execute(text(f"SELECT last_value FROM {sequence}")).scalar_one()
            numbers = {(row.office_code, row.year): row.last_value for row in connection.execute(
                text("SELECT office_code, year, last_value FROM registration_sequence"))}
    except Exception:  # the replaced database unreadable: nothing to carry
        return {"outbox_seq": 0, "numbers": {}}
    finally:
        live.dispose()
    staged = create_engine(staged_url, poolclass=NullPool)
    try:
        with staged.begin() as connection:
            raise_outbox_counter(given, connection)
            for (office, year), value in numbers.items():
                raise_sequence_floor(office, year, value, connection)
            connection.execute(text("UPDATE sync_state SET recover_own_after = acknowledged_through "
                                    "WHERE recover_own_after IS NULL"))
    finally:
        staged.dispose()
    return {"outbox_seq": given, "numbers": {f"{office}/{year}": value for (office, year), value in numbers.items()}}


def _restore_postgresql(manifest, data, url, progress):
    """Into a new database beside the live one, upgraded there; then the two swap names, and the replaced
    database is kept under its old name with a suffix until an operator drops it."""
    restore_tool = postgresql_tool("pg_restore")
    listed = subprocess.run([restore_tool, "--list", str(data)], capture_output=True, text=True)
    if listed.returncode != 0:
        raise BackupError("the backup's database dump cannot be read by pg_restore: it is damaged")
    live_name = url.database
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    staged_name, kept_name = f"{live_name}_restoring_{stamp}", f"{live_name}_before_restore_{stamp}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{staged_name}"'))
        staged_url = url.set(database=staged_name)
        progress("Restoring into a new database with pg_restore ...")
        done = subprocess.run([restore_tool, "--no-owner", "--no-privileges", "--single-transaction",
                               "--exit-on-error", "--dbname", _libpq(staged_url), str(data)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}; "
                              "the live database was not touched")
        upgraded_from = None
        if manifest.revision != code_head():
            progress(f"Upgrading the restored database from schema {manifest.revision} to {code_head()} ...")
            try:
                _upgrade(staged_url.render_as_string(hide_password=False))
            except Exception as exc:
                raise BackupError(f"the restored database could not be upgraded ({exc.__class__.__name__}: "
                                  f"{exc}); the live database was not touched") from None
            upgraded_from = manifest.revision
        from registry.extensions import db

        db.session.remove()
        db.engine.dispose()  # this process's own connections to the live database
        # Offices' pull cursors are past every feed entry the replaced database gave out: new entries must
        # come after them, or no office would ever pull them.
        marks = _carry_marks_postgresql(url, staged_url)
        with admin.connect() as connection:
            others = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": live_name}).scalar()
            if others:
                raise BackupError(f"{others} other connection(s) are open to database {live_name}: stop the "
                                  "central app (and any tool using the database), then run the restore again; "
                                  "the live database was not touched")
            connection.execute(text(f'ALTER DATABASE "{live_name}" RENAME TO "{kept_name}"'))
            connection.execute(text(f'ALTER DATABASE "{staged_name}" RENAME TO "{live_name}"'))
        staged_name = None
        return Restored(manifest, {**marks, "source": "the replaced database", "kept_as": kept_name}, upgraded_from)
    finally:
        if staged_name is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{staged_name}"'))
        admin.dispose()
