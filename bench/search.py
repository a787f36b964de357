"""Person search at a million people: through gunicorn (GET /people/?q=) and through search_people directly.

Query values come from people stored in the database, picked at random with a fixed seed. For every query
the benchmark also records whether the person it was built from is among the results, and how many
results came back, so a fast but wrong search cannot pass unnoticed.
"""
import random
import re
import sqlite3
import time
import uuid
from datetime import date

from bench.client import Session
from bench.database import BENCH_PASSWORD, BENCH_USER, OFFICE_CODE, SECRET_KEY, fresh_copy, prepared
from bench.machine import busy_share, cpu_times
from bench.server import OFFICE_ARGS, Gunicorn
from bench.stats import summarise

TARGET_P95_MS = 50
RESULT_RE = re.compile(r'href="/people/([0-9a-f-]{36})"')
SEED = 2026


def _typed_national_id(compact):
    """The way it is printed on the card and usually typed: 63-1234567 A 63."""
    return f"{compact[:2]}-{compact[2:-3]} {compact[-3]} {compact[-2:]}"


# name -> (label, how to build (q, dob) from a stored person, and whether the person needs a passport)
KINDS = {
    "id_compact": ("National ID, compact (631234567A63)", lambda p: (p["national_id"], None), False),
    "id_typed": ("National ID, as printed (63-1234567 A 63)",
                 lambda p: (_typed_national_id(p["national_id"]), None), False),
    "passport": ("Passport number", lambda p: (p["passport_number"], None), True),
    "surname": ("Surname alone", lambda p: (p["surname"], None), False),
    "full_name": ("Given names and surname", lambda p: (f"{p['given_names']} {p['surname']}", None), False),
    "name_dob": ("Given names and surname, with date of birth",
                 lambda p: (f"{p['given_names']} {p['surname']}", p["date_of_birth"]), False),
}
# Kinds where the person the query was built from must come back (names alone match thousands of people).
MUST_FIND = {"id_compact", "id_typed", "passport", "name_dob"}


FIELDS = "id, surname, given_names, surname_key, given_names_key, date_of_birth, national_id, passport_number"
# What makes a stored person a right answer to each kind of query, as SQL and as a test on a row.
RELEVANT = {
    "id_compact": ("national_id = :national_id", lambda r, p: r["national_id"] == p["national_id"]),
    "id_typed": ("national_id = :national_id", lambda r, p: r["national_id"] == p["national_id"]),
    "passport": ("passport_number = :passport_number", lambda r, p: r["passport_number"] == p["passport_number"]),
    # A single word also finds surnames that start with it (MOYO finds MOYO NCUBE), as the search intends.
    "surname": ("surname_key >= :surname_key AND surname_key < :surname_upper",
                lambda r, p: r["surname_key"].startswith(p["surname_key"])),
    "full_name": ("surname_key = :surname_key AND given_names_key = :given_names_key",
                  lambda r, p: (r["surname_key"], r["given_names_key"]) == (p["surname_key"], p["given_names_key"])),
    "name_dob": ("surname_key = :surname_key AND given_names_key = :given_names_key AND date_of_birth = :date_of_birth",
                 lambda r, p: (r["surname_key"], r["given_names_key"], r["date_of_birth"])
                 == (p["surname_key"], p["given_names_key"], p["date_of_birth"])),
}
PAGE = 50  # search_people returns at most this many


def _row(row):
    person = dict(row)
    person["id"] = uuid.UUID(person["id"])
    person["date_of_birth"] = date.fromisoformat(person["date_of_birth"])
    return person


def _open(database):
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def sample_people(connection, count, with_passport, rng):
    """`count` stored people picked uniformly by rowid (seeded), as dicts of the fields queries use."""
    highest = connection.execute("SELECT max(rowid) FROM person").fetchone()[0]
    condition = "national_id IS NOT NULL" + (" AND passport_number IS NOT NULL" if with_passport else "")
    people = []
    for _ in range(count * 20):  # bounded: gaps and people without a passport are skipped
        if len(people) == count:
            break
        row = connection.execute(
            f"SELECT {FIELDS} FROM person WHERE rowid >= ? AND {condition} AND deleted_at IS NULL "
            "ORDER BY rowid LIMIT 1", (rng.randrange(1, highest + 1),)).fetchone()
        if row is not None:
            people.append(_row(row))
    return people


def _relevant_stored(connection, kind, person):
    """How many stored people are right answers to the query built from `person`, counted up to PAGE."""
    key = person["surname_key"]
    params = dict(person, id=person["id"].hex, date_of_birth=person["date_of_birth"].isoformat(),
                  surname_upper=key[:-1] + chr(ord(key[-1]) + 1))
    return connection.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM person WHERE {RELEVANT[kind][0]} AND deleted_at IS NULL LIMIT {PAGE})",
        params).fetchone()[0]


def build_queries(database, per_kind, warmup):
    """{kind: [(q, dob, person, right answers stored)]}: `warmup` untimed queries first, then `per_kind` timed."""
    rng = random.Random(SEED)
    queries = {}
    connection = _open(database)
    try:
        for kind, (_, build, with_passport) in KINDS.items():
            people = sample_people(connection, per_kind + warmup, with_passport, rng)
            queries[kind] = [(*build(p), p, _relevant_stored(connection, kind, p)) for p in people]
    finally:
        connection.close()
    return queries


