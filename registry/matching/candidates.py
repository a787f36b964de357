"""Finding likely duplicates: ranked candidates for one registration, and a scan of everyone stored.

Both look candidates up by blocking keys (registry.matching.keys) and score them (registry.matching.scoring);
neither commits: the request or the command that calls them does.
"""
import uuid
from collections import namedtuple
from dataclasses import replace
from functools import lru_cache
from heapq import merge
from itertools import combinations
from math import log2

from sqlalchemy import bindparam, delete, func, insert, select, text

from registry.extensions import db
from registry.matching.keys import SCAN_PASSES, key_row, lookups, swapped_date
from registry.matching.models import DuplicateCandidate, PersonMatchKey
from registry.matching.normalise import BadRecord, normalise_record, stored_record
from registry.matching.services import score_unscored
from registry.matching.scoring import (
    DOB_WEIGHTS, MATCH_THRESHOLD, NAME_WEIGHTS, NATIONAL_ID_WEIGHTS, PASSPORT_WEIGHTS, PHONE_WEIGHTS, POSSIBLE_THRESHOLD,
    PRIOR, SEX_WEIGHTS, compare_dates, compare_national_ids, compare_passports, decide, score_pair, to_score, weigh,
)
from registry.people.models import Person

DECISION_RANK = {"match": 2, "possible": 1, "distinct": 0}
# A key shared by more stored people than this says little about any of them; lookups stop there.
LOOKUP_LIMIT = 200
# The scan's passes (registry.matching.keys.SCAN_PASSES): each reads person_match_key in the order of one or
# two indexes and compares the people that share a key. The first merges two index orders into one stream,
# so a surname code meets the same code as a given name (surname and given names swapped).
PASSES = SCAN_PASSES
# Blocks larger than this (one phone number given by a hundred people) are compared only within a window
# of neighbours ordered by date of birth, so one crowded key cannot make the scan quadratic.
MAX_BLOCK = 60
WINDOW = 15
FETCH_CHUNK = 500
REASON_LENGTH = 255

Stored = namedtuple("Stored", "id surname given_names sex date_of_birth national_id passport_number phone same_as_id")
STORED_COLUMNS = (Person.id, Person.surname, Person.given_names, Person.sex, Person.date_of_birth, Person.national_id,
                  Person.passport_number, Person.phone, Person.same_as_id)


# -- one registration -----------------------------------------------------------------------------------------

def _candidates_statement(record, exclude_id=None):
    """(statement, parameters) reading the stored people who share at least one blocking key with a normalised
    Record, or its date of birth (or that date with day and month swapped: a few dozen people at a million,
    worth scoring when both names were mistyped), with the columns scoring reads. Each lookup stops at
    LOOKUP_LIMIT people, as it would alone. One round trip instead of one per key, from SQL made once per
    shape of lookups: built with the expression language at each registration, the statement cost more
    than the queries it saved."""
    keyed = lookups(record)
    dates = []
    if record.born:
        dates = [record.born] + ([swapped_date(record.born)] if swapped_date(record.born) else [])
    shape = tuple((columns, len(values)) for columns, values in keyed.items())
    statement = _statement_for(shape, len(dates), exclude_id is not None)
    values = [part for per_key in keyed.values() for value in per_key for part in value] + dates
    params = {f"p{index}": value for index, value in enumerate(values)}
    if exclude_id is not None:
        params["exclude"] = exclude_id if isinstance(exclude_id, uuid.UUID) else uuid.UUID(str(exclude_id))
    return statement, params


@lru_cache(maxsize=64)
def _statement_for(shape, dates, excluding):
    keys, person = PersonMatchKey.__table__, Person.__table__
    arms, binds = [], []
    for columns, count in shape:
        for _ in range(count):
            conditions = []
            for column in columns:
                name = f"p{len(binds)}"
                binds.append(bindparam(name, type_=keys.c[column].type))
                conditions.append(f"{column} = :{name}")
            arms.append(f"SELECT person_id FROM person_match_key WHERE {' AND '.join(conditions)} "
                        f"LIMIT {LOOKUP_LIMIT}")
    if dates:
        names = [f"p{len(binds) + index}" for index in range(dates)]
        binds.extend(bindparam(name, type_=person.c.date_of_birth.type) for name in names)
        arms.append(f"SELECT id AS person_id FROM person WHERE date_of_birth IN ({', '.join(':' + n for n in names)}) "
                    f"AND deleted_at IS NULL LIMIT {LOOKUP_LIMIT}")
    # Each arm is its own subquery: SQLite allows no LIMIT on the arms of a compound select.
    found = " UNION ".join(f"SELECT person_id FROM ({arm}) AS arm{index}" for index, arm in enumerate(arms))
    sql = (f"SELECT {', '.join(column.name for column in STORED_COLUMNS)} FROM person "
           f"WHERE id IN ({found}) AND deleted_at IS NULL")
    if excluding:
        sql += " AND id != :exclude"
        binds.append(bindparam("exclude", type_=person.c.id.type))
    return text(sql).bindparams(*binds).columns(*STORED_COLUMNS)


