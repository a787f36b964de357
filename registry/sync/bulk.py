"""Central's bulk writes for a pushed batch: the rows new to central, their feed and inbox entries, each
table's in one statement (COPY on PostgreSQL); and `among`, a `column IN values` that stays one short
statement however many values.

Used by `central.apply_push_batch`; like everything there, they write in the request's transaction and
never commit.
"""
import json
from functools import partial

from sqlalchemy import JSON, any_, bindparam, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from registry.core.types import utcnow
from registry.extensions import db
from registry.matching.keys import key_row
from registry.matching.models import PersonMatchKey
from registry.people.models import Person
from registry.sync.entities import entities
from registry.sync.models import InboxEntry, OutboxEntry


class BatchWriter:
    """Collects the rows of a batch that are new to central, with their feed and inbox entries, and writes
    each table's with one bulk insert (`write`). Rows go parents first (the catalogue's order), feed entries
    in the order of the changes, so the feed numbers them in `seq` order."""

    def __init__(self, office_code):
        self.office_code = office_code
        self.now = utcnow()
        self.new_rows = set()  # (entity name, id) of every row this batch created, written or not
        self.rows = {}  # entity -> [values], not yet written
        self.feed = []
        self.inbox = []

    def add_row(self, change, entity, values):
        self.new_rows.add((entity.name, values["id"]))
        self.rows.setdefault(entity, []).append(values)
        self.feed.append({
            "entity": entity.name, "row_id": values["id"], "operation": change.operation.value,
            "version": values["version"], "base_version": change.base_version, "office_code": self.office_code,
            # The row as the office sent it: checked already, and read by offices with the same checks.
            "payload": change.payload, "created_at": self.now,
            "source_office": self.office_code, "source_seq": change.seq,
        })

    def add_inbox(self, change, values, status):
        self.inbox.append({"office_code": self.office_code, "seq": change.seq, "entity": change.entity,
                           "row_id": values["id"], "status": status.value, "received_at": self.now})

    def write(self):
        if self.rows:
            order = list(entities().values())
            for entity in sorted(self.rows, key=order.index):
                insert_many(entity.model.__table__, self.rows[entity])
                if entity.model is Person:
                    # What the ORM's flush hook does for one person, here for the batch: the blocking keys
                    # identity matching looks people up by (registry.matching.keys).
                    keys = [row for row in map(key_row, self.rows[entity]) if row is not None]
                    if keys:
                        insert_many(PersonMatchKey.__table__, keys)
            self.rows = {}
        if self.feed:
            insert_many(OutboxEntry.__table__, self.feed)
            self.feed = []
        if self.inbox:
            insert_many(InboxEntry.__table__, self.inbox)
            self.inbox = []


def insert_many(table, rows):
    """Insert rows (dicts with the same keys) in the session's transaction: with COPY on PostgreSQL, many
    times faster than INSERT row by row; one executemany elsewhere. Columns left out take their defaults."""
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    quote = dialect.identifier_preparer.quote
    # What an INSERT would do to each value on its way: JSON to its text (None to JSON null, as SQLAlchemy
    # writes it), timestamps to UTC.
    convert, convert_none = [], []
    for index, name in enumerate(names):
        kind = table.c[name].type
        if isinstance(kind, JSON):
            (convert if kind.none_as_null else convert_none).append((index, json.dumps))
        elif isinstance(kind, TypeDecorator):
            convert.append((index, partial(kind.process_bind_param, dialect=dialect)))
    import psycopg  # here, not at the top: an office on SQLite would pay for it at every start

    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN") as copy:
            for row in rows:
                values = [row[name] for name in names]
                for index, function in convert:
                    if values[index] is not None:
                        values[index] = function(values[index])
                for index, function in convert_none:
                    values[index] = function(values[index])
                copy.write_row(values)
    except psycopg.IntegrityError as exc:  # the same refusal as from an INSERT
        raise IntegrityError(f"COPY {table.name}", None, exc) from None
    finally:
        cursor.close()


def among(column, values):
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter however many values, so the
    statement stays short and is prepared once."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
