"""The statistics benchmark's central database: PostgreSQL holding a million demo registrations, built with the
app's own commands and kept between runs in bench/.work/statistics/cache/.

`flask db upgrade`, `flask demo setup` (offices, users, and the demo services, employers and vacancies, so the
load also makes referrals), `flask demo load --registrations N`, then VACUUM ANALYZE. The load takes about a
quarter of an hour for a million, so the stopped server's data folder is saved; each run starts PostgreSQL on a
copy and brings it to the current schema with `flask db upgrade`, as head office would. The cache is rebuilt
when the demo data generator changed since it was built (or with `--rebuild`).
"""
import hashlib
import json
import shutil
import time
from datetime import datetime, timezone

from bench.machine import ROOT
from bench.sync_nodes import Postgres, central_env, flask, pg_rows

WORK = ROOT / "bench" / ".work" / "statistics"
CACHE = WORK / "cache"
LOGS = WORK / "logs"
RUNS = WORK / "run"
DATABASE = "central"
# What the demo data depends on: when one of these changed, the cached data is no longer what a load gives.
GENERATOR_FILES = ("registry/demo", "registry/people/names.py")
FORMAT = 1


def generator_digest():
    digest = hashlib.sha256()
    for name in GENERATOR_FILES:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def cache_key(registrations):
    return {"registrations_loaded": registrations, "generator": generator_digest(), "format": FORMAT}


def _counts(pg):
    queries = {
        "people": "SELECT count(*) FROM person",
        "registrations": "SELECT count(*) FROM registration",
        "referrals": "SELECT count(*) FROM referral",
        "placements": "SELECT count(*) FROM referral WHERE status = 'placed'",
        "services": "SELECT count(*) FROM referral_service",
        "vacancies": "SELECT count(*) FROM vacancy",
        "first_day": "SELECT min(registered_on)::text FROM registration",
        "last_day": "SELECT max(registered_on)::text FROM registration",
    }
    return {name: pg_rows(pg, DATABASE, sql)[0][0] for name, sql in queries.items()}


def migrations_digest():
    """The migration files: when they change, the saved database is brought up to date (once) and saved again."""
    digest = hashlib.sha256()
    for file in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def build(registrations, folder, log, say=print):
    """Build the central database in a throwaway PostgreSQL and save its data folder in `folder`."""
    started = time.monotonic()
    key = cache_key(registrations)  # before the load: the code that made the data, should it change meanwhile
    migrations = migrations_digest()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pg = Postgres()
    try:
        pg.start()
        env = central_env(pg.create_database(DATABASE))
        flask(env, "db", "upgrade", log=log)
        flask(env, "demo", "setup", log=log)
        say(f"  `flask demo load --registrations {registrations:,}` (about a quarter of an hour for a million) ...")
        load_started = time.monotonic()
        flask(env, "demo", "load", "--registrations", str(registrations), log=log)
        load_seconds = time.monotonic() - load_started
        with pg.connect(DATABASE, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
        counts = _counts(pg)
        pg.save_to(folder / "pgdata")
    finally:
        pg.stop()
    meta = {**key, **counts, "migrations": migrations, "load_seconds": load_seconds,
            "build_seconds": time.monotonic() - started,
            "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def _upgrade_saved(folder, meta, log, say=print):
    """Bring the saved database to the current migrations once (a migration may backfill a new table over a
    million rows), and save it again, so each run's `flask db upgrade` has nothing left to do."""
    say("  the migrations changed since the cache was saved: upgrading it once ...")
    started = time.monotonic()
    pg = Postgres()
    try:
        pg.start_from(folder / "pgdata")
        flask(central_env(pg.url(DATABASE)), "db", "upgrade", log=log)
        with pg.connect(DATABASE, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        pg.save_to(folder / "pgdata")
    finally:
        pg.stop()
    meta["migrations"] = migrations_digest()
    meta.setdefault("upgrades", []).append({
        "at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "seconds": time.monotonic() - started})
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def cached(registrations, rebuild=False, keep=False, say=print):
    """(folder, meta, reused): the saved central for this many registrations, built first if need be.

    keep: use the saved database as it is even when the demo generator or the migrations changed since (it
    is neither rebuilt nor upgraded and saved again; each run's copy is still brought up to date by `start`);
    meta then says so in `kept`, for the report."""
    folder = CACHE / f"central-{registrations}"
    meta_file = folder / "meta.json"
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"build-{registrations}.log"
    if keep and not rebuild and meta_file.exists() and (folder / "pgdata").is_dir():
        meta = json.loads(meta_file.read_text())
        changed = [what for what, same in (("the demo generator", meta.get("generator") == generator_digest()),
                                           ("the migrations", meta.get("migrations") == migrations_digest()))
                   if not same]
        say(f"  keeping the cached central ({meta['registrations']:,} registrations, built {meta['built_at']})"
            + (f" although {' and '.join(changed)} changed since" if changed else ""))
        return folder, {**meta, "kept": changed}, True
    if not rebuild and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if all(meta.get(k) == v for k, v in cache_key(registrations).items()) and (folder / "pgdata").is_dir():
            say(f"  using the cached central ({meta['registrations']:,} registrations, {meta['referrals']:,} "
                f"referrals, built {meta['built_at']})")
            if meta.get("migrations") != migrations_digest():
                meta = _upgrade_saved(folder, meta, log, say=say)
            return folder, meta, True
        say("  the demo data generator changed since the cache was built: building it again")
    meta = build(registrations, folder, log, say=say)
    return folder, meta, False


def start(folder, log):
    """A PostgreSQL server on a copy of the saved central, migrated to the current schema and analysed.
    Returns (server, seconds to copy and start, seconds to migrate)."""
    pg = Postgres()
    started = time.monotonic()
    pg.start_from(folder / "pgdata")
    start_seconds = time.monotonic() - started
    try:
        started = time.monotonic()
        flask(central_env(pg.url(DATABASE)), "db", "upgrade", log=log)
        with pg.connect(DATABASE, autocommit=True) as connection:
            connection.execute("ANALYZE")  # a migration may have added indexes or columns
        return pg, start_seconds, time.monotonic() - started
    except BaseException:
        pg.stop()
        raise


if __name__ == "__main__":
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(cached(count, rebuild="--rebuild" in sys.argv, say=lambda m: print(m, flush=True)), flush=True)