def rank_candidates(person_data, limit=5, exclude_id=None, min_decision="possible"):
    """Stored people most likely to be this person, best first: Match(score, decision, reasons, person).

    `person_data` is a PersonData, a dict or a Person; BadRecord (a ValueError) says what cannot be read.
    Only candidates at `min_decision` or better ("match", "possible", "distinct") are returned."""
    record = normalise_record(person_data)
    floor = DECISION_RANK[min_decision]
    ranked = []
    # Score from the few columns compared; load whole Person rows only for the ones returned.
    for row in map(Stored._make, db.session.execute(*_candidates_statement(record, exclude_id))):
        try:
            match = score_pair(record, stored_record(row))
        except BadRecord:
            continue
        if DECISION_RANK[match.decision] >= floor:
            ranked.append((match, row.id))
    ranked.sort(key=lambda pair: (-pair[0].score, str(pair[1])))
    ranked = ranked[:limit]
    people = {person.id: person for person in db.session.scalars(
        select(Person).where(Person.id.in_([person_id for _, person_id in ranked])))} if ranked else {}
    return [replace(match, person=people[person_id]) for match, person_id in ranked]


# -- everyone stored ------------------------------------------------------------------------------------------

NAME_CEILING = max(NAME_WEIGHTS["surname"].values()) + max(NAME_WEIGHTS["given"].values())


def _could_reach(left, right, floor_weight):
    """Whether a pair could reach `floor_weight` whatever its names: the other fields are cheap to compare,
    and most pairs that share a key differ in their national IDs or dates of birth."""
    bound = PRIOR + NAME_CEILING
    dob = compare_dates(left.date_of_birth, right.date_of_birth)
    bound += DOB_WEIGHTS[dob] if dob else 0
    if left.sex and right.sex:
        bound += SEX_WEIGHTS["same" if left.sex == right.sex else "differs"]
    national_id = compare_national_ids(left.national_id, right.national_id)
    bound += NATIONAL_ID_WEIGHTS[national_id] if national_id else 0
    passport = compare_passports(left.passport_number, right.passport_number)
    bound += PASSPORT_WEIGHTS[passport] if passport else 0
    if left.phone and right.phone:
        bound += PHONE_WEIGHTS["same" if left.phone == right.phone else "differs"]
    return bound >= floor_weight


def _ordered(a, b):
    """A pair in the order the duplicate queue stores it (registry.matching.services.queue_pair)."""
    return (a, b) if str(a) < str(b) else (b, a)


def _linked(left, right):
    return (left.same_as_id or left.id) == (right.same_as_id or right.id)


def _pairs(members):
    """Pairs of positions within one block; a crowded block only within a window of neighbours."""
    if len(members) <= MAX_BLOCK:
        return combinations(range(len(members)), 2)
    return ((i, j) for i in range(len(members)) for j in range(i + 1, min(i + 1 + WINDOW, len(members))))


def _fetch(ids):
    rows = {}
    ids = list(ids)
    for start in range(0, len(ids), FETCH_CHUNK):
        query = select(*STORED_COLUMNS).where(Person.id.in_(ids[start:start + FETCH_CHUNK]),
                                              Person.deleted_at.is_(None))
        rows.update((row.id, Stored(*row)) for row in db.session.execute(query))
    return rows


class _Scanner:
    def __init__(self, floor_weight, stats):
        self.floor_weight = floor_weight
        self.stats = stats
        self.found = {}  # (first id, second id) -> (score, reasons), for pairs at the floor or above

    def score_blocks(self, blocks):
        rows = _fetch({person_id for block in blocks for person_id in block})
        records = {}

        def record(row):
            if row.id not in records:
                try:
                    records[row.id] = stored_record(row)
                except BadRecord:
                    records[row.id] = None
            return records[row.id]

        for block in blocks:
            members = sorted((rows[i] for i in block if i in rows), key=lambda row: (row.date_of_birth, str(row.id)))
            for i, j in _pairs(members):
                left, right = members[i], members[j]
                self.stats["pairs"] += 1
                key = _ordered(left.id, right.id)
                if key in self.found or _linked(left, right):
                    continue
                if not _could_reach(left, right, self.floor_weight):
                    continue
                left_record, right_record = record(left), record(right)
                if left_record is None or right_record is None:
                    continue
                self.stats["scored"] += 1
                weight, reasons = weigh(left_record, right_record)
                if weight >= self.floor_weight:
                    self.found[key] = (to_score(weight), reasons)


def scan_total():
    """How many key rows the scan reads in all its passes (for a progress bar)."""
    table = PersonMatchKey.__table__
    columns = [code for codes, _ in PASSES for code in codes]
    return sum(db.session.execute(select(*(func.count(table.c[column]) for column in columns))).one())


