"""`python -m bench.sync [--quick] [--only push|offices|incremental] [--rebuild] [--batch-size N] [--output FILE]`

The sync benchmark: offices (SQLite, `flask sync run` as their own processes) pushing to central
(PostgreSQL, served by gunicorn) over loopback.

1. push: one office pushes its whole backlog (`flask demo load` rows and their outbox entries) in one
   `sync run`, which then pulls central's feed (which leaves out the office's own changes); records per
   second, compared with loading the same people and registrations into the same PostgreSQL with COPY.
2. memory: peak resident memory of every process taking part (office command, gunicorn master and workers).
3. incremental: central already holding a million registrations, an office that is up to date adds 100
   registrations and runs one `sync run`.
4. offices: three offices push at once; central must then hold every record exactly once.

Results go into docs/benchmarks.md between `<!-- sync:start -->` and `<!-- sync:end -->` (the rest of the
file is left as it is); `--quick` writes bench/.work/sync/benchmarks-quick.md instead. The prepared central
database of step 3 is kept in bench/.work/sync/cache/ so a re-run is quick (after a new migration it is brought
up to date with `flask db upgrade` once, not rebuilt; `--rebuild` rebuilds it). `--wait-quiet SECONDS` waits
(that long at most) for other work on the machine to stop before each part; `--check` exits with status 1
when a target is missed. Logs of every command and server are in bench/.work/sync/logs/.
"""
import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from psycopg.types.json import Json

from bench import machine
from bench.machine import ROOT
from bench.sync_incremental import incremental_benchmark
from bench.sync_nodes import (CACHE, LOGS, RUNS, WORK, Central, OfficeRun, PeakMemory, Postgres, central_env,
                              cpu_seconds, flask, mib, new_office, outbox_by_entity, pg_rows, request_summary,
                              run_offices, sqlite_rows, sync_status)
from bench.sync_report import OFFICES, render, verdicts, write_section


@dataclass(frozen=True)
class Sizes:
    push_registrations: int  # loaded at one office and pushed in one round
    office_registrations: int  # at each of the three offices pushing at once
    central_registrations: int  # already at central for the incremental round
    incremental_registrations: int  # added at the office before each incremental round
    incremental_rounds: int
    sync_timeout: int  # seconds for one `sync run`


FULL = Sizes(push_registrations=100_000, office_registrations=20_000, central_registrations=1_000_000,
             incremental_registrations=100, incremental_rounds=3, sync_timeout=3600)
QUICK = Sizes(push_registrations=10_000, office_registrations=3_000, central_registrations=50_000,
              incremental_registrations=100, incremental_rounds=2, sync_timeout=600)


def say(message):
    print(message, flush=True)


def _stop(signum, frame):
    raise SystemExit(128 + signum)  # through the `finally` blocks that stop gunicorn and PostgreSQL


def _machine_busy():
    return machine.cpu_times()


# --- central ---------------------------------------------------------------------------------------------

def _central_base(pg, log):
    """Central's database as head office sets it up: schema, demo offices and users, a secret per office."""
    url = pg.create_database("central_base")
    env = central_env(url)
    flask(env, "db", "upgrade", log=log)
    flask(env, "demo", "setup", log=log)
    # `issue-secret` prints the secret as its last line. Each part copies this database (CREATE DATABASE ...
    # TEMPLATE), so the secrets hold in every copy.
    return {code: flask(env, "offices", "issue-secret", code, log=log).strip().splitlines()[-1] for code in OFFICES}


def _central_counts(pg, dbname, office):
    (people,), = pg_rows(pg, dbname, "SELECT count(*) FROM person WHERE origin_office = %s", (office,))
    (registrations,), = pg_rows(pg, dbname, "SELECT count(*) FROM registration WHERE origin_office = %s", (office,))
    (inbox, first, last), = pg_rows(pg, dbname, "SELECT count(*), min(received_at), max(received_at) "
                                                "FROM sync_inbox WHERE office_code = %s", (office,))
    return {"people": people, "registrations": registrations, "inbox": inbox, "first_received": first,
            "last_received": last}


# --- 1 and 2: one office pushes its backlog ------------------------------------------------------------

