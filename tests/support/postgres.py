"""A throwaway PostgreSQL server for tests and benchmarks: its own data folder, port and socket, on 127.0.0.1.

Uses the PostgreSQL binaries on this machine (Debian's `postgresql` package in CI). PostgreSQL refuses
to run as root, so as root the server runs as the `postgres` system user.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


class PostgresUnavailable(RuntimeError):
    pass


def find_binaries():
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb) found; install Debian's postgresql package")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPostgres:
    """Start with `start()`, stop with `stop()`; `url(dbname)` gives a SQLAlchemy URL."""

    def __init__(self, fast=True):
        self.bin = find_binaries()
        self.fast = fast
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="registry-pg-"))
        self.data = self.folder / "data"
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") from None
            self.user = "postgres"
            shutil.chown(self.folder, user="postgres")

    def _run(self, *args, **kwargs):
        command = [str(a) for a in args]
        if self.user:
            command = ["runuser", "-u", self.user, "--"] + command
        return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)

    def start(self):
        try:
            self._run(self.bin / "initdb", "-D", self.data, "-U", "registry", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8")
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"initdb failed: {exc.stderr.strip()[-400:]}") from None
        return self.launch()

    def launch(self, timeout=60):
        """Start the server on this object's data folder and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if self.fast:
            # Test data is thrown away: durability settings only cost time here.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "server.log",
                      "-w", "-t", str(timeout), "start")
        except subprocess.CalledProcessError as exc:
            log = (self.folder / "server.log").read_text(errors="replace")[-800:] if (self.folder / "server.log").exists() else ""
            raise PostgresUnavailable(f"PostgreSQL did not start: {exc.stderr.strip()[-400:]} {log}") from None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise PostgresUnavailable("PostgreSQL started but does not accept connections")

    def url(self, dbname="postgres"):
        return f"postgresql+psycopg://registry@127.0.0.1:{self.port}/{dbname}"

    def stop(self):
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def scratch_database(admin_url, prefix, template=None):
    """A new database on the server of `admin_url` (copied from `template` if given), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()
