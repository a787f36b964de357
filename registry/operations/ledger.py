"""The numbering ledger: a small file beside an office's SQLite database holding the largest outbox
sequence number and registration numbers the database has given out.

A database restored from an older backup has forgotten what it gave out after the backup. The restore
(`registry.operations.backup`) reads what the database it replaces had given out; when that database is
unreadable (the usual reason to restore), this file, kept outside it, still says, so a number on a slip
already in a migrant's hand is never given to someone else. It is written in the transaction that gives
the numbers out (while that transaction holds SQLite's write lock, so writers never race), before the
commit: it may run ahead of the database, never behind.
"""
import json
import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

SUFFIX = ".numbers.json"


def ledger_path(database_url):
    """Where the ledger of a SQLite database file lives; None for other databases and in-memory ones."""
    url = make_url(str(database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + SUFFIX)


def read_ledger(path):
    """{"outbox_seq": int, "numbers": {"OFFICE/YEAR": int}}; empty values when the file is missing or
    unreadable (a restore then relies on the replaced database and on central)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"outbox_seq": 0, "numbers": {}}
    seq = data.get("outbox_seq")
    numbers = data.get("numbers")
    return {
        "outbox_seq": seq if isinstance(seq, int) and seq > 0 else 0,
        "numbers": {key: value for key, value in (numbers.items() if isinstance(numbers, dict) else ())
                    if isinstance(key, str) and isinstance(value, int) and value > 0},
    }


def note(path, outbox_seq=0, numbers=None):
    """Raise the ledger's marks to at least these values (never lower them); atomic replace."""
    current = read_ledger(path)
    merged = {
        "outbox_seq": max(current["outbox_seq"], outbox_seq),
        "numbers": dict(current["numbers"]),
    }
    for key, value in (numbers or {}).items():
        merged["numbers"][key] = max(merged["numbers"].get(key, 0), value)
    if merged == current:
        return
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(merged, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


@event.listens_for(Session, "after_flush")
def _note_numbers_given_out(session, flush_context):
    from registry.registration.models import Registration
    from registry.sync.models import OutboxEntry

    seq, numbers = 0, {}
    for obj in session.new:
        if isinstance(obj, OutboxEntry) and obj.seq:
            seq = max(seq, obj.seq)
        elif isinstance(obj, Registration):
            number = obj.registration_number  # OFFICE-YEAR-SEQUENCE-CHECK
            parts = number.split("-") if number else []
            if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
                key = f"{parts[0]}/{int(parts[1])}"
                numbers[key] = max(numbers.get(key, 0), int(parts[2]))
    if not seq and not numbers:
        return
    path = ledger_path(session.get_bind().url)
    if path is not None:
        note(path, seq, numbers)
