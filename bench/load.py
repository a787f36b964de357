"""`python -m bench.load [--quick] [--wait-quiet SECONDS] [--check] [--cache DIR] [--output FILE]`

The load test: central on PostgreSQL holding a million registrations, served by gunicorn with the
repository's own settings (`gunicorn -c python:registry.operations.gunicorn wsgi:app`) on 127.0.0.1, while
locust (headless, in its own process on the same machine) plays 20 offices syncing and 50 officers
searching and registering, for a fixed time (3 minutes; 30 seconds with `--quick`). bench/load_locustfile.py
describes the users and what counts as a failure. Target (issue #7): no errors; the 95th-percentile
latencies are recorded.

Central's database is a copy of the cluster bench/sync.py prepares (`python -m bench.sync --only incremental`
builds it in bench/.work/sync/cache/central-1000000/; the cache itself is never changed), brought to the
current schema with `flask db upgrade`; then bench/load_setup.py adds the 20 offices with their secrets and
the 50 officers. PostgreSQL runs with its durability settings on (fsync, synchronous commit), as in service.

All clients come from 127.0.0.1, so the per-address login limit is raised for the run (LOGIN_RATE_LIMIT, see
LOGIN_LIMIT below); the per-office sync limit stays at its default. Results go into docs/benchmarks.md
between `<!-- load benchmark: begin -->` and `<!-- load benchmark: end -->`; `--quick` (the 50,000-registration
cache when there is one) writes bench/.work/load/benchmarks-quick.md instead. `--wait-quiet SECONDS` waits
(that long at most) for other work on the machine to stop before the run; `--check` exits with status 1 when
any request failed. Logs in bench/.work/load/logs/.
"""
import argparse
import http.client
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import machine
from bench.machine import ROOT
from bench.load_report import render, write_section
from bench.stats import percentile
from bench.sync_nodes import Postgres, central_env, children, cpu_seconds, flask, free_port, pg_rows
from bench.server import stop_gunicorn

WORK = ROOT / "bench" / ".work" / "load"
LOGS = WORK / "logs"
SYNC_CACHE = ROOT / "bench" / ".work" / "sync" / "cache"
OFFICES = 20
OFFICERS = 50
PASSWORD = "Marula-Kopje-Baobab-4817"  # the officers' password (strong enough for the app's policy)
# All clients share 127.0.0.1, which the default (20 per minute, 200 per hour per address) would refuse.
LOGIN_LIMIT = "1000 per minute"
SETTINGS = {
    "full": {"seconds": 180, "cache": "central-1000000"},
    "quick": {"seconds": 30, "cache": "central-50000"},
}
SPAWN_RATE = 10  # users started per second: all 70 within 7 seconds
OFFICE_WAIT = (2, 4)  # seconds between an office's sync rounds
OFFICER_WAIT = (1, 3)  # seconds between an officer's actions
PEOPLE_PER_PUSH = 5  # each push: 5 people and their 5 registrations
PULL_LIMIT = 500  # the office's default batch size (SYNC_BATCH_SIZE)
START_TIMEOUT = 60
ACCESS_RE = re.compile(r'"(\w+) (\S+) [^"]*" (\d{3}) \S+ (\d+)us')
KINDS = {  # locust request name -> label in the report, in the report's order
    "login form": "Login page (GET /login)",
    "login": "Log in (POST /login)",
    "search: surname": "Search by surname (GET /people/?q=)",
    "search: full name": "Search by given names and surname",
    "search: national ID": "Search by national ID",
    "registration form": "Registration form (GET /registrations/new)",
    "registration POST": "Registration (POST /registrations/new)",
    "push": "Office push (5 people, 5 registrations)",
    "pull": "Office pull (GET /api/v1/sync/pull)",
}


def say(message):
    print(message, flush=True)


def _stop(signum, frame):
    raise SystemExit(128 + signum)  # through the `finally` blocks that stop locust, gunicorn and PostgreSQL


def _loadavg():
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


class Central:
    """gunicorn with the repository's settings module, on 127.0.0.1, stopped on leaving the block."""

    def __init__(self, env, log):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "REGISTRY_BIND": f"127.0.0.1:{self.port}", "LOGIN_RATE_LIMIT": LOGIN_LIMIT}
        self.log = log
        # No control socket: it would go to ~/.gunicorn/, shared with any other gunicorn on the machine.
        self.command = ["gunicorn", "-c", "python:registry.operations.gunicorn", "--no-control-socket", "wsgi:app"]
        self.process = None

    def __enter__(self):
        with self.log.open("w") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", *self.command], cwd=ROOT, env=self.env,
                                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200 and len(children(self.process.pid)) >= 2:
                    return self
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT} s; see {self.log}")

    def __exit__(self, *exc):
        self.stop()
        return False

    def pids(self):
        return [self.process.pid] + children(self.process.pid) if self.process else []

    def access(self):
        """(method, path, status, milliseconds) of every request in the access log so far."""
        rows = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = ACCESS_RE.search(line)
            if match:
                method, path, status, micro = match.groups()
                rows.append((method, path, int(status), int(micro) / 1000))
        return rows

    def stop(self):
        process, self.process = self.process, None
        stop_gunicorn(process)