def _judge(connection, kind, person, ids, stored):
    """(sought person found, precision, recall) of one result list."""
    if not ids:
        return False, None, 0.0 if stored else None
    rows = connection.execute(f"SELECT {FIELDS} FROM person WHERE id IN ({','.join('?' * len(ids))})",
                              [i.hex for i in ids]).fetchall()
    right = sum(RELEVANT[kind][1](_row(row), person) for row in rows)
    return person["id"] in ids, right / len(ids), (right / min(stored, PAGE)) if stored else None


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _measure(database, queries, warmup, time_limit, search):
    """Run `search(q, dob) -> (seconds, [person ids])` over each kind's queries; summarise per kind."""
    results = {}
    connection = _open(database)
    try:
        for kind, items in queries.items():
            deadline = time.monotonic() + time_limit
            seconds, found, counts, precision, recall, errors, missed = [], 0, [], [], [], [], []
            for number, (q, dob, person, stored) in enumerate(items):
                if time.monotonic() > deadline:
                    break
                try:
                    elapsed, ids = search(q, dob)
                except RuntimeError as exc:
                    errors.append(str(exc))
                    continue
                if number < warmup:
                    continue
                seconds.append(elapsed)
                hit, right_share, got_share = _judge(connection, kind, person, ids, stored)
                found += hit
                if not hit and len(missed) < 3:
                    missed.append(q + (f" (born {dob})" if dob else ""))
                counts.append(len(ids))
                precision.append(right_share)
                recall.append(got_share)
            summary = summarise(seconds)
            complete = len(seconds) == len(items) - warmup
            results[kind] = {
                "label": KINDS[kind][0],
                "latency": summary,
                "found_share": found / len(seconds) if seconds else None,
                "precision": _mean(precision),
                "recall": _mean(recall),
                "mean_results": sum(counts) / len(counts) if counts else None,
                "max_results": max(counts) if counts else None,
                "errors": len(errors),
                "error_examples": errors[:3],
                "missed_examples": missed,
                "complete": complete,
                "must_find": kind in MUST_FIND,
                "passed": bool(seconds) and summary["p95"] < TARGET_P95_MS and not errors and complete
                and (kind not in MUST_FIND or found == len(seconds)),
            }
    finally:
        connection.close()
    return results


def _direct(database, queries, warmup, time_limit):
    from registry import create_app
    from registry.extensions import db
    from registry.people.services import search_people

    app = create_app({"REGISTRY_ENV": "demo", "REGISTRY_ROLE": "office", "OFFICE_CODE": OFFICE_CODE,
                      "SECRET_KEY": SECRET_KEY, "DATABASE_URL": f"sqlite:///{database}"})

    def search(q, dob):
        # A fresh application context (and so a fresh session) per query, as each request would have.
        with app.app_context():
            started = time.perf_counter()
            people = search_people(q, dob)
            elapsed = time.perf_counter() - started
            ids = [person.id for person in people]
            db.session.rollback()
        return elapsed, ids

    try:
        return _measure(database, queries, warmup, time_limit, search)
    finally:
        with app.app_context():
            db.engine.dispose()


def _http(database, queries, warmup, time_limit, server_args):
    with Gunicorn(database, "search", server_args) as server:
        session = Session(server.port).login(BENCH_USER, BENCH_PASSWORD)

        def search(q, dob):
            from urllib.parse import urlencode

            path = "/people/?" + urlencode({"q": q, "dob": dob.isoformat() if dob else ""})
            try:
                response = session.request("GET", path)
            except OSError as exc:
                raise RuntimeError(f"connection: {exc}") from None
            if response.status != 200:
                raise RuntimeError(f"{response.status} for {path}")
            ids = []
            for text in RESULT_RE.findall(response.text):
                if uuid.UUID(text) not in ids:
                    ids.append(uuid.UUID(text))
            return response.seconds, ids

        try:
            return _measure(database, queries, warmup, time_limit, search)
        finally:
            session.close()


def run(sizes, server_args=OFFICE_ARGS, rebuild=False, say=print, settle=None):
    template, meta = prepared("search", people=sizes.search_people, rebuild=rebuild, say=say)
    database = fresh_copy(template, "search")
    queries = build_queries(database, sizes.queries_per_kind, sizes.warmup_queries)
    total = sum(len(items) for items in queries.values())
    busy_before = settle() if settle else None  # how busy other work kept the machine just before measuring
    say(f"  {total:,} queries over {len(queries)} kinds, directly through search_people ...")
    before = cpu_times()
    direct = _direct(database, queries, sizes.warmup_queries, sizes.search_time_limit)
    say("  the same queries through gunicorn (GET /people/?q=) ...")
    middle = cpu_times()
    http = _http(database, queries, sizes.warmup_queries, sizes.search_time_limit, server_args)
    after = cpu_times()
    return {
        "people": meta["people"],
        "registrations": meta["registrations"],
        "database_notes": meta.get("notes", []),
        "queries_per_kind": sizes.queries_per_kind,
        "warmup_queries": sizes.warmup_queries,
        "busy_before": busy_before,
        "target_p95_ms": TARGET_P95_MS,
        "server": f"gunicorn {server_args}",
        "direct": direct,
        "http": http,
        # One client, one query at a time: on an otherwise idle machine this is at most one core's worth.
        "machine_busy_direct": busy_share(before, middle),
        "machine_busy_http": busy_share(middle, after),
        "passed": all(kind["passed"] for path in (direct, http) for kind in path.values()),
    }
