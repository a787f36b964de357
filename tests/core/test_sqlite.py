"""SQLite writers queue for the write lock: in order within a process, through a lock file across processes.

These run on SQLite files only (the queue does nothing on PostgreSQL), with real threads and real processes.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from registry.audit.models import AuditEvent
from registry.core.sqlite import CHECKPOINT_EVERY_COMMITS, LOCK_FILE_SUFFIX, write_queue, writes
from registry.core.types import utcnow
from registry.extensions import db
from registry.registration.models import Registration
from tests.conftest import make_app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A process that writes one audit event, says "holding" and waits for a line on stdin before committing.
HOLDER = """
import sys
from registry.audit.models import AuditEvent
from registry.core.types import utcnow
from registry.extensions import db
from tests.conftest import make_app

app = make_app(sys.argv[1])
with app.app_context():
    db.session.add(AuditEvent(actor="holder", office_code="BBR", action="test.held", at=utcnow()))
    db.session.flush()
    print("holding", flush=True)
    sys.stdin.readline()
    db.session.commit()
    print("committed", flush=True)
"""

# A process that waits for a start file, then registers COUNT new people, one transaction each.
REGISTRAR = """
import os, sys, time
from sqlalchemy import select
from registry.auth.models import User
from registry.extensions import db
from tests.conftest import make_app
from tests.support.factories import create_registration

url, start, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = make_app(url)
with app.app_context():
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    print("ready", flush=True)
    while not os.path.exists(start):
        time.sleep(0.01)
    for serial in range(first, first + count):
        create_registration(actor=officer, national_id=f"63-{serial} A 78")
        db.session.commit()
print("done", flush=True)
"""


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    path = tmp_path / "registry.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_app(sqlite_url):
    app = make_app(sqlite_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def database_path(url):
    return url.removeprefix("sqlite:///")


@contextmanager
def python(code, *args):
    """A Python process running `code`, talked to through its standard input and output; killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        process.kill()
        with process:  # closes its pipes and waits for it
            pass


def expect_line(process, wanted, timeout=60):
    line = process.stdout.readline().strip()
    if line != wanted:
        process.kill()
        raise AssertionError(f"expected {wanted!r}, got {line!r}; stderr: {process.stderr.read()[-2000:]}")