def _access_kind(method, path):
    if path == "None":  # gunicorn logs no path when the app's own error handling raised
        return f"{method}, the app's error page failed"
    if path.startswith("/api/v1/sync/"):
        return path.rsplit("/", 1)[1]
    if path.startswith("/people/"):
        return "search"
    if path == "/registrations/new":
        return "registration POST" if method == "POST" else "registration form"
    if path == "/login":
        return "login" if method == "POST" else "login form"
    return f"{method} {path}"


def server_side(rows):
    """Per kind: requests, statuses other than 200/302, and gunicorn's own p50/p95 (request in to response out)."""
    kinds = {}
    for method, path, status, ms in rows:
        entry = kinds.setdefault(_access_kind(method, path), {"requests": 0, "statuses": {}, "ms": []})
        entry["requests"] += 1
        entry["ms"].append(ms)
        if status not in (200, 302):
            entry["statuses"][str(status)] = entry["statuses"].get(str(status), 0) + 1
    for entry in kinds.values():
        ms = entry.pop("ms")
        entry["p50"], entry["p95"] = percentile(ms, 0.5), percentile(ms, 0.95)
    return kinds


def latency(ms):
    if not ms:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {"count": len(ms), "p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95), "p99": percentile(ms, 0.99),
            "max": max(ms), "mean": sum(ms) / len(ms)}


def _counts(pg, offices):
    """Rows at central: all of them, and those made by the load test's offices."""
    (people,), = pg_rows(pg, "central", "SELECT count(*) FROM person")
    (registrations,), = pg_rows(pg, "central", "SELECT count(*) FROM registration")
    (conflicts,), = pg_rows(pg, "central", "SELECT count(*) FROM sync_conflict")
    (pushed_people,), = pg_rows(pg, "central", "SELECT count(*) FROM person WHERE origin_office = ANY(%s)",
                                (offices,))
    (pushed_registrations,), = pg_rows(pg, "central", "SELECT count(*) FROM registration WHERE office_code = ANY(%s)",
                                       (offices,))
    return {"people": people, "registrations": registrations, "conflicts": conflicts,
            "pushed_people": pushed_people, "pushed_registrations": pushed_registrations}


