"""The processes of the sync benchmark: PostgreSQL for central, central under gunicorn, office commands.

Everything listens on 127.0.0.1 only, every wait has a deadline, and every server started here is stopped
on leaving its `with` block, error or not. Peak memory is each process's VmHWM from /proc/<pid>/status,
polled while it runs (every 20 ms for an office command, every 0.2 s for gunicorn's master and workers).
"""
import os
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import http.client
from pathlib import Path

import psycopg

from bench.machine import ROOT
from bench.server import CENTRAL_ARGS, stop_gunicorn
from tests.support.postgres import TemporaryPostgres

WORK = ROOT / "bench" / ".work" / "sync"
LOGS = WORK / "logs"
RUNS = WORK / "run"
CACHE = WORK / "cache"

SECRET_KEY = "bench-sync-secret-key-not-for-production"
GUNICORN_ARGS = CENTRAL_ARGS
COMMAND_TIMEOUT = 3600  # seconds for any one app command (a million rows load in several minutes)
START_TIMEOUT = 60
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(M)s %(B)s"  # method, path, status, milliseconds, response bytes


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- environments and app commands -------------------------------------------------------------------

def _base_env():
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "FLASK_DEBUG")}
    env.update({"REGISTRY_ENV": "demo", "SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1",
                "SYNC_INTERVAL_SECONDS": "0"})
    for key in ("CENTRAL_URL", "OFFICE_SECRET", "SYNC_BATCH_SIZE", "DATABASE_URL", "OFFICE_CODE", "REGISTRY_ROLE"):
        env.pop(key, None)
    return env


def central_env(database_url):
    env = _base_env()
    env.update({"REGISTRY_ROLE": "central", "OFFICE_CODE": "HQ", "DATABASE_URL": database_url})
    return env


def office_env(code, database, central_url=None, secret=None, batch_size=None):
    env = _base_env()
    env.update({"REGISTRY_ROLE": "office", "OFFICE_CODE": code, "DATABASE_URL": f"sqlite:///{database}"})
    if central_url:
        env["CENTRAL_URL"] = central_url
    if secret:
        env["OFFICE_SECRET"] = secret
    if batch_size:
        env["SYNC_BATCH_SIZE"] = str(batch_size)
    return env


