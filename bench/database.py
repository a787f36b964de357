"""Benchmark databases, built with the app's own commands and kept in bench/.work/db between runs.

A million people take a quarter of an hour to load, so a prepared database is kept and, when reused, brought
to the current schema with `flask db upgrade`, as an office's database would be. `--rebuild` starts afresh
(do that when the demo data generator changed in a way that matters). Each run works on a fresh copy, so
runs never see each other's rows.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

from bench.machine import ROOT

WORK = ROOT / "bench" / ".work"
CACHE = WORK / "db"
RUNS = WORK / "run"
LOGS = WORK / "logs"

OFFICE_CODE = "BBR"
SECRET_KEY = "bench-secret-key-not-for-production"
BENCH_USER = "bench.officer"
BENCH_PASSWORD = "bench-Pa55word-not-secret"
# `flask demo load` takes at most this many per call; bigger databases are loaded in several calls.
LOAD_CHUNK = 1_000_000
COMMAND_TIMEOUT = 3600  # seconds; a million rows take about six minutes here
UPGRADE_TIMEOUT = 300  # seconds for migrating a cached database before building it afresh instead
# Recorded with a cached database, to say whether the data generator changed since it was built.
GENERATOR_FILES = ("registry/demo", "registry/people/names.py")


def app_env(database):
    """The environment for the app's commands and for gunicorn: a demo office node on `database`."""
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "FLASK_DEBUG")}
    env.update({
        "REGISTRY_ENV": "demo",
        "REGISTRY_ROLE": "office",
        "OFFICE_CODE": OFFICE_CODE,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _generator_digest():
    digest = hashlib.sha256()
    for name in GENERATOR_FILES:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _flask(database, *args, stdin=None, log, timeout=COMMAND_TIMEOUT):
    """Run `flask --app wsgi ...` against `database`; raise with the log's tail if it fails."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    with log.open("a") as handle:
        handle.write(f"\n$ flask --app wsgi {' '.join(args)}\n")
        handle.flush()
        result = subprocess.run(command, cwd=ROOT, env=app_env(database), input=stdin, text=True,
                                stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise RuntimeError(f"`flask {' '.join(args)}` failed (exit {result.returncode}); end of {log}:\n{tail}")


def count_rows(database, table):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # table names are ours
    finally:
        connection.close()


def _checkpoint(database):
    """Fold the write-ahead log into the main file, so a plain file copy is the whole database."""
    connection = sqlite3.connect(database)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError(f"{database} is still in use; cannot checkpoint it")
    finally:
        connection.close()


def _build(target, *, registrations=None, people=None, log, say=print):
    """Migrate, add the demo offices and users and a bench officer, then load demo data."""
    started = time.monotonic()
    _flask(target, "db", "upgrade", log=log)
    _flask(target, "demo", "setup", log=log)  # offices and demo users; the printed passwords are not needed
    _flask(target, "users", "create", BENCH_USER, "--role", "officer", "--office", OFFICE_CODE,
           "--full-name", "Bench Officer", stdin=BENCH_PASSWORD + "\n", log=log)
    notes = []
    if registrations:
        remaining = registrations
        while remaining > 0:
            chunk = min(LOAD_CHUNK, remaining)
            if remaining == registrations:
                _flask(target, "demo", "load", "--registrations", str(chunk), log=log)
            else:
                notes.append(_top_up(target, chunk, log))
            remaining -= chunk
    if people:
        # About 8% of demo registrations reuse a person; top up until the person count is reached.
        for _ in range(4):
            missing = people - count_rows(target, "person")
            if missing <= 0:
                break
            chunk = min(LOAD_CHUNK, int(missing / 0.9) + 1000)
            say(f"    loading {chunk:,} registrations ({missing:,} people to go) ...")
            if count_rows(target, "registration") == 0:
                _flask(target, "demo", "load", "--registrations", str(chunk), log=log)
            else:
                notes.append(_top_up(target, chunk, log))
        else:
            raise RuntimeError(f"could not reach {people:,} people in {target}")
    _checkpoint(target)
    return time.monotonic() - started, notes


def _top_up(target, registrations, log):
    """Add demo registrations to a database that already holds some, with the app's own `load_demo`.

    `flask demo load` is tried first. It fails on such a database at the time of writing: it unpacks the
    stored (office, year, last) sequence rows as ((office, year), last) and stops with a ValueError. Then
    this calls the same `load_demo` in process with those rows handed to its generator directly (and taken
    out of its way, to be written back by the loader's own raise_sequence_floor), so nothing else differs.
    """
    try:
        _flask(target, "demo", "load", "--registrations", str(registrations), log=log)
        return None
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1]
    from sqlalchemy import delete, select

    from registry import create_app
    from registry.demo import generator
    from registry.extensions import db
    from registry.registration.numbering import RegistrationSequence

    env = app_env(target)
    app = create_app({key: env[key] for key in ("REGISTRY_ENV", "REGISTRY_ROLE", "OFFICE_CODE", "DATABASE_URL",
                                                "SECRET_KEY")})
    original = generator.DemoGenerator
    with app.app_context():
        stored = {(office, year): last for office, year, last in db.session.execute(select(
            RegistrationSequence.office_code, RegistrationSequence.year, RegistrationSequence.last_value))}

        class Continuing(original):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.sequences.update(stored)

        db.session.execute(delete(RegistrationSequence))  # uncommitted: the loader's first batch writes them back
        generator.DemoGenerator = Continuing
        try:
            generator.load_demo(registrations, [OFFICE_CODE])
        finally:
            generator.DemoGenerator = original
            db.session.rollback()
        db.engine.dispose()
    return (f"{registrations:,} of the registrations were added by calling the app's load_demo in process, because "
            f"`flask demo load` fails on a database that already holds registrations ({reason})")


def _revision(database):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        connection.close()


def _upgrade(path, log, say):
    """Bring a cached database to the newest migration, on a copy so a failed upgrade cannot damage it.

    Returns None when done, else what went wrong (the caller then builds the database afresh).
    """
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    current = _revision(path)
    if current == head:
        return None
    say(f"    migrating it from {current} to {head} ...")
    copy = path.with_suffix(".upgrading.db")
    shutil.copyfile(path, copy)
    started = time.monotonic()
    try:
        _flask(copy, "db", "upgrade", log=log, timeout=UPGRADE_TIMEOUT)
        _checkpoint(copy)
    except subprocess.TimeoutExpired:
        problem = f"`flask db upgrade` from {current} to {head} did not finish within {UPGRADE_TIMEOUT} s"
    except RuntimeError as exc:
        problem = f"`flask db upgrade` from {current} to {head} failed: {str(exc).strip().splitlines()[-1]}"
    else:
        copy.replace(path)
        say(f"    migrated in {time.monotonic() - started:.0f} s")
        return None
    for leftover in path.parent.glob(copy.name + "*"):
        leftover.unlink()
    say(f"    {problem}; building it afresh")
    return problem


def prepared(label, *, registrations=None, people=None, rebuild=False, say=print):
    """Path of a prepared database at the current schema (built now if missing) and its description."""
    for folder in (CACHE, RUNS, LOGS):
        folder.mkdir(parents=True, exist_ok=True)
    key = f"{label}-" + (f"r{registrations}" if registrations else f"p{people}")
    path, meta_path = CACHE / f"{key}.db", CACHE / f"{key}.json"
    log = LOGS / f"prepare-{key}.log"
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        say(f"  reusing {path.relative_to(ROOT)} ({meta['people']:,} people, {meta['registrations']:,} registrations)")
        if meta.get("generator") != _generator_digest():
            say("    (the demo data generator changed since it was built; --rebuild to build it afresh)")
        problem = _upgrade(path, log, say)
        if problem is None:
            return path, meta
        notes = [f"rebuilt from scratch because the cached copy could not be migrated: {problem}"]
    else:
        notes = []
    for stale in CACHE.glob(f"{key}.*"):
        stale.unlink()
    building = CACHE / f"{key}.building.db"
    say(f"  building {path.relative_to(ROOT)} with the app's commands (log: {log.relative_to(ROOT)}) ...")
    log.write_text("")
    seconds, built_notes = _build(building, registrations=registrations, people=people, log=log, say=say)
    building.rename(path)
    meta = {
        "people": count_rows(path, "person"),
        "registrations": count_rows(path, "registration"),
        "build_seconds": round(seconds, 1),
        "size_mib": round(path.stat().st_size / 2**20),
        "notes": notes + [note for note in built_notes if note],
        "generator": _generator_digest(),
    }
    meta_path.write_text(json.dumps(meta))
    say(f"  built in {seconds:.0f} s: {meta['people']:,} people, {meta['registrations']:,} registrations, "
        f"{meta['size_mib']:,} MiB")
    return path, meta


def fresh_copy(template, name):
    """A private copy of a prepared database for one run (the run may add rows to it)."""
    target = RUNS / f"{name}.db"
    for old in RUNS.glob(f"{name}.db*"):
        old.unlink()
    shutil.copyfile(template, target)
    return target
