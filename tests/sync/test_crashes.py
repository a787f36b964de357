"""Crashes at any point lose and duplicate nothing (invariant 8).

Central runs as its own process (waitress on 127.0.0.1), each office's sync as a `flask sync run`
process; both are killed with SIGKILL at random moments, central is restarted, batches are sent out of
order and twice. After one clean round everywhere, central and every office hold exactly the same rows,
compared by a digest of every column of every row, not by counts.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete

from registry.core.db import command_transaction
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.sync import office as office_sync
from registry.sync.models import OutboxEntry
from tests.conftest import TEST_CONFIG, make_app
from tests.sync.conftest import secret_for, within
from tests.sync.test_roundtrip import digest

ROOT = Path(__file__).resolve().parents[2]
PER_OFFICE = 800


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_env(**config):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REGISTRY_", "OFFICE_"))}
    env.update({key: str(value) for key, value in TEST_CONFIG.items()})
    # Small batches: many commits per round, so a kill lands between two of them, not after the last.
    env.update({"SYNC_INTERVAL_SECONDS": "0", "SYNC_BATCH_SIZE": "100", "PYTHONUNBUFFERED": "1"})
    env.update({key: str(value) for key, value in config.items()})
    return env


class CentralProcess:
    def __init__(self, database_url):
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{self.port}", "--threads=4", "wsgi:app"],
            cwd=ROOT, env=node_env(REGISTRY_ROLE="central", OFFICE_CODE="HQ", DATABASE_URL=self.database_url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("central did not start")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def sync_process(office_app, capture=False):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "run"], cwd=ROOT,
        env=node_env(REGISTRY_ROLE="office", OFFICE_CODE=office_app.config["OFFICE_CODE"],
                     DATABASE_URL=office_app.config["DATABASE_URL"], CENTRAL_URL=office_app.config["CENTRAL_URL"],
                     OFFICE_SECRET=office_app.config["OFFICE_SECRET"]),
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )


@pytest.fixture
def network(database_url, sqlite_template, tmp_path):
    central_app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    central = CentralProcess(database_url)
    offices = {}
    for code, seed in (("BBR", 1), ("HRE", 2)):
        path = tmp_path / f"{code}.db"
        shutil.copyfile(sqlite_template, path)
        app = make_app(f"sqlite:///{path}", OFFICE_CODE=code, CENTRAL_URL=central.url,
                       OFFICE_SECRET=secret_for(central_app, code))
        with app.app_context():
            with command_transaction():
                db.session.execute(delete(OutboxEntry))  # the seed is central's too
            load_demo(PER_OFFICE, [code], seed=seed)
        offices[code] = app
    central.start()
    yield central_app, central, offices
    central.kill()
    for app in (central_app, *offices.values()):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_kills_reorders_and_duplicates_lose_nothing(network):
    central_app, central, offices = network
    rng = random.Random(20261124)

    # 1. Office sync processes killed with SIGKILL: first in the middle of a push (after some batches
    #    were acknowledged), then in the middle of a pull, then at a random moment of a round.
    def kill_when(app, progressed, extra):
        process = sync_process(app)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                with within(app):
                    if progressed():
                        break
                time.sleep(0.01)
            assert process.poll() in (None, 0), f"the sync process failed by itself (exit {process.returncode})"
            time.sleep(extra)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    mid_push = mid_pull = 0
    for app in offices.values():
        with within(app):
            waiting = office_sync.pending_count()
        kill_when(app, lambda: office_sync.pending_count() < waiting, rng.uniform(0, 0.05))
        with within(app):
            mid_push += 0 < office_sync.pending_count() < waiting
    for app in offices.values():
        with within(app):
            cursor = office_sync.sync_state().pull_cursor
        kill_when(app, lambda: office_sync.sync_state().pull_cursor > cursor, rng.uniform(0, 0.05))
        with within(app):
            state = office_sync.sync_state()
            mid_pull += state.pull_cursor > cursor and state.last_success_at is None
    for app in offices.values():
        kill_when(app, lambda: True, rng.uniform(0.2, 1.5))
    assert mid_push >= 1 and mid_pull >= 1, f"kills landed mid-push {mid_push}, mid-pull {mid_pull} times"

    # 2. Central killed in the middle of a round, then restarted.
    process = sync_process(offices["HRE"])
    time.sleep(rng.uniform(0.1, 0.6))
    central.kill()
    process.wait(timeout=60)
    central.start()

    # 3. Batches out of order, and the same batch twice (a lost answer), straight through the API.
    with within(offices["BBR"]):
        client = office_sync.client_from_config(office_sync.sync_state())
        first = office_sync.pending_batch(50)
        second = office_sync.pending_batch(50, after=first.changes[-1].seq if first.changes else 0)
        for batch in (second, first, second):
            if batch.changes:
                client.request("POST", "/api/v1/sync/push", batch.to_json())

    # 4. One clean round everywhere (twice, so each office also pulls what the other sent last).
    for _ in range(2):
        for code, app in offices.items():
            process = sync_process(app, capture=True)
            output = process.communicate(timeout=300)[0].decode()
            assert process.returncode == 0, f"{code}: {output}"

    central_digest = digest(central_app)
    assert central_digest[1] > 2 * PER_OFFICE  # people and registrations of both offices
    for code, app in offices.items():
        assert digest(app) == central_digest, f"{code} differs from central"
        with within(app):
            assert office_sync.pending_count() == 0

