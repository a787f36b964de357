import pytest

from registry.people.phones import format_phone, normalise_phone


@pytest.mark.parametrize("raw", ["0772123456", "077 212 3456", "077-212-3456", "+263 77 212 3456", "+263772123456"])
def test_zimbabwe_mobile_in_any_common_spelling_becomes_e164(raw):
    assert normalise_phone(raw) == "+263772123456"


def test_foreign_number_with_country_code_is_kept_in_its_country():
    assert normalise_phone("+27 82 123 4567") == "+27821234567"


def test_default_region_decides_a_local_number():
    # The same local digits are a South African mobile when the person is South African.
    assert normalise_phone("082 123 4567", "ZA") == "+27821234567"


@pytest.mark.parametrize("raw, message", [
    ("", "Enter a phone number."),
    ("abc", "is not a phone number"),
    ("0712345", "not a valid phone number for ZW"),
    ("0272123456", "not a valid phone number for ZW"),
    ("+27 12", "not a valid phone number for ZA"),
])
def test_invalid_numbers_are_refused_with_a_message(raw, message):
    with pytest.raises(ValueError, match=message):
        normalise_phone(raw)


def test_format_phone_prints_international_form():
    assert format_phone("+263772123456") == "+263 77 212 3456"
    assert format_phone(None) == ""
