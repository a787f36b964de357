import pytest

from registry.people.identifiers import display_national_id, normalise_national_id, normalise_passport
from tests.conftest import make_app


@pytest.mark.parametrize("raw", ["63-123456 A 78", "63123456A78", "63 123456 a 78", " 63-123456-A-78 ", "63/123456/A/78"])
def test_zimbabwe_id_in_its_usual_spellings_is_stored_compact(raw):
    assert normalise_national_id(raw, "ZW") == "63123456A78"


def test_zimbabwe_id_with_seven_digit_serial():
    assert normalise_national_id("08-1234567 Q 42", "ZW") == "081234567Q42"


@pytest.mark.parametrize("raw", [
    "63-12345 A 78",      # serial too short
    "63-12345678 A 78",   # serial too long
    "63-123456 78",       # no check letter
    "63-123456 AB 78",    # two letters
    "6-123456 A 78",      # one district digit
    "63-123456 A 7",      # one origin digit
    "63-123456 1 78",     # digit where the letter goes
])
def test_malformed_zimbabwe_id_is_refused_with_the_expected_shape(raw):
    with pytest.raises(ValueError, match=r"does not have the shape of a ZW national ID \(e\.g\. 63-123456 A 78\)"):
        normalise_national_id(raw, "ZW")


def test_empty_id_is_refused():
    with pytest.raises(ValueError, match="Enter the national ID number"):
        normalise_national_id("  ", "ZW")


def test_zimbabwe_id_is_printed_in_its_usual_form():
    assert display_national_id("63123456A78", "ZW") == "63-123456 A 78"
    assert display_national_id("081234567Q42", "ZW") == "08-1234567 Q 42"
    assert display_national_id(None, "ZW") == ""


def test_south_african_id_is_checked_by_its_luhn_digit():
    assert normalise_national_id("800101 5009 087", "ZA") == "8001015009087"
    with pytest.raises(ValueError, match="not a valid South African ID number"):
        normalise_national_id("8001015009088", "ZA")  # last digit changed
    with pytest.raises(ValueError, match="not a valid South African ID number"):
        normalise_national_id("63-123456 A 78", "ZA")


def test_botswana_omang_has_nine_digits():
    assert normalise_national_id("123 456 789", "BW") == "123456789"
    with pytest.raises(ValueError, match="shape of a BW national ID"):
        normalise_national_id("12345678", "BW")


def test_other_countries_get_the_generic_shape():
    assert normalise_national_id("ab-12 345", "MZ") == "AB12345"
    with pytest.raises(ValueError, match="5 to 20 letters and digits"):
        normalise_national_id("AB1", "MZ")


@pytest.mark.parametrize("patterns", [{"LS": "^[0-9]{12}$"}, '{"ls": "^[0-9]{12}$"}'])
def test_configured_pattern_replaces_the_generic_shape(tmp_path, patterns):
    """NATIONAL_ID_PATTERNS (a dict, or JSON from the environment) adds or replaces a country's shape."""
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}", NATIONAL_ID_PATTERNS=patterns)
    with app.app_context():
        assert normalise_national_id("1234 5678 9012", "LS") == "123456789012"
        with pytest.raises(ValueError, match=r"shape of a LS national ID \(e\.g\. \^\[0-9\]\{12\}\$\)"):
            normalise_national_id("AB1234567", "LS")
        # Countries that were not configured keep their shapes.
        assert normalise_national_id("63-123456 A 78", "ZW") == "63123456A78"
    # Without the setting, Lesotho falls back to the generic shape, which accepts letters.
    assert normalise_national_id("AB1234567", "LS") == "AB1234567"


def test_configured_pattern_can_override_a_built_in_shape(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'unused.db'}", NATIONAL_ID_PATTERNS={"BW": "^[0-9]{10}$"})
    with app.app_context():
        assert normalise_national_id("1234567890", "BW") == "1234567890"
        with pytest.raises(ValueError, match="shape of a BW national ID"):
            normalise_national_id("123456789", "BW")


@pytest.mark.parametrize("raw, value", [("fn 123456", "FN123456"), ("AB1234567", "AB1234567")])
def test_passport_number_is_compacted(raw, value):
    assert normalise_passport(raw) == value


@pytest.mark.parametrize("raw", ["AB12", "AB1234567890123", "AB#12345"])
def test_bad_passport_number_is_refused(raw):
    with pytest.raises(ValueError, match="not a passport number"):
        normalise_passport(raw)