def push_benchmark(pg, secrets, sizes, batch_size=None):
    """One office pushes its whole backlog in one `sync run` (which then pulls the feed)."""
    log = LOGS / "push.log"
    log.write_text("")
    dbname = "central_push"
    url = pg.create_database(dbname, template="central_base")
    office_db = RUNS / "push-bbr.db"
    result = {"registrations_loaded": sizes.push_registrations}
    with Central(url, "push") as central:
        say(f"  office BBR: migrating, first sync, loading {sizes.push_registrations:,} registrations ...")
        env, load_seconds = new_office("BBR", office_db, central.url, secrets["BBR"], log, sizes.push_registrations,
                                       batch_size=batch_size)
        result["load_seconds"] = load_seconds
        waiting = outbox_by_entity(office_db)
        result["waiting"] = waiting
        (people,), = sqlite_rows(office_db, "SELECT count(*) FROM person WHERE origin_office = 'BBR'")
        (registrations,), = sqlite_rows(office_db, "SELECT count(*) FROM registration WHERE origin_office = 'BBR'")
        result["office_people"], result["office_registrations"] = people, registrations
        requests_before = len(central.requests())
        (feed_before,), = pg_rows(pg, dbname, "SELECT coalesce(max(seq), 0) FROM sync_outbox")
        say(f"  `flask sync run`: {sum(waiting.values()):,} changes waiting "
            f"({', '.join(f'{n:,} {e}' for e, n in sorted(waiting.items()))}) ...")
        before = sync_status(env, log)  # its totals count the first sync's too
        busy_before = _machine_busy()
        central_cpu, pg_cpu = central.cpu_seconds(), cpu_seconds(pg.server_pids())
        with PeakMemory() as memory:
            memory.watch(central.labelled_pids)
            run, = run_offices([OfficeRun(env, LOGS / "push-sync-run.log")], sizes.sync_timeout)
        central_cpu, pg_cpu = central.cpu_seconds() - central_cpu, cpu_seconds(pg.server_pids()) - pg_cpu
        busy = machine.busy_share(busy_before, _machine_busy())
        status = sync_status(env, log)
        counts = _central_counts(pg, dbname, "BBR")
        (feed_after,), = pg_rows(pg, dbname, "SELECT coalesce(max(seq), 0) FROM sync_outbox")
        requests = request_summary(central.requests()[requests_before:])
        gunicorn_peaks = {label: kib for label, kib in memory.peaks.items() if label.startswith("gunicorn")}
    pushed = int(status["pushed_total"]) - int(before["pushed_total"])
    push_seconds = counts["last_received"].timestamp() - run.wall_start if counts["last_received"] else None
    result.update({
        "seconds": run.seconds, "push_seconds": push_seconds,
        "pull_seconds": run.seconds - push_seconds if push_seconds else None,
        "first_change_after": (counts["first_received"].timestamp() - run.wall_start
                               if counts["first_received"] else None),
        "output": run.output().splitlines()[-1], "pushed": pushed,
        "pulled": int(status["pulled_total"]) - int(before["pulled_total"]),
        "pending_after": int(status["pending"]), "last_error": status["last_error"],
        "central": {k: v for k, v in counts.items() if k in ("people", "registrations", "inbox")},
        "feed_added": feed_after - feed_before, "requests": requests,
        "cpu": {"office": run.cpu, "gunicorn": central_cpu, "postgres": pg_cpu}, "machine_busy": busy,
        "memory_mib": {"office `sync run`": mib(run.max_rss_kib),
                       **{label: mib(kib) for label, kib in sorted(gunicorn_peaks.items())}},
    })
    result["records_per_second"] = pushed / run.seconds
    result["push_records_per_second"] = pushed / push_seconds if push_seconds else None
    result["registrations_per_second"] = counts["registrations"] / run.seconds
    result["complete"] = (counts["people"] == people and counts["registrations"] == registrations
                          and result["pending_after"] == 0 and pushed == sum(waiting.values()))
    say(f"    {pushed:,} changes in {run.seconds:.1f} s ({result['records_per_second']:,.0f}/s end to end; "
        f"push phase {push_seconds or 0:.1f} s); office peak {result['memory_mib']['office `sync run`']:.0f} MiB")
    say("  COPY of the same rows into the same PostgreSQL ...")
    result["copy"] = copy_benchmark(pg, dbname, "BBR")
    result["copy_ratio"] = result["copy"]["records_per_second"] / result["records_per_second"]
    pg.drop_database(dbname)
    return result