def run(args, mode):
    settings = SETTINGS[mode]
    folder = Path(args.cache) if args.cache else SYNC_CACHE / settings["cache"]
    if not (folder / "pgdata").exists() and mode == "quick":
        folder = SYNC_CACHE / SETTINGS["full"]["cache"]
    if not (folder / "pgdata").exists():
        raise SystemExit(f"no prepared central in {folder}: build it first with "
                         f"`python -m bench.sync --only incremental{' --quick' if mode == 'quick' else ''}`")
    meta = json.loads((folder / "meta.json").read_text())
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / "setup.log"
    log.write_text("")
    results = {"mode": mode, "command": "python -m bench.load" + (" --quick" if mode == "quick" else "")
               + (f" --wait-quiet {args.wait_quiet}" if args.wait_quiet else ""),
               "machine": machine.describe(), "offices": OFFICES, "officers": OFFICERS,
               "seconds": settings["seconds"], "spawn_rate": SPAWN_RATE, "office_wait": OFFICE_WAIT,
               "officer_wait": OFFICER_WAIT, "people_per_push": PEOPLE_PER_PUSH, "pull_limit": PULL_LIMIT,
               "login_limit": LOGIN_LIMIT, "cache_built_at": meta.get("built_at")}
    started = time.monotonic()
    pg = Postgres(fast=False)
    try:
        say(f"copying central's prepared cluster ({meta['registrations']:,} registrations) from {folder} ...")
        pg.start_from(folder / "pgdata")
        env = central_env(pg.url("central"))
        say("`flask db upgrade` on the copy ...")
        flask(env, "db", "upgrade", log=log)
        say(f"adding {OFFICES} offices (with secrets) and {OFFICERS} officers at head office ...")
        setup = json.loads(subprocess.run(
            [sys.executable, "-m", "bench.load_setup", str(OFFICES), str(OFFICERS), PASSWORD], cwd=ROOT, env=env,
            check=True, capture_output=True, text=True, timeout=600).stdout.strip().splitlines()[-1])
        with pg.connect("central", autocommit=True) as connection:
            connection.execute("ANALYZE")  # the copy's statistics, after the upgrade
        results.update({"stored_people": setup["stored_people"], "stored_registrations": setup["stored_registrations"],
                        "feed_end": setup["feed_end"], "search_sample": len(setup["people"])})
        config = {**setup, "password": PASSWORD, "office_wait": OFFICE_WAIT, "officer_wait": OFFICER_WAIT,
                  "people_per_push": PEOPLE_PER_PUSH, "pull_limit": PULL_LIMIT}
        config_path, samples_path = WORK / "config.json", WORK / "samples.json"
        config_path.write_text(json.dumps(config))
        samples_path.unlink(missing_ok=True)
        before = _counts(pg, sorted(setup["secrets"]))
        with Central(env, LOGS / "gunicorn.log") as central:
            results["gunicorn"] = (f"gunicorn -c python:registry.operations.gunicorn wsgi:app "
                                   f"({len(children(central.process.pid))} workers)")
            if args.wait_quiet:
                say(f"waiting (at most {args.wait_quiet} s) for the machine to be quiet ...")
                results["busy_before"] = machine.wait_until_quiet(args.wait_quiet, say=say)
            results["load_average_before"] = _loadavg()
            results["machine"]["date"] = machine.describe()["date"]  # when the clients start
            users = OFFICES + OFFICERS
            command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_locustfile.py"), "--headless",
                       "--host", central.url, "-u", str(users), "-r", str(SPAWN_RATE), "-t", f"{settings['seconds']}s",
                       "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
            results["locust"] = shlex.join(["locust", "-f", "bench/load_locustfile.py", "--headless", "-u", str(users),
                                            "-r", str(SPAWN_RATE), "-t", f"{settings['seconds']}s"])
            say(f"locust: {OFFICES} offices and {OFFICERS} officers for {settings['seconds']} s "
                f"against {central.url} ...")
            server_cpu, pg_cpu = cpu_seconds(central.pids()), cpu_seconds(pg.server_pids())
            busy = machine.cpu_times()
            run_started = time.monotonic()
            with (LOGS / "locust.log").open("w") as handle:
                process = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                           env={**os.environ, "LOAD_CONFIG": str(config_path),
                                                "LOAD_SAMPLES": str(samples_path), "PYTHONPATH": str(ROOT)})
                try:
                    _, status, usage = os.wait4(process.pid, 0)
                    process.returncode = os.waitstatus_to_exitcode(status)
                finally:
                    if process.returncode is None:
                        process.kill()
                        process.wait(10)
            results["run_seconds"] = time.monotonic() - run_started
            results["cpu"] = {"gunicorn": cpu_seconds(central.pids()) - server_cpu,
                              "postgres": cpu_seconds(pg.server_pids()) - pg_cpu,
                              "locust": usage.ru_utime + usage.ru_stime}
            results["machine_busy"] = machine.busy_share(busy, machine.cpu_times())
            results["load_average_after"] = _loadavg()
            if process.returncode != 0 or not samples_path.exists():
                raise RuntimeError(f"locust failed (exit {process.returncode}); see {LOGS / 'locust.log'}")
            results["server"] = server_side(central.access())
        after = _counts(pg, sorted(setup["secrets"]))
    finally:
        pg.stop()
    recorded = json.loads(samples_path.read_text())
    results["kinds"] = {}
    for name, label in KINDS.items():
        failed = sum(count for key, count in recorded["failures"].items() if key.startswith(name + ":"))
        results["kinds"][name] = {"label": label, "failures": failed, **latency(recorded["samples"].get(name, []))}
    searches = [ms for name in KINDS if name.startswith("search") for ms in recorded["samples"].get(name, [])]
    results["all_searches"] = latency(searches)
    results["failures"] = recorded["failures"]
    results["outcomes"] = recorded["outcomes"]
    results["requests"] = sum(len(v) for v in recorded["samples"].values()) + sum(recorded["failures"].values())
    results["failed"] = sum(recorded["failures"].values())
    results["before"], results["after"] = before, after
    outcomes = recorded["outcomes"]
    results["stored_as_expected"] = (
        after["registrations"] - before["registrations"] == outcomes.get("registered", 0)
        + outcomes.get("pushed_registrations", 0)
        and after["pushed_registrations"] - before["pushed_registrations"] == outcomes.get("pushed_registrations", 0)
        and after["pushed_people"] - before["pushed_people"] == outcomes.get("pushed_people", 0))
    results["total_seconds"] = time.monotonic() - started
    results["passed"] = results["failed"] == 0 and results["stored_as_expected"] and all(
        not entry["statuses"] for entry in results["server"].values())
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="30 seconds, on the 50,000-registration cache if there is one")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="wait at most this long for other work on the machine to stop before the run")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if any request failed")
    parser.add_argument("--cache", help="folder of a prepared central (meta.json, pgdata/) made by bench.sync")
    parser.add_argument("--output", help="where to write the section (default: docs/benchmarks.md, or "
                                         "bench/.work/load/benchmarks-quick.md with --quick)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    mode = "quick" if args.quick else "full"
    results = run(args, mode)
    (WORK / f"results-{mode}.json").write_text(json.dumps(results, indent=2, default=str))
    output = Path(args.output) if args.output else (WORK / "benchmarks-quick.md" if args.quick
                                                    else ROOT / "docs" / "benchmarks.md")
    write_section(output, render(results))
    for kind in results["kinds"].values():
        say(f"  {kind['label']:<46} {kind['count']:>6} ok, {kind['failures']} failed; p50 {kind['p50'] or 0:7.1f} ms, "
            f"p95 {kind['p95'] or 0:7.1f} ms, p99 {kind['p99'] or 0:7.1f} ms")
    say(f"{results['requests']:,} requests, {results['failed']} failed; written to {output}")
    if args.check and not results["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