def flask(env, *args, log, timeout=COMMAND_TIMEOUT, stdin=None):
    """Run `flask --app wsgi ARGS`; return its standard output; raise with the log's tail if it fails."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
    with log.open("a") as handle:
        handle.write(f"\n$ flask --app wsgi {shlex.join(args)}   ({time.monotonic() - started:.1f} s, "
                     f"exit {result.returncode})\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    if result.returncode != 0:
        raise RuntimeError(f"`flask {' '.join(args)}` failed (exit {result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-2000:]}")
    return result.stdout


def sync_status(env, log):
    """`flask sync status` as a dict of strings."""
    out = flask(env, "sync", "status", log=log, timeout=120)
    status = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if key:
            status[key] = value.strip()
    return status


# --- /proc -------------------------------------------------------------------------------------------

def _status_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def children(pid):
    """Pids whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids):
    """User plus system CPU seconds used so far by these processes (those still running)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class PeakMemory:
    """Polls VmHWM (peak resident set) of a changing set of processes in a thread; `peaks` maps a label to KiB."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.sources = []  # callables returning [(label, pid)]
        self.peaks = {}
        self._stop = threading.Event()
        self._thread = None

    def watch(self, source):
        self.sources.append(source)

    def sample(self):
        for source in list(self.sources):
            for label, pid in source():
                value = _status_kib(pid, "VmHWM")
                if value is not None and value > self.peaks.get(label, 0):
                    self.peaks[label] = value

    def _loop(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sample()
        self._stop.set()
        self._thread.join(5)
        return False


# --- PostgreSQL ----------------------------------------------------------------------------------------

class Postgres(TemporaryPostgres):
    """tests.support.postgres.TemporaryPostgres, which can also start from a copy of a saved data folder and
    save its own (stopped cleanly first, so the copy needs no recovery)."""

    def start_from(self, saved):
        if not self.data.parent.exists():
            self.data.parent.mkdir(parents=True)
        shutil.copytree(saved, self.data, symlinks=True)
        for leftover in ("postmaster.pid", "postmaster.opts"):
            (self.data / leftover).unlink(missing_ok=True)
        if self.user:
            subprocess.run(["chown", "-R", f"{self.user}:", str(self.folder)], check=True, timeout=600)
        self.data.chmod(0o700)
        return self.launch(timeout=120)

    def save_to(self, target):
        """Stop the server cleanly and copy its data folder to `target` (replacing it)."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "120", "stop")
        partial = Path(str(target) + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(self.data, partial, symlinks=True)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)

    def connect(self, dbname="postgres", **kwargs):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="registry", dbname=dbname, **kwargs)

    def create_database(self, name, template=None):
        with self.connect(autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name):
        with self.connect(autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def server_pids(self):
        """The postmaster and its children (backends, writers)."""
        try:
            master = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [master] + children(master)


# --- central under gunicorn ----------------------------------------------------------------------------

class Central:
    """`with Central(url, name) as central:` serves central's app with gunicorn on 127.0.0.1."""

    def __init__(self, database_url, name, args=GUNICORN_ARGS):
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = LOGS / f"gunicorn-{name}.log"
        self.access_log = LOGS / f"gunicorn-{name}-access.log"
        self.args = args
        self.process = None
        self.worker_numbers = {}

    def __enter__(self):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.access_log.write_text("")
        command = [sys.executable, "-m", "gunicorn", *shlex.split(self.args), "-b", f"127.0.0.1:{self.port}",
                   "--no-control-socket", "--access-logfile", str(self.access_log),
                   "--access-logformat", ACCESS_FORMAT, "wsgi:app"]
        with self.log.open("w") as handle:
            self.process = subprocess.Popen(command, cwd=ROOT, env=central_env(self.database_url), stdout=handle,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200 and len(self.workers()) >= 1:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT} s; see {self.log}")

    def workers(self):
        return children(self.process.pid) if self.process else []

    def labelled_pids(self):
        if not self.process or self.process.poll() is not None:
            return []
        for pid in sorted(self.workers()):  # numbered as first seen: a replaced worker gets a new number
            self.worker_numbers.setdefault(pid, len(self.worker_numbers) + 1)
        return [("gunicorn master", self.process.pid)] + [(f"gunicorn worker {self.worker_numbers[pid]}", pid)
                                                           for pid in self.workers() if pid in self.worker_numbers]

    def cpu_seconds(self):
        if not self.process:
            return 0.0
        return cpu_seconds([self.process.pid] + self.workers())

    def requests(self):
        """(method, path, status, milliseconds, bytes) of every request logged so far."""
        rows = []
        for line in self.access_log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 5 and parts[3].isdigit():
                size = int(parts[4]) if parts[4].isdigit() else 0  # "-" when nothing was sent
                rows.append((parts[0], parts[1], int(parts[2]), int(parts[3]), size))
        return rows

    def stop(self):
        process, self.process = self.process, None
        stop_gunicorn(process)


# --- an office's `flask sync run` ----------------------------------------------------------------------

class OfficeRun:
    """`flask --app wsgi sync run` as a child process, with its peak memory and CPU time.

    The peak is VmHWM from /proc, read at every poll (every 20 ms while `run_offices` waits): it belongs to
    the process's own address space, fresh at exec. (wait4's ru_maxrss would not do: on Linux it starts
    from the forking parent's peak, here the benchmark's own, which holds the COPY part's rows.) CPU time
    comes from wait4 when the process is reaped.
    """

    def __init__(self, env, log):
        self.env, self.log = env, log
        self.process = None
        self.started = self.ended = None
        self.wall_start = None
        self.returncode = None
        self.max_rss_kib = None
        self.cpu = None

    def start(self):
        self.handle = self.log.open("w")
        self.wall_start = time.time()
        self.started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sync", "run"], cwd=ROOT,
                                        env=self.env, stdout=self.handle, stderr=subprocess.STDOUT)
        return self

    def poll(self):
        """Note the peak memory so far; reap the process if it has ended. True once it has."""
        if self.returncode is not None:
            return True
        peak = _status_kib(self.process.pid, "VmHWM")  # None once it has exited (a zombie has no memory)
        if peak is not None and peak > (self.max_rss_kib or 0):
            self.max_rss_kib = peak
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.ended = time.monotonic()
        self.returncode = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.returncode  # so Popen does not try to reap it again
        self.cpu = usage.ru_utime + usage.ru_stime
        self.handle.close()
        return True

    def kill(self):
        if self.process and self.returncode is None:
            self.process.kill()
            self.poll_until(10)

    def poll_until(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poll():
                return True
            time.sleep(0.02)
        return False

    @property
    def seconds(self):
        return None if self.ended is None else self.ended - self.started

    def output(self):
        return self.log.read_text(errors="replace").strip()


def run_offices(runs, timeout):
    """Start every run together and wait for all (each at most `timeout` seconds); kill any left over."""
    for run in runs:
        run.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if all([run.poll() for run in runs]):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"`flask sync run` did not finish within {timeout} s")
    finally:
        for run in runs:
            run.kill()
    for run in runs:
        if run.returncode != 0:
            raise RuntimeError(f"`flask sync run` failed (exit {run.returncode}): {run.output()[-1500:]}")
    return runs


# --- office databases and central's answers -------------------------------------------------------------

def fresh_sqlite(path):
    """`path` with no database file (nor its journal) left from an earlier run."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def sqlite_rows(path, sql, params=()):
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = connection.execute(sql, params).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


def outbox_by_entity(path):
    """Waiting outbox entries of an office database, by table."""
    return dict(sqlite_rows(path, "SELECT entity, count(*) FROM sync_outbox GROUP BY entity"))


def pg_rows(pg, dbname, sql, params=None):
    with pg.connect(dbname) as connection:
        return connection.execute(sql, params).fetchall()


def new_office(code, database, central_url, secret, log, registrations=0, seed=None, batch_size=None):
    """An office node as the demo makes one: migrate, take offices and users from central (first sync), then
    load its own demo registrations. Returns (environment, seconds the load took)."""
    env = office_env(code, fresh_sqlite(database), central_url, secret, batch_size)
    flask(env, "db", "upgrade", log=log)
    flask(env, "sync", "run", log=log)
    seconds = None
    if registrations:
        started = time.monotonic()
        flask(env, "demo", "load", "--registrations", str(registrations),
              *(["--seed", str(seed)] if seed is not None else []), log=log)
        seconds = time.monotonic() - started
    return env, seconds


def request_summary(requests):
    """Requests from gunicorn's access log, summed by kind (push, pull, other paths)."""
    summary = {}
    for method, path, status, ms, size in requests:
        kind = "push" if path.endswith("/push") else "pull" if path.endswith("/pull") else path
        entry = summary.setdefault(kind, {"requests": 0, "server_ms": 0, "errors": 0, "bytes": 0})
        entry["requests"] += 1
        entry["server_ms"] += ms
        entry["bytes"] += size
        entry["errors"] += status != 200
    return summary


def mib(kib):
    return None if kib is None else kib / 1024
