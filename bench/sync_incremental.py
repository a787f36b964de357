"""Part 3 of the sync benchmark: one incremental round at an office that is up to date, while central
already holds a million registrations.

Central's prepared cluster (demo offices and users, `flask demo load` of every demo office, analysed) is
kept, with an office database that took the offices and users from it, in bench/.work/sync/cache/; each
run starts PostgreSQL on a copy, so a re-run takes seconds instead of the load's minutes.
"""
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

from bench.machine import ROOT
from bench.sync_nodes import (CACHE, LOGS, RUNS, Central, OfficeRun, PeakMemory, Postgres, central_env, flask,
                              fresh_sqlite, mib, new_office, office_env, outbox_by_entity, pg_rows, request_summary,
                              run_offices, sqlite_rows, sync_status)
from bench.sync_report import TARGET_INCREMENTAL_SECONDS

OFFICER = "officer.bbr"  # a demo user central creates (`flask demo setup`), which the office gets by sync


def say(message):
    print(message, flush=True)


def _migration_head():
    return sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))[-1]


def _cache_key(sizes):
    return {"central_registrations": sizes.central_registrations, "migration": _migration_head(), "format": 1}


def _upgrade_cache(meta, folder, log):
    """Bring a cache built at an older migration up to the current one with `flask db upgrade` (central's
    cluster and the office database), in minutes instead of the load's tens of minutes. The result is what a
    rebuild gives: the rows, their feed entries and the office's state, migrated as any installation is."""
    say(f"  upgrading the cached central from migration {meta['migration']} to {_migration_head()} ...")
    started = time.monotonic()
    pg = Postgres()
    try:
        pg.start_from(folder / "pgdata")
        flask(central_env(pg.url("central")), "db", "upgrade", log=log)
        pg.save_to(folder / "pgdata")
    finally:
        pg.stop()
    flask(office_env("BBR", folder / "office-bbr.db"), "db", "upgrade", log=log)
    meta = {**meta, "migration": _migration_head(), "upgraded_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "upgrade_seconds": time.monotonic() - started}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def _build_cache(sizes, folder, log):
    """Central with the demo offices and users and `central_registrations` registrations of every demo office,
    and office BBR that took the offices and users from central before the load. Saved in `folder`."""
    say(f"  building the cache: central with {sizes.central_registrations:,} registrations (several minutes) ...")
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pg = Postgres()
    try:
        pg.start()
        url = pg.create_database("central")
        env = central_env(url)
        flask(env, "db", "upgrade", log=log)
        flask(env, "demo", "setup", log=log)
        secret = flask(env, "offices", "issue-secret", "BBR", log=log).strip().splitlines()[-1]
        with Central(url, "cache-build") as central:
            new_office("BBR", folder / "office-bbr.db", central.url, secret, log)
        load_started = time.monotonic()
        flask(env, "demo", "load", "--registrations", str(sizes.central_registrations), log=log)
        load_seconds = time.monotonic() - load_started
        with pg.connect("central", autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
        (people,), = pg_rows(pg, "central", "SELECT count(*) FROM person")
        (registrations,), = pg_rows(pg, "central", "SELECT count(*) FROM registration")
        (feed,), = pg_rows(pg, "central", "SELECT count(*) FROM sync_outbox")
        pg.save_to(folder / "pgdata")
    finally:
        pg.stop()
    meta = {**_cache_key(sizes), "secret": secret, "people": people, "registrations": registrations, "feed": feed,
            "load_seconds": load_seconds, "build_seconds": time.monotonic() - started,
            "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def incremental_benchmark(sizes, rebuild=False, batch_size=None):
    """Time `sync run` at an up-to-date office after it registers a few people, central holding a million."""
    log = LOGS / "incremental.log"
    log.write_text("")
    folder = CACHE / f"central-{sizes.central_registrations}"
    meta = None
    if not rebuild and (folder / "meta.json").exists():
        meta = json.loads((folder / "meta.json").read_text())
        key = _cache_key(sizes)
        if any(meta.get(k) != v for k, v in key.items() if k != "migration") or meta.get("migration", "") > key["migration"]:
            meta = None  # another size or format, or made by newer code: rebuild
        elif meta.get("migration") != key["migration"]:
            meta = _upgrade_cache(meta, folder, log)
    cached = meta is not None
    if not cached:
        meta = _build_cache(sizes, folder, log)
    else:
        say(f"  using the cached central ({meta['registrations']:,} registrations, built {meta['built_at']}"
            + (f", upgraded {meta['upgraded_at']}" if meta.get("upgraded_at") else "") + ")")
    office_db = fresh_sqlite(RUNS / "incremental-bbr.db")
    shutil.copyfile(folder / "office-bbr.db", office_db)
    pg = Postgres()
    result = {"cached": cached, "central_people": meta["people"], "central_registrations": meta["registrations"],
              "feed": meta["feed"], "load_seconds": meta["load_seconds"], "built_at": meta["built_at"],
              "upgraded_at": meta.get("upgraded_at"), "rounds": []}
    try:
        started = time.monotonic()
        pg.start_from(folder / "pgdata")
        result["start_seconds"] = time.monotonic() - started
        url = pg.url("central")
        # "Already synced": the office's cursor at the end of central's feed, and its numbering past every
        # BBR number central holds (what pulling the feed would have done).
        (feed_end,), = pg_rows(pg, "central", "SELECT max(seq) FROM sync_outbox")
        floors = pg_rows(pg, "central", "SELECT year, last_value FROM registration_sequence WHERE office_code = 'BBR'")
        sqlite_rows(office_db, "UPDATE sync_state SET pull_cursor = ?", (feed_end,))
        for year, last in floors:
            sqlite_rows(office_db, "INSERT INTO registration_sequence (office_code, year, last_value) "
                                   "VALUES ('BBR', ?, ?) ON CONFLICT (office_code, year) "
                                   "DO UPDATE SET last_value = excluded.last_value", (year, last))
        with Central(url, "incremental") as central:
            env = office_env("BBR", office_db, central.url, meta["secret"], batch_size)
            # Nothing to send: what a round costs at all (process start, app start, one pull).
            idle, = run_offices([OfficeRun(env, LOGS / "incremental-idle.log")], sizes.sync_timeout)
            result["idle_seconds"] = idle.seconds
            result["startup_seconds"] = _startup_seconds(env)
            for round_number in range(sizes.incremental_rounds):
                added_started = time.monotonic()
                subprocess.run([sys.executable, "-m", "bench.sync_add", str(sizes.incremental_registrations), OFFICER,
                                str(7_000_000 + round_number * 10_000)], cwd=ROOT, env=env, check=True,
                               capture_output=True, text=True, timeout=300)
                add_seconds = time.monotonic() - added_started
                waiting = outbox_by_entity(office_db)
                requests_before = len(central.requests())
                with PeakMemory() as memory:
                    memory.watch(central.labelled_pids)
                    run, = run_offices([OfficeRun(env, LOGS / f"incremental-run-{round_number}.log")],
                                       sizes.sync_timeout)
                status = sync_status(env, log)
                requests = request_summary(central.requests()[requests_before:])
                result["rounds"].append({
                    "waiting": waiting, "seconds": run.seconds, "add_seconds": add_seconds,
                    "output": run.output().splitlines()[-1], "pending_after": int(status["pending"]),
                    "requests": requests, "memory_mib": mib(run.max_rss_kib),
                    "gunicorn_memory_mib": mib(max((kib for label, kib in memory.peaks.items()
                                                     if label.startswith("gunicorn")), default=None)),
                })
                say(f"    round {round_number + 1}: {sum(waiting.values())} changes waiting, `sync run` took "
                    f"{run.seconds:.2f} s")
            (held,), = pg_rows(pg, "central", "SELECT count(*) FROM registration")
            result["central_registrations_after"] = held
    finally:
        pg.stop()
    seconds = [r["seconds"] for r in result["rounds"]]
    result["median_seconds"] = statistics.median(seconds)
    result["worst_seconds"] = max(seconds)
    result["passed"] = (result["worst_seconds"] < TARGET_INCREMENTAL_SECONDS
                        and all(r["pending_after"] == 0 for r in result["rounds"])
                        and result["central_registrations_after"] == result["central_registrations"]
                        + sizes.incremental_registrations * sizes.incremental_rounds)
    return result


def _startup_seconds(env, repeats=3):
    """Median time of `flask --app wsgi sync status`: starting Python and the app, one small query."""
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "sync", "status"], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=120)
        times.append(time.monotonic() - started)
    return statistics.median(times)