def find_duplicates(progress=None, batch=20_000, min_decision="possible", stats=None):
    """{(first id, second id): (score, reasons)} of stored people likely to be one person. Reads the keys
    pass by pass in index order; people are fetched and scored a batch of blocks at a time."""
    threshold = {"match": MATCH_THRESHOLD, "possible": POSSIBLE_THRESHOLD}[min_decision]
    floor_weight = log2(threshold / (1 - threshold))
    stats = stats if stats is not None else {}
    stats.update(pairs=0, scored=0, blocks=0)
    scanner = _Scanner(floor_weight, stats)
    for codes, second in PASSES:
        blocks, waiting, current, members, read = [], 0, None, [], 0

        def close_block():
            nonlocal waiting
            unique = list(dict.fromkeys(members))  # a person whose two name codes agree comes twice
            if len(unique) > 1:
                blocks.append(unique)
                waiting += len(unique)

        for key, person_id in _ordered_keys(codes, second, batch):
            read += 1
            if key != current:
                close_block()
                current, members = key, []
                if waiting >= batch:
                    stats["blocks"] += len(blocks)
                    scanner.score_blocks(blocks)
                    blocks, waiting = [], 0
                if progress and read >= batch:
                    progress(read)
                    read = 0
            members.append(person_id)
        close_block()
        if blocks:
            stats["blocks"] += len(blocks)
            scanner.score_blocks(blocks)
        if progress and read:
            progress(read)
    return scanner.found


def _ordered_keys(codes, second, batch):
    """(key, person id) of every key row, in key order: one index read per code column, merged."""
    table = PersonMatchKey.__table__
    streams = []
    for code in codes:
        columns = [table.c[code]] + ([table.c[second]] if second else [])
        query = (select(*columns, table.c.person_id).where(table.c[code].isnot(None)).order_by(*columns)
                 .execution_options(yield_per=batch))
        streams.append(((tuple(row[:-1]), row[-1]) for row in db.session.execute(query)))
    return streams[0] if len(streams) == 1 else merge(*streams, key=lambda item: item[0])


def scan(progress=None, batch=20_000, min_decision="possible", stats=None):
    """Find likely duplicates among all stored people and queue each new pair for an administrator, with its
    score and reasons; return the number of pairs queued. Pairs already queued or decided are left as they are,
    except that an open pair without a score gets one. People without keys (written in bulk, past the flush
    hook) get them first."""
    missing = fill_missing_keys()
    found = find_duplicates(progress=progress, batch=batch, min_decision=min_decision, stats=stats)
    if stats is not None:
        stats["keys_filled"] = missing
    existing = {}
    pairs = sorted(found)
    for start in range(0, len(pairs), FETCH_CHUNK):
        chunk = pairs[start:start + FETCH_CHUNK]
        for candidate in db.session.scalars(select(DuplicateCandidate).where(
                DuplicateCandidate.first_person_id.in_({first for first, _ in chunk}))):
            existing[(candidate.first_person_id, candidate.second_person_id)] = candidate
    queued = 0
    for first, second in pairs:
        score, reasons = found[(first, second)]
        candidate = existing.get((first, second))
        if candidate is not None:
            if candidate.score is None and candidate.status == "open":
                candidate.score, candidate.reasons = score, reasons  # queued by national ID; now with reasons
            continue
        db.session.add(DuplicateCandidate(
            first_person_id=first, second_person_id=second, status="open", score=score, reasons=reasons,
            reason=_reason_text(score, reasons)))
        queued += 1
    # Open pairs queued before pairs were scored when queued, and not met above: scored now, so the
    # queue can put them in order.
    score_unscored()
    db.session.flush()
    return queued


def _reason_text(score, reasons):
    text = f"{decide(score)} ({score:.0%}): " + "; ".join(reasons)
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - 1] + "…"



def fill_missing_keys(batch=5000):
    """Give keys to every live person who has none (rows written in bulk, past the flush hook); return how many."""
    table = PersonMatchKey.__table__
    columns = (Person.id, Person.surname, Person.given_names, Person.date_of_birth, Person.national_id,
               Person.passport_number, Person.phone, Person.deleted_at)
    written, last = 0, None
    while True:
        query = (select(*columns).outerjoin(table, table.c.person_id == Person.id)
                 .where(table.c.person_id.is_(None), Person.deleted_at.is_(None)).order_by(Person.id).limit(batch))
        if last is not None:
            query = query.where(Person.id > last)
        rows = db.session.execute(query).all()
        if not rows:
            return written
        made = [made for made in (key_row(row._asdict()) for row in rows) if made is not None]
        if made:
            db.session.execute(insert(table), made)
        written += len(made)
        last = rows[-1].id


def rebuild_keys(batch=5000):
    """Write every stored person's matching keys afresh (after the normalisation rules changed); return how
    many people have keys."""
    table = PersonMatchKey.__table__
    db.session.execute(delete(table))
    columns = (Person.id, Person.surname, Person.given_names, Person.date_of_birth, Person.national_id,
               Person.passport_number, Person.phone, Person.deleted_at)
    written, last = 0, None
    while True:
        query = select(*columns).order_by(Person.id).limit(batch)
        if last is not None:
            query = query.where(Person.id > last)
        rows = db.session.execute(query).all()
        if not rows:
            return written
        made = [made for made in (key_row(row._asdict()) for row in rows) if made is not None]
        if made:
            db.session.execute(insert(table), made)
        written += len(made)
        last = rows[-1].id