def events(action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def add_event(action):
    db.session.add(AuditEvent(actor="tester", office_code="BBR", action=action, at=utcnow()))
    db.session.flush()


def in_thread(app, action, results):
    """Start a thread that writes one event with its own session and commits it; it records the outcome."""

    def run():
        with app.app_context():
            try:
                add_event(action)
                db.session.commit()
                results.append(("committed", time.monotonic()))
            except Exception as exc:  # the test asserts on what was recorded
                results.append((f"{exc.__class__.__name__}: {exc}", time.monotonic()))
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("sql, needs_lock", [
    ("SELECT * FROM person", False),
    ("  select 1", False),
    ("PRAGMA foreign_keys=ON", False),
    ("SAVEPOINT sa_savepoint_1", False),
    ("RELEASE SAVEPOINT sa_savepoint_1", False),
    ("ROLLBACK TO SAVEPOINT sa_savepoint_1", False),
    ("BEGIN", False),
    ("BEGIN IMMEDIATE", True),
    ("INSERT INTO person (id) VALUES (?)", True),
    ("\n  UPDATE registration_sequence SET last_value=last_value + 1", True),
    ("DELETE FROM sync_outbox WHERE seq <= ?", True),
    ("REPLACE INTO t VALUES (1)", True),
    ("CREATE TABLE t (x)", True),
    ("ALTER TABLE office ADD COLUMN x", True),
    ("DROP INDEX ix_t", True),
    ("WITH recent AS (SELECT 1) SELECT * FROM recent", False),
    ("WITH recent AS (SELECT 1) INSERT INTO t SELECT * FROM recent", True),
])
def test_statements_that_need_the_write_lock_are_recognised(sql, needs_lock):
    assert writes(sql) is needs_lock


def test_the_queue_is_taken_at_the_first_write_and_left_at_commit_or_rollback(sqlite_app, sqlite_url):
    queue = write_queue(database_path(sqlite_url))
    with sqlite_app.app_context():
        db.session.scalar(select(func.count()).select_from(AuditEvent))  # reading takes nothing
        queue.acquire(timeout=0)
        queue.release()

        add_event("test.rolled_back")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            queue.acquire(timeout=0.2)
        db.session.rollback()
        queue.acquire(timeout=0)  # free again at once
        queue.release()

        add_event("test.committed")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            queue.acquire(timeout=0.2)
        db.session.commit()
        queue.acquire(timeout=0)
        queue.release()
        assert (events("test.rolled_back"), events("test.committed")) == (0, 1)


def test_a_waiting_writer_goes_on_as_soon_as_the_first_rolls_back(sqlite_app):
    results = []
    with sqlite_app.app_context():
        add_event("test.first")
        thread = in_thread(sqlite_app, "test.second", results)
        time.sleep(0.5)
        assert thread.is_alive() and results == []  # waiting for the first writer
        released = time.monotonic()
        db.session.rollback()
        thread.join(timeout=5)
        assert not thread.is_alive()
        (outcome, finished), = results
        assert outcome == "committed"
        assert finished - released < 2  # woken by the release, well before the 10 s timeout
        assert (events("test.first"), events("test.second")) == (0, 1)


def test_threads_get_the_write_lock_in_the_order_they_asked_for_it(sqlite_url):
    queue = write_queue(database_path(sqlite_url))
    queue.acquire()
    order, threads = [], []

    def writer(number):
        queue.acquire()
        order.append(number)
        queue.release()

    for number in range(5):
        threads.append(threading.Thread(target=writer, args=(number,)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while len(queue._queue._waiting) < number + 1 and time.monotonic() < deadline:
            time.sleep(0.005)  # the next one asks only once this one is in line
    queue.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == [0, 1, 2, 3, 4]


def test_two_databases_in_one_process_do_not_wait_for_each_other(sqlite_app, sqlite_template, tmp_path):
    other_path = tmp_path / "central.db"
    shutil.copyfile(sqlite_template, other_path)
    other = make_app(f"sqlite:///{other_path}", REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    results = []
    try:
        with sqlite_app.app_context():
            add_event("test.office")
            thread = in_thread(other, "test.central", results)
            thread.join(timeout=5)
            assert not thread.is_alive()
            assert [outcome for outcome, _ in results] == ["committed"]
            db.session.commit()
            assert events("test.office") == 1
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_writer_in_another_process_holds_the_lock_until_it_commits(sqlite_app, sqlite_url):
    with python(HOLDER, sqlite_url) as holder:
        expect_line(holder, "holding")
        queue = write_queue(database_path(sqlite_url))
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            queue.acquire(timeout=0.3)
        results = []
        thread = in_thread(sqlite_app, "test.after_holder", results)
        time.sleep(0.3)
        assert thread.is_alive()  # queued behind the other process
        holder.stdin.write("go\n")
        holder.stdin.flush()
        expect_line(holder, "committed")
        thread.join(timeout=5)
        assert [outcome for outcome, _ in results] == ["committed"]
        with sqlite_app.app_context():
            assert (events("test.held"), events("test.after_holder")) == (1, 1)


def test_a_killed_writer_lets_the_others_go_on_and_leaves_nothing_behind(sqlite_app, sqlite_url):
    with python(HOLDER, sqlite_url) as holder:
        expect_line(holder, "holding")
        results = []
        thread = in_thread(sqlite_app, "test.after_crash", results)
        time.sleep(0.3)
        assert thread.is_alive()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        thread.join(timeout=5)
        assert [outcome for outcome, _ in results] == ["committed"]
        with sqlite_app.app_context():
            assert (events("test.held"), events("test.after_crash")) == (0, 1)


def test_a_writer_that_waits_too_long_is_refused_and_writes_nothing(sqlite_app, sqlite_url):
    queue = write_queue(database_path(sqlite_url))
    timeout = queue.timeout
    with python(HOLDER, sqlite_url) as holder:
        expect_line(holder, "holding")
        queue.timeout = 0.5
        with sqlite_app.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                add_event("test.too_late")
            assert time.monotonic() - started < 5
            db.session.rollback()
            queue.timeout = timeout
            holder.stdin.write("go\n")
            holder.stdin.flush()
            expect_line(holder, "committed")
            assert (events("test.held"), events("test.too_late")) == (1, 0)
            add_event("test.later")  # the queue is usable again
            db.session.commit()
            assert events("test.later") == 1
        holder.kill()
        holder.wait()


def test_two_processes_registering_at_once_both_succeed_with_distinct_numbers(sqlite_app, sqlite_url, tmp_path):
    start = tmp_path / "start"
    count = 15
    with ExitStack() as stack:
        workers = [stack.enter_context(python(REGISTRAR, sqlite_url, str(start), str(first), str(count)))
                   for first in (200000, 300000)]
        for worker in workers:
            expect_line(worker, "ready")
        start.touch()
        for worker in workers:
            expect_line(worker, "done")
            assert worker.wait(timeout=60) == 0
    with sqlite_app.app_context():
        numbers = db.session.scalars(select(Registration.registration_number)).all()
    assert len(numbers) == 2 * count
    assert len(set(numbers)) == 2 * count
    sequences = sorted(int(number.split("-")[2]) for number in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 2 * count))
    assert os.path.exists(database_path(sqlite_url) + LOCK_FILE_SUFFIX)


def test_the_write_ahead_log_is_folded_back_as_writers_commit(sqlite_app, sqlite_url):
    wal = database_path(sqlite_url) + "-wal"
    with sqlite_app.app_context():
        sizes = []
        for round_ in range(6):
            for _ in range(CHECKPOINT_EVERY_COMMITS):
                add_event(f"test.round{round_}")
                db.session.commit()
            sizes.append(os.path.getsize(wal))
        assert sum(events(f"test.round{round_}") for round_ in range(6)) == 6 * CHECKPOINT_EVERY_COMMITS
    # Folded back, the log is written again from its start: it stops growing instead of holding every commit
    # (unfolded, six rounds of commits would make it about six times the size of one).
    assert sizes[-1] < 1.5 * sizes[0], sizes
