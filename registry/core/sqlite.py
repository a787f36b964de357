"""SQLite settings for an office node: many readers with one writer, and foreign keys enforced.

SQLite lets one connection write at a time. A connection that finds the file locked waits in SQLite's busy
handler, which sleeps in growing steps (up to 100 ms) and tries again; with several officers saving at once
a waiting request often sleeps long after the lock came free, or loses it to a newcomer, so the slowest
saves took seconds. Here each connection first queues for the right to write: in order among the threads
of this process, then with a lock on a file beside the database (`<database>-writer`) that the kernel hands
on to a waiting process the moment it is released. The queue is taken at a connection's first writing
statement and left when its transaction ends (commit, rollback, close), so SQLite's own lock is then free
and taken at once. SQLite's lock still decides who writes; the queue only orders the waiting, so a writer
that does not queue (the sqlite3 shell, another program) is still kept out, by SQLite's busy handler.

Checkpoints (folding the write-ahead log back into the database file, which waits for the disk) are made
by a committer after it has left the queue, rather than by SQLite inside a commit with everyone waiting.
"""
import os
import re
import sqlite3
import threading
import time
from collections import deque

from sqlalchemy import event

try:
    import fcntl
except ImportError:  # not on Windows: there the threads of a process still queue, and processes wait in SQLite
    fcntl = None

# How long a writer waits for another before giving up with "database is locked", in SQLite and in the queue.
BUSY_TIMEOUT_SECONDS = 10
LOCK_FILE_SUFFIX = "-writer"
# A process folds the write-ahead log back into the database after this many of its own writing commits,
# once it has left the queue; SQLite's own automatic checkpoint (which runs inside a commit, while the
# committer still holds the right to write, and may wait for the disk) is kept only as a backstop.
CHECKPOINT_EVERY_COMMITS = 64
BACKSTOP_CHECKPOINT_PAGES = 8000

_FIRST_WORD = re.compile(r"\s*(\w+)")
_WRITING_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "VACUUM", "REINDEX",
                            "ANALYZE"})
_DATA_CHANGE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def writes(sql):
    """Whether a statement needs SQLite's write lock (reads, savepoints and a deferred BEGIN do not)."""
    match = _FIRST_WORD.match(sql)
    word = match.group(1).upper() if match else ""
    if word in _WRITING_WORDS:
        return True
    if word == "BEGIN":
        return bool(re.match(r"\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b", sql, re.IGNORECASE))
    if word == "WITH":
        return bool(_DATA_CHANGE.search(sql))
    return False


def database_is_locked():
    return sqlite3.OperationalError("database is locked")


class _Queue:
    """A lock handed on in arrival order, so a thread that waited long is not overtaken by a newcomer."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._held = False
        self._waiting = deque()

    def acquire(self, timeout):
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=max(timeout, 0)):
            return True
        with self._mutex:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ran out: ours after all
            return False

    def release(self):
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # straight to the next in line; _held stays True
            else:
                self._held = False


def _lock_file(path, timeout):
    """An open descriptor of `path` holding an exclusive flock, or None if the file cannot be opened.

    A free lock is taken at once. Otherwise a helper thread blocks in flock (the kernel wakes it the moment
    the holder lets go, which polling would not) while this thread waits for it with a deadline.
    """
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:
        return None  # e.g. a read-only folder: the threads of this process still queue; SQLite does the rest
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    except OSError:
        os.close(fd)
        return None
    guard, done = threading.Lock(), threading.Event()
    state = {"outcome": None}  # "locked", "failed" or, once the waiter gave up, "abandoned"

    def wait():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            outcome = "locked"
        except OSError:
            outcome = "failed"
        with guard:
            abandoned = state["outcome"] == "abandoned"
            state["outcome"] = state["outcome"] or outcome
        if abandoned or outcome == "failed":
            os.close(fd)  # nobody will use it: let the lock go again at once
        done.set()

    threading.Thread(target=wait, name="sqlite-writer-wait", daemon=True).start()
    done.wait(max(timeout, 0))
    with guard:
        outcome = state["outcome"] = state["outcome"] or "abandoned"
    if outcome == "locked":
        return fd
    if outcome == "failed":
        return None
    raise database_is_locked()


class WriteQueue:
    """The right to write to one database file, for the connections of this process (see the module docstring)."""

    def __init__(self, database, timeout=BUSY_TIMEOUT_SECONDS):
        self.database = database
        self.lock_path = database + LOCK_FILE_SUFFIX
        self.timeout = timeout
        self.pid = os.getpid()
        self._queue = _Queue()
        self._fd = None
        self._commits = 0

    def acquire(self, timeout=None):
        """Wait for the right to write (at most `timeout` seconds, by default the queue's own), or raise."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not self._queue.acquire(timeout):
            raise database_is_locked()
        try:
            self._fd = _lock_file(self.lock_path, deadline - time.monotonic())
        except BaseException:
            self._queue.release()
            raise

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)  # even if a forked child still shares the descriptor
            finally:
                os.close(fd)
        self._queue.release()

    def checkpoint_due(self):
        """Count a writing commit of this process; true for every CHECKPOINT_EVERY_COMMITS-th."""
        with _queues_mutex:
            self._commits += 1
            if self._commits < CHECKPOINT_EVERY_COMMITS:
                return False
            self._commits = 0
            return True


