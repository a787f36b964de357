import unicodedata

import pytest

from registry.people.names import clean_name, name_key


@pytest.mark.parametrize("raw, cleaned", [
    ("  Moyo ", "Moyo"),
    ("Van   der\tMerwe", "Van der Merwe"),
    ("Ndlovu-Mpofu", "Ndlovu-Mpofu"),
    ("O'Brien", "O'Brien"),
    ("N’dlovu", "N’dlovu"),
    ("José", "José"),
])
def test_clean_name_keeps_real_names_and_collapses_spaces(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_clean_name_accepts_a_name_typed_in_decomposed_unicode():
    # Some keyboards send 'e' + COMBINING ACUTE ACCENT instead of 'é'; it is still a letter.
    decomposed = unicodedata.normalize("NFD", "José")
    assert decomposed != "José"
    assert clean_name(decomposed) == "José"
    assert name_key(decomposed) == name_key("José") == "JOSE"


@pytest.mark.parametrize("raw, message", [
    ("", "Enter the surname."),
    ("   ", "Enter the surname."),
    ("Moyo2", "letters, spaces, hyphens and apostrophes only"),
    ("Moyo_Ncube", "letters, spaces, hyphens and apostrophes only"),
    ("Moyo--Ncube", "letters, spaces, hyphens and apostrophes only"),
    ("-Moyo", "letters, spaces, hyphens and apostrophes only"),
    ("M", "at least two letters"),
    ("A" * 81, "longer than 80 characters"),
])
def test_clean_name_refuses_with_the_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        clean_name(raw, "surname")


@pytest.mark.parametrize("one, other", [
    ("Ndlovu-Mpofu", "NDLOVU MPOFU"),
    ("ndlovu mpofu", "Ndlovu  Mpofu"),
    ("Sibanda", "SIBANDA"),
    ("Nhamo Tinashé", "nhamo tinashe"),
    ("Émile", "EMILE"),
    ("O'Brien", "o brien"),
])
def test_name_key_ignores_case_accents_and_punctuation(one, other):
    assert name_key(one) == name_key(other)


def test_name_key_is_plain_upper_case_ascii_with_single_spaces():
    key = name_key("  Müller-Lüdenscheidt  d'Arc ")
    assert key == "MULLER LUDENSCHEIDT D ARC"
    assert key.isascii()


def test_name_key_keeps_different_names_apart():
    assert name_key("Moyo") != name_key("Moya")
    assert name_key("") == ""
