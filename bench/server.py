"""gunicorn as a subprocess on 127.0.0.1, the way an office node is served; always stopped afterwards."""
import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.database import LOGS, app_env
from bench.machine import ROOT

# The deployment the issue asks about; `python -m bench --gunicorn "-w 4 --threads 2"` tries another.
# An office on Linux served by gunicorn (docs/operations.md): two workers of four threads, each accepting only
# as many connections as it has threads, and no keep-alive, so a connection always goes to a worker with a
# thread free. With keep-alive, whichever worker accepted a client's connection kept it, and the split of
# eight clients between the two (8/0 one run, 5/3 the next) decided the result more than the code did.
OFFICE_ARGS = "-w 2 --threads 4 --worker-connections 4 --keep-alive 0"
# Central: registry/operations/gunicorn.py's two workers of four threads.
CENTRAL_ARGS = "-w 2 --threads 4"
START_TIMEOUT = 60  # seconds for the workers to import the app and answer /healthz
STOP_TIMEOUT = 30


def stop_gunicorn(process):
    """SIGTERM to the master (graceful), then SIGKILL to its process group if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(STOP_TIMEOUT)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`with Gunicorn(database, "name") as server:` starts gunicorn and stops it on leaving, error or not."""

    def __init__(self, database, name, args=OFFICE_ARGS):
        self.database = database
        self.port = free_port()
        self.log = LOGS / f"gunicorn-{name}.log"
        self.process = None
        # No control socket: it would go to ~/.gunicorn/, shared with any other gunicorn on the machine.
        self.command = ["gunicorn", *shlex.split(args), "-b", f"127.0.0.1:{self.port}", "--no-control-socket",
                        "wsgi:app"]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        LOGS.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("w")
        # Its own session, so the whole group (master and workers) can be stopped by its id if need be.
        self.process = subprocess.Popen([sys.executable, "-m", *self.command], cwd=ROOT, env=app_env(self.database),
                                        stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}:\n{self._tail()}")
            if self._healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT} s; see {self.log}")

    def _group(self):
        """(pid, parent pid, CPU seconds) of the master and its workers: the process group it leads."""
        ticks = os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(fields[2]) == self.process.pid:
                yield int(stat.parent.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks

    def cpu_seconds(self):
        """User plus system CPU time used so far by the master and its workers (Linux /proc)."""
        return sum(cpu for _, _, cpu in self._group())

    def connections_per_worker(self):
        """How many open client connections each worker holds, busiest first (Linux /proc).

        gunicorn's gthread workers keep a keep-alive connection for good, so this shows whether the
        clients' load is spread over the workers at all.
        """
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
        counts = []
        for pid, parent, _ in self._group():
            if parent != self.process.pid:
                continue
            held = 0
            for fd in Path(f"/proc/{pid}/fd").glob("*"):
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                held += target.startswith("socket:[") and target[8:-1] in inodes
            counts.append(held)
        return sorted(counts, reverse=True)

    def _healthy(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _tail(self, lines=20):
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        process, self.process = self.process, None
        stop_gunicorn(process)