_queues = {}
_queues_mutex = threading.Lock()


def write_queue(database):
    """This process's queue for a database file (a forked child gets its own)."""
    key = os.path.realpath(database)
    with _queues_mutex:
        queue = _queues.get(key)
        if queue is None or queue.pid != os.getpid():
            queue = _queues[key] = WriteQueue(key)
        return queue


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection that joins its database's write queue before its first write of a transaction."""

    write_queue = None  # set when the connection is made; None: no queue (e.g. an in-memory database)
    _queued = False

    def cursor(self, factory=None):
        return super().cursor(factory or QueuedCursor)

    # The shortcuts make their cursor in C, past cursor() above.
    def execute(self, sql, parameters=()):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script):
        return self.cursor().executescript(sql_script)

    def before_statement(self, sql):
        if not self._queued and self.write_queue is not None and writes(sql):
            if self.write_queue.pid != os.getpid():  # a connection inherited across a fork
                self.write_queue = write_queue(self.write_queue.database)
            self.write_queue.acquire()
            self._queued = True

    def after_script(self):
        if not self.in_transaction:  # a script commits as it goes
            self._leave_queue()

    def _leave_queue(self):
        """Leave the queue if in it; true if this connection was."""
        if not self._queued:
            return False
        self._queued = False
        self.write_queue.release()
        return True

    def commit(self):
        wrote = False
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                wrote = self._leave_queue()
        if wrote and self.write_queue.checkpoint_due():
            self.checkpoint()

    def checkpoint(self):
        """Fold the write-ahead log into the database as far as readers allow, without waiting for anyone.

        Outside the queue, so other writers go on meanwhile (SQLite lets a checkpoint and a writer work at once).
        """
        try:
            super().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except sqlite3.Error:
            pass  # another checkpoint is running, or the folder is read-only: the next one catches up

    def rollback(self):
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self._leave_queue()

    def close(self):
        try:
            super().close()
        finally:
            self._leave_queue()

    def __del__(self):
        try:
            self._leave_queue()  # a connection dropped without close must not keep others waiting
        except Exception:  # noqa: BLE001  (nothing can be reported from here, e.g. at interpreter exit)
            pass


class QueuedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        self.connection.before_statement(sql)
        return super().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script):
        self.connection.before_statement("CREATE")  # a script may write anything
        try:
            return super().executescript(sql_script)
        finally:
            self.connection.after_script()


def _file_database(engine):
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:") or engine.url.query.get("uri"):
        return None
    return database


def enable_sqlite_pragmas(engine):
    if engine.dialect.name != "sqlite":
        return
    database = _file_database(engine)

    @event.listens_for(engine, "do_connect")
    def _queued_connections(_dialect, _record, _cargs, cparams):
        cparams.setdefault("factory", QueuedConnection)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        queued = bool(database) and isinstance(dbapi_connection, QueuedConnection)
        if queued:
            dbapi_connection.write_queue = write_queue(database)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        if queued:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across an application crash, fast with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
        # Still wait for a writer that does not queue (another program) instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()
