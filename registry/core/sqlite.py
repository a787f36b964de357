"""SQLite settings for an office node: many readers with one writer, and foreign keys enforced."""
from sqlalchemy import event


def enable_sqlite_pragmas(engine):
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across an application crash, fast with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")  # wait for another writer instead of failing at once
        cursor.close()
