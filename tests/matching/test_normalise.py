"""Normalisation: what two records are compared on, whatever way a clerk typed them."""
from datetime import date

import pytest

from registry.matching.normalise import (
    BadRecord, canonical_word, id_digits, normalise_name, normalise_record, parse_date, phonetic, words,
)


@pytest.mark.parametrize("typed", ["Ndlovu-Mpofu", "NDLOVU MPOFU", "  ndlovu   mpofu ", "Ndlóvu Mpofu", "ndlovu\tmpofu"])
def test_case_spacing_accents_and_hyphens_do_not_matter(typed):
    assert normalise_name(typed).key == "NDLOVU MPOFU"
    assert normalise_name(typed).words == ("NDLOVU", "MPOFU")


def test_apostrophes_join_rather_than_split():
    assert words("O'Brien") == words("O\u2019Brien") == words("OBrien") == ["OBRIEN"]


@pytest.mark.parametrize("one, other", [
    ("Tendai", "Tendayi"),  # -ai / -ayi
    ("Kudzai", "Kudzayi"),
    ("Nyasha", "Nyasa"),  # from the table of whole-word variants
    ("Ndlovu", "Ndhlovu"),  # dh / d
    ("Tshuma", "Chuma"),  # Ndebele tsh / Shona ch
    ("Chauke", "Shauke"),  # ch / sh
    ("Mpofu", "Mphofu"),  # ph / p
    ("Themba", "Temba"),  # th / t
    ("Khumalo", "Kumalo"),
    ("Mavhunga", "Mavunga"),
    ("Blessing", "Blesing"),  # doubled letters
    ("Sibongile", "Sibongire"),  # Shona r for Ndebele l, from the table
])
def test_regional_spelling_variants_share_a_canonical_spelling_and_a_phonetic_key(one, other):
    [a], [b] = words(one), words(other)
    assert a != b
    assert canonical_word(a) == canonical_word(b)
    assert phonetic(a) == phonetic(b)


@pytest.mark.parametrize("one, other", [("Sipho", "Chipo"), ("Moyo", "Ncube"), ("Tendai", "Tinashe"), ("Rudo", "Ruvimbo")])
def test_different_names_keep_different_canonical_spellings(one, other):
    assert canonical_word(words(one)[0]) != canonical_word(words(other)[0])


def test_initials_do_not_carry_the_phonetic_key():
    name = normalise_name("T. Rudo")
    assert name.words[0] == "RUDO" and name.first_sound == phonetic("RUDO")


@pytest.mark.parametrize("typed, message", [
    ("", "is empty"), ("   ", "is empty"), ("T", "needs at least two letters"), ("-", "needs at least two letters"),
    ("7", "needs at least two letters"),
])
def test_empty_or_one_letter_names_are_refused_with_a_reason(typed, message):
    with pytest.raises(ValueError, match=message):
        normalise_name(typed, "surname")


@pytest.mark.parametrize("typed, message", [
    ("1990-02-30", "is not a date that exists"), ("1990-13-01", "is not a date that exists"),
    ("30/02/1990", "is not written as YYYY-MM-DD"), ("yesterday", "is not written as YYYY-MM-DD"),
])
def test_impossible_or_unreadable_dates_are_refused(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_date(typed)


def test_dates_parse_from_text_or_pass_through():
    assert parse_date("1990-02-28") == date(1990, 2, 28)
    assert parse_date(date(1990, 2, 28)) == date(1990, 2, 28)
    assert parse_date("") is None and parse_date(None) is None


def test_identity_numbers_and_phones_use_the_registrys_own_forms():
    typed = normalise_record({"surname": "Moyo", "given_names": "Tendai", "national_id": "63-123456 a 78",
                              "passport": " fn 123456 ", "phone": "0772 123 456"})
    compact = normalise_record({"surname": "Moyo", "given_names": "Tendai", "national_id": "63123456A78",
                                "passport": "FN123456", "phone": "+263772123456"})
    assert typed.national_id == compact.national_id == "63123456A78"
    assert typed.passport == compact.passport == "FN123456"
    assert typed.phone == compact.phone == "+263772123456"


def test_id_digits_ignore_the_check_letter_but_need_enough_digits():
    assert id_digits("63123456A78") == id_digits("6312345678") == id_digits("63123456B78")
    assert id_digits("AB12") is None and id_digits(None) is None


def test_a_record_with_several_problems_names_every_field():
    with pytest.raises(BadRecord) as caught:
        normalise_record({"surname": "", "given_names": "T", "sex": "X", "date_of_birth": "2001-02-29",
                          "passport": "12", "phone": "12"})
    problems = caught.value.problems
    assert set(problems) == {"surname", "given_names", "sex", "date_of_birth", "passport", "phone"}
    assert "surname is empty" in problems["surname"]
    assert "'2001-02-29' is not a date that exists" in problems["date_of_birth"]
    assert "'X' is not F or M" in problems["sex"]


def test_a_person_row_is_read_without_validating_it_again(ctx, officer):
    from registry.people.services import create_person
    from tests.support.factories import person_data

    person = create_person(person_data(surname="Ndhlovu", given_names="Tendayi", phone="0772123456"), officer)
    record = normalise_record(person)
    assert record.person_id == person.id and record.phone == "+263772123456"
    assert record.surname.canonical == ("NDLOVU",) and record.given.canonical == ("TENDAI",)


def test_blocking_keys_ignore_the_order_of_day_and_month_and_of_the_names():
    from registry.matching.keys import birth_key, key_row, met_by_ranking, met_by_scan

    assert birth_key(date(1990, 5, 3)) == birth_key(date(1990, 3, 5)) != birth_key(date(1990, 5, 4))
    one = key_row({"id": 1, "surname": "Moyo", "given_names": "Tendai", "date_of_birth": date(1990, 5, 3)})
    other = key_row({"id": 2, "surname": "Tendayi", "given_names": "Moyo", "date_of_birth": date(1990, 3, 5)})
    assert one["name_codes"] == other["name_codes"] and one["birth_key"] == other["birth_key"]
    left = normalise_record({"surname": "Moyo", "given_names": "Tendai", "date_of_birth": "1990-05-03"})
    swapped = normalise_record({"surname": "Tendayi", "given_names": "Moyo", "date_of_birth": "1990-03-05"})
    stranger = normalise_record({"surname": "Sibanda", "given_names": "Sipho", "date_of_birth": "1971-08-30"})
    assert met_by_ranking(left, swapped) and met_by_scan(left, swapped)
    assert not met_by_ranking(left, stranger) and not met_by_scan(left, stranger)
    # Both names mistyped: only ranking's look-up by date of birth still meets the record.
    both = normalise_record({"surname": "Mpyo", "given_names": "Tebdai", "date_of_birth": "1990-05-03"})
    assert met_by_ranking(left, both) and not met_by_scan(left, both)
