import string

import pytest
from sqlalchemy import select
from stdnum.iso7064 import mod_37_36

from registry.extensions import db
from registry.registration.numbering import (
    InvalidRegistrationNumber, RegistrationNumber, RegistrationSequence, next_registration_number,
    parse_registration_number, raise_sequence_floor,
)

NUMBERS = [RegistrationNumber(office, year, sequence)
           for office, year, sequence in (("BBR", 2026, 123), ("HRE", 2026, 1), ("HQ", 2025, 999999),
                                          ("CHR", 2026, 45678), ("MSV", 2027, 1000001))]


def test_number_format_is_office_year_sequence_check():
    number = RegistrationNumber("BBR", 2026, 123)
    text = str(number)
    office, year, sequence, check = text.split("-")
    assert (office, year, sequence) == ("BBR", "2026", "000123")
    assert len(check) == 1 and check in string.digits + string.ascii_uppercase
    assert mod_37_36.is_valid("BBR2026000123" + check)


@pytest.mark.parametrize("number", NUMBERS, ids=str)
def test_a_number_reads_back_as_itself(number):
    assert parse_registration_number(str(number)) == number


@pytest.mark.parametrize("spelling", [
    lambda n: n.lower(),
    lambda n: n.replace("-", " "),
    lambda n: " " + n.replace("-", "  -  ").lower() + " ",
    lambda n: n.replace("-", " - "),
])
def test_case_and_spaces_are_forgiven(spelling):
    number = RegistrationNumber("BBR", 2026, 123)
    assert parse_registration_number(spelling(str(number))) == number


@pytest.mark.parametrize("number", NUMBERS, ids=str)
def test_every_single_character_substitution_is_refused_with_a_clear_message(number):
    text = str(number)
    accepted = []
    for position, original in enumerate(text):
        for typed in string.ascii_uppercase + string.digits + "-":
            if typed == original:
                continue
            typo = text[:position] + typed + text[position + 1:]
            try:
                parse_registration_number(typo)
            except InvalidRegistrationNumber as exc:
                assert repr(typo) in exc.message
                assert "compare it with the slip" in exc.message.lower() or "they look like" in exc.message
            else:
                accepted.append(typo)
    assert accepted == []


@pytest.mark.parametrize("number", NUMBERS, ids=str)
def test_every_dropped_or_doubled_digit_is_refused(number):
    text = str(number)
    accepted = []
    for position, original in enumerate(text):
        if not original.isalnum():
            continue
        for typo in (text[:position] + text[position + 1:], text[:position] + original + text[position:]):
            try:
                parse_registration_number(typo)
            except InvalidRegistrationNumber:
                continue
            accepted.append(typo)
    assert accepted == []


def test_swapped_neighbours_in_the_sequence_are_refused():
    text = str(RegistrationNumber("BBR", 2026, 123456))
    start = text.index("123456")
    for i in range(start, start + 5):
        swapped = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        with pytest.raises(InvalidRegistrationNumber, match="does not check out"):
            parse_registration_number(swapped)


def test_wrong_check_character_says_what_to_do():
    number = str(RegistrationNumber("BBR", 2026, 123))
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidRegistrationNumber) as caught:
        parse_registration_number(wrong)
    assert caught.value.message == (
        f"{wrong!r} does not check out: one of its characters is probably mistyped. Compare it with the slip."
    )


@pytest.mark.parametrize("text, message", [
    ("", "Enter a registration number."),
    (None, "Enter a registration number."),
    ("hello", "is not a registration number; they look like BBR-2026-000123-K"),
    ("BBR-26-000123-K", "is not a registration number"),
    ("BBR-2026-123-K", "is not a registration number"),
    ("BBR-2026-000123", "is not a registration number"),
    ("BBR-2026-0001230-K", "too many digits"),
])
def test_malformed_numbers_are_refused_with_a_reason(text, message):
    with pytest.raises(InvalidRegistrationNumber, match=message):
        parse_registration_number(text)


def test_sequences_count_per_office_and_year(ctx):
    taken = [next_registration_number("BBR", 2026) for _ in range(3)]
    assert [n.sequence for n in taken] == [1, 2, 3]
    assert next_registration_number("HRE", 2026).sequence == 1
    assert next_registration_number("BBR", 2027).sequence == 1
    assert next_registration_number("BBR", 2026).sequence == 4
    db.session.commit()
    rows = {(row.office_code, row.year): row.last_value for row in db.session.scalars(select(RegistrationSequence))}
    assert rows == {("BBR", 2026): 4, ("HRE", 2026): 1, ("BBR", 2027): 1}
    assert [parse_registration_number(str(n).lower()) for n in taken] == taken


def test_sequence_continues_after_a_commit_and_a_floor(ctx):
    next_registration_number("BBR", 2026)
    db.session.commit()
    assert next_registration_number("BBR", 2026).sequence == 2
    raise_sequence_floor("BBR", 2026, 500)
    raise_sequence_floor("BBR", 2026, 10)  # never lowers it
    raise_sequence_floor("CHR", 2026, 7)
    assert next_registration_number("BBR", 2026).sequence == 501
    assert next_registration_number("CHR", 2026).sequence == 8



def test_run_together_parts_are_refused_with_the_expected_shape():
    # Without separators a hyphen typed as a letter would move the office code's end (BBR -> BBRH).
    compact = str(RegistrationNumber("BBR", 2026, 123)).replace("-", "")
    with pytest.raises(InvalidRegistrationNumber, match="is not a registration number; they look like BBR-2026-000123-K"):
        parse_registration_number(compact)