def copy_benchmark(pg, dbname, office):
    """Load the office's person and registration rows, already in memory, into empty tables of the same
    schema (indexes and constraints included, foreign keys not) with psycopg's COPY; time the load."""
    timings = {}
    with pg.connect(dbname) as connection:
        tables = {}
        for table in ("person", "registration"):
            copy_table = f"bench_copy_{table}"
            connection.execute(f"DROP TABLE IF EXISTS {copy_table}")
            connection.execute(f"CREATE TABLE {copy_table} (LIKE {table} INCLUDING ALL)")
            rows = connection.execute(f"SELECT * FROM {table} WHERE origin_office = %s", (office,)).fetchall()
            tables[copy_table] = [tuple(Json(v) if isinstance(v, (list, dict)) else v for v in row) for row in rows]
        connection.commit()
        started = time.monotonic()
        with connection.cursor() as cursor:
            for copy_table, rows in tables.items():
                table_started = time.monotonic()
                with cursor.copy(f"COPY {copy_table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                timings[copy_table] = time.monotonic() - table_started
        connection.commit()
        seconds = time.monotonic() - started
        loaded = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        for copy_table in tables:
            connection.execute(f"DROP TABLE {copy_table}")
        connection.commit()
    records = sum(loaded.values())
    say(f"    {records:,} rows in {seconds:.1f} s ({records / seconds:,.0f}/s)")
    return {"records": records, "seconds": seconds, "records_per_second": records / seconds, "tables": loaded,
            "table_seconds": timings}


# --- 4: three offices at once --------------------------------------------------------------------------

def offices_benchmark(pg, secrets, sizes, batch_size=None):
    """Three offices push at once; then central must hold each office's records exactly once."""
    log = LOGS / "offices.log"
    log.write_text("")
    dbname = "central_offices"
    url = pg.create_database(dbname, template="central_base")
    result = {"per_office": {}}
    with Central(url, "offices") as central:
        envs, databases = {}, {}
        for number, code in enumerate(OFFICES):
            say(f"  office {code}: migrating, first sync, loading {sizes.office_registrations:,} registrations ...")
            databases[code] = RUNS / f"offices-{code.lower()}.db"
            # Each office its own seed: the same seed would give every office the same people.
            envs[code], _ = new_office(code, databases[code], central.url, secrets[code], log,
                                       sizes.office_registrations, seed=100 + number, batch_size=batch_size)
        waiting = {code: sum(outbox_by_entity(databases[code]).values()) for code in OFFICES}
        say(f"  three `flask sync run` at once: {sum(waiting.values()):,} changes waiting ...")
        busy_before = _machine_busy()
        with PeakMemory() as memory:
            memory.watch(central.labelled_pids)
            runs = run_offices([OfficeRun(envs[code], LOGS / f"offices-sync-run-{code.lower()}.log")
                                for code in OFFICES], sizes.sync_timeout)
        result["machine_busy"] = machine.busy_share(busy_before, _machine_busy())
        result["seconds"] = max(run.ended for run in runs) - min(run.started for run in runs)
        checks = []
        for code, run in zip(OFFICES, runs):
            status = sync_status(envs[code], log)
            # Ids: 32 hexadecimal digits in SQLite, uuid at central.
            office_people, office_regs = ({row[0] for row in sqlite_rows(databases[code], f"SELECT id FROM {table} "
                                                                         "WHERE origin_office = ?", (code,))}
                                          for table in ("person", "registration"))
            central_people, central_regs = ([row[0].hex for row in pg_rows(pg, dbname, f"SELECT id FROM {table} "
                                                                           "WHERE origin_office = %s", (code,))]
                                            for table in ("person", "registration"))
            (inbox,), = pg_rows(pg, dbname, "SELECT count(*) FROM sync_inbox WHERE office_code = %s", (code,))
            entry = {
                "waiting": waiting[code], "seconds": run.seconds, "pushed": int(status["pushed_total"]),
                "pending_after": int(status["pending"]), "memory_mib": mib(run.max_rss_kib),
                "office_people": len(office_people), "office_registrations": len(office_regs),
                "central_people": len(central_people), "central_registrations": len(central_regs),
                "central_distinct": len(set(central_people)) + len(set(central_regs)), "inbox": inbox,
                "missing": len(office_people - set(central_people)) + len(office_regs - set(central_regs)),
                "extra": len(set(central_people) - office_people) + len(set(central_regs) - office_regs),
            }
            entry["exact"] = (entry["missing"] == 0 and entry["extra"] == 0 and entry["pending_after"] == 0
                              and entry["central_distinct"] == len(central_people) + len(central_regs)
                              and entry["pushed"] == waiting[code])
            result["per_office"][code] = entry
            checks.append(entry["exact"])
        (numbers, distinct_numbers), = pg_rows(pg, dbname, "SELECT count(*), count(DISTINCT registration_number) "
                                                       "FROM registration")
        (duplicate_pairs,), = pg_rows(pg, dbname, "SELECT count(*) FROM duplicate_candidate")
        (conflicts,), = pg_rows(pg, dbname, "SELECT count(*) FROM sync_conflict")
        result.update({"registration_numbers": numbers, "distinct_registration_numbers": distinct_numbers,
                       "duplicate_pairs_queued": duplicate_pairs, "conflicts": conflicts})
        pushed = sum(e["pushed"] for e in result["per_office"].values())
        result["pushed"] = pushed
        result["records_per_second"] = pushed / result["seconds"]
        result["memory_mib"] = {f"office {code} `sync run`": entry["memory_mib"]
                                for code, entry in result["per_office"].items()}
        result["memory_mib"].update({label: mib(kib) for label, kib in sorted(memory.peaks.items())
                                     if label.startswith("gunicorn")})
        # A second round each, one after the other: every office then holds every office's records.
        say("  a second round at each office, so each gets the others' records ...")
        (central_total,), = pg_rows(pg, dbname, "SELECT count(*) FROM registration")
        converged = {}
        for code in OFFICES:
            second, = run_offices([OfficeRun(envs[code], LOGS / f"offices-second-{code.lower()}.log")],
                                  sizes.sync_timeout)
            (held,), = sqlite_rows(databases[code], "SELECT count(*) FROM registration")
            converged[code] = {"registrations": held, "seconds": second.seconds,
                               "memory_mib": mib(second.max_rss_kib)}
        result["central_registrations"] = central_total
        result["converged"] = converged
        result["passed"] = (all(checks) and numbers == distinct_numbers
                            and all(c["registrations"] == central_total for c in converged.values()))
    pg.drop_database(dbname)
    say(f"    {pushed:,} changes from three offices in {result['seconds']:.1f} s; "
        f"{'every record exactly once' if result['passed'] else 'RECORDS DIFFER'}")
    return result


# --- main ----------------------------------------------------------------------------------------------

def main(argv=None):
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="small sizes (about three minutes); writes to "
                                                             "bench/.work/sync/benchmarks-quick.md")
    parser.add_argument("--only", choices=("push", "offices", "incremental"), action="append",
                        help="run only this part (may be given more than once)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached central of the incremental part")
    parser.add_argument("--output", help="the Markdown file whose sync section is written")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="before each part, wait up to this long for other work on the machine to stop")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="SYNC_BATCH_SIZE for the offices (default: the app's own, 1000; at most 1000)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    parts = args.only or ["push", "offices", "incremental"]
    output = ROOT / (args.output or ("bench/.work/sync/benchmarks-quick.md" if args.quick else "docs/benchmarks.md"))
    for folder in (LOGS, RUNS, CACHE):
        folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    results = {"mode": "quick" if args.quick else "full", "command": f"python -m bench.sync {argv_text}".strip(),
               "sizes": asdict(sizes), "machine": machine.describe(), "batch_size": args.batch_size, "notes": []}

    def settle(name):
        share = machine.wait_until_quiet(args.wait_quiet, say=say) if args.wait_quiet else None
        if share is not None and share > 0.15:
            results["notes"].append(f"Other work kept the machine {share:.0%} busy just before the {name} part.")

    if "push" in parts or "offices" in parts:
        pg = Postgres()
        try:
            pg.start()
            results["postgres"] = pg_rows(pg, "postgres", "SHOW server_version")[0][0]
            say("Central: migrating, demo offices and users, secrets ...")
            secrets = _central_base(pg, LOGS / "central.log")
            if "push" in parts:
                settle("push")
                say(f"Push: one office, {sizes.push_registrations:,} registrations")
                results["push"] = push_benchmark(pg, secrets, sizes, args.batch_size)
            if "offices" in parts:
                settle("three offices")
                say(f"Three offices at once, {sizes.office_registrations:,} registrations each")
                results["offices"] = offices_benchmark(pg, secrets, sizes, args.batch_size)
        finally:
            pg.stop()
    if "incremental" in parts:
        settle("incremental")
        say(f"Incremental: central holding {sizes.central_registrations:,} registrations")
        results["incremental"] = incremental_benchmark(sizes, rebuild=args.rebuild, batch_size=args.batch_size)
        results.setdefault("postgres", _postgres_version())
    results["seconds"] = time.monotonic() - started
    (WORK / f"results-{results['mode']}.json").write_text(json.dumps(results, indent=2, default=str))
    write_section(output, render(results))
    say(f"Wrote the sync section of {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"in {results['seconds'] / 60:.1f} minutes.")
    passed = all(verdicts(results).values())
    return 1 if args.check and not passed else 0


def _postgres_version():
    from tests.support.postgres import find_binaries

    out = subprocess.run([str(find_binaries() / "postgres"), "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip().split()[-1] if out.returncode == 0 else "unknown"


if __name__ == "__main__":
    sys.exit(main())
