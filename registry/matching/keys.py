"""Blocking keys: cheap, indexed values that two records of one person very probably share.

Scoring every stored person against a new one would take seconds at a million people, so candidates are
first looked up by keys (see docs/matching.md, "Blocking"):

- the phonetic key of the first surname word, or of the first given name, with the date of birth (the other
  name mistyped or changed; surname and given names swapped);
- both phonetic keys, in either order, with the birth year (day or month mistyped, names swapped);
- both phonetic keys with the birthday (the year mistyped);
- the digits of the national ID (a check letter wrong or left out), the passport number, the phone.

Dates in keys ignore which of day and month comes first ("birth_key" of 1990-05-03 and 1990-03-05 is the
same), so a day-month swap never separates two records.

The keys are stored one row per person in `person_match_key`, kept in step with `person` by a flush hook
(registry.matching.models), never synced: every node derives its own from the person rows it holds.
"""
from datetime import date

from registry.matching.normalise import id_digits, normalise_name

CODE_LENGTH = 16


def _code(name):
    return (name.first_sound or name.canonical_text)[:CODE_LENGTH]


def name_codes(surname_code, given_code):
    """Both phonetic keys in a fixed order, so swapped surname and given names give the same value."""
    return "|".join(sorted((surname_code, given_code)))


def birthday(born):
    """Day and month, the smaller first: the same for a date and its day-month swap."""
    low, high = sorted((born.month, born.day))
    return f"{low:02d}{high:02d}"


def birth_key(born):
    """The date of birth as YYYY + birthday(): the same for a date and its day-month swap."""
    return f"{born.year:04d}{birthday(born)}"


def swapped_date(born):
    """The date with day and month exchanged, where that is another real date."""
    if born is None or born.day > 12 or born.day == born.month:
        return None
    try:
        return date(born.year, born.day, born.month)
    except ValueError:
        return None


def _get(source, name):
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def key_row(person):
    """The person_match_key row of a Person (or a dict of its column values); None for a tombstone, or for a
    record whose names or date of birth cannot be read (the registry's own validation never stores one)."""
    if _get(person, "deleted_at") is not None:
        return None
    born = _get(person, "date_of_birth")
    if not isinstance(born, date):
        return None
    try:
        surname = normalise_name(_get(person, "surname"), "surname")
        given = normalise_name(_get(person, "given_names"), "given names")
    except ValueError:
        return None
    surname_code, given_code = _code(surname), _code(given)
    return {
        "person_id": _get(person, "id"),
        "surname_code": surname_code,
        "given_code": given_code,
        "name_codes": name_codes(surname_code, given_code),
        "birth_key": birth_key(born),
        "birth_year": born.year,
        "birthday": birthday(born),
        "id_digits": id_digits(_get(person, "national_id")),
        "passport_number": _get(person, "passport_number") or None,
        "phone": _get(person, "phone") or None,
    }


def lookups(record):
    """What to look up for a normalised Record: {(column, ...): [value tuples]}, every way its keys may meet
    a stored person's (both name orders, and the date with day and month swapped)."""
    codes = {_code(record.surname), _code(record.given)}
    pair = name_codes(_code(record.surname), _code(record.given))
    found = {}
    if record.born:
        found[("surname_code", "birth_key")] = [(code, birth_key(record.born)) for code in sorted(codes)]
        found[("given_code", "birth_key")] = [(code, birth_key(record.born)) for code in sorted(codes)]
        found[("name_codes", "birth_year")] = [(pair, record.born.year)]
        found[("name_codes", "birthday")] = [(pair, birthday(record.born))]
    else:
        found[("name_codes",)] = [(pair,)]
    if record.id_digits:
        found[("id_digits",)] = [(record.id_digits,)]
    if record.passport:
        found[("passport_number",)] = [(record.passport,)]
    if record.phone:
        found[("phone",)] = [(record.phone,)]
    return found


def _stored_keys(record):
    return key_row({"id": None, "surname": record.surname.key, "given_names": record.given.key,
                    "date_of_birth": record.born, "national_id": record.national_id,
                    "passport_number": record.passport, "phone": record.phone})


def met_by_ranking(left, right):
    """Whether ranking for `left` would look `right` up (for measuring what blocking misses): one of its key
    lookups, or the same date of birth (or its day-month swap), which ranking also looks up."""
    stored = _stored_keys(right)
    if stored is None:
        return False
    if left.born and right.born and birth_key(left.born) == birth_key(right.born):
        return True
    return any(tuple(stored[column] for column in columns) in values for columns, values in lookups(left).items())


SCAN_PASSES = (
    (("surname_code", "given_code"), "birth_key"),  # either name code, merged into one ordered stream
    (("name_codes",), "birth_year"),
    (("name_codes",), "birthday"),
    (("id_digits",), None),
    (("passport_number",), None),
    (("phone",), None),
)


def met_by_scan(left, right):
    """Whether the scan's passes would put the two records in one block."""
    a, b = _stored_keys(left), _stored_keys(right)
    if a is None or b is None:
        return False
    for codes, second in SCAN_PASSES:
        values_a = {(a[code], a[second] if second else None) for code in codes}
        values_b = {(b[code], b[second] if second else None) for code in codes}
        if any(value[0] is not None for value in values_a & values_b):
            return True
    return False
