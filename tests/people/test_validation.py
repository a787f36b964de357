"""validate_person: every field normalised, every bad field named with a reason, all at once."""
from datetime import date

import pytest

from registry.core.errors import ValidationFailed
from registry.people.services import validate_person
from tests.support.factories import person_data

TODAY = date(2026, 6, 15)


def errors_of(**overrides):
    with pytest.raises(ValidationFailed) as caught:
        validate_person(person_data(**overrides), today=TODAY)
    return caught.value.errors


def test_valid_person_is_normalised():
    values = validate_person(person_data(
        surname="  ndlovu-MPOFU ", given_names="Tendai   Rudo", national_id="63-123456 a 78", phone="077 212 3456",
        languages=["eng", "sna", "eng"], home_district="  Chiredzi   North ",
    ), today=TODAY)
    assert values["surname"] == "ndlovu-MPOFU"
    assert values["surname_key"] == "NDLOVU MPOFU"
    assert values["given_names"] == "Tendai Rudo"
    assert values["given_names_key"] == "TENDAI RUDO"
    assert values["national_id"] == "63123456A78"
    assert values["national_id_country"] == "ZW"
    assert values["phone"] == "+263772123456"
    assert values["languages"] == ["eng", "sna"]
    assert values["home_district"] == "Chiredzi North"
    assert values["passport_number"] is None and values["passport_country"] is None


def test_passport_alone_identifies_a_person_and_defaults_its_country():
    values = validate_person(person_data(national_id="", passport_number="fn 123456"), today=TODAY)
    assert values["national_id"] is None
    assert (values["passport_number"], values["passport_country"]) == ("FN123456", "ZW")


def test_south_african_citizen_uses_south_african_id_and_phone_rules():
    values = validate_person(person_data(citizenship="ZA", national_id="8001015009087", phone="082 123 4567",
                                         home_subdivision="ZA-LP"), today=TODAY)
    assert values["national_id"] == "8001015009087"
    assert values["phone"] == "+27821234567"
    assert errors_of(citizenship="ZA", national_id="8001015009088", home_subdivision="")["national_id"][0].startswith(
        "'8001015009088' is not a valid South African ID number")


@pytest.mark.parametrize("born, ok", [
    (date(2011, 6, 15), True),    # 15 today
    (date(2011, 6, 16), False),   # 15 tomorrow
    (date(1946, 6, 16), True),    # 80, 81 tomorrow
    (date(1945, 6, 15), False),   # 81 today
])
def test_age_limits_are_15_to_80_inclusive(born, ok):
    if ok:
        assert validate_person(person_data(date_of_birth=born), today=TODAY)["date_of_birth"] == born
    else:
        message = errors_of(date_of_birth=born)["date_of_birth"][0]
        assert "registration is for people aged 15 to 80" in message
        assert message.startswith(f"The person would be {14 if born.year > 2000 else 81}")


def test_future_and_missing_birth_dates_are_refused():
    assert errors_of(date_of_birth=date(2027, 1, 1))["date_of_birth"] == ["The date of birth is in the future."]
    assert errors_of(date_of_birth=None)["date_of_birth"] == ["Enter the date of birth as YYYY-MM-DD."]


def test_every_bad_field_is_reported_at_once():
    errors = errors_of(
        surname="", given_names="J0hn", sex="X", citizenship="XX", national_id="", passport_number="",
        phone="12", home_subdivision="ZA-LP", home_district="x" * 81, languages=["eng", "klingon"],
        education_level="12", consent=False, date_of_birth=None,
    )
    assert set(errors) == {"surname", "given_names", "sex", "citizenship", "national_id", "phone",
                           "home_subdivision", "home_district", "languages", "education_level", "consent",
                           "date_of_birth"}
    assert errors["surname"] == ["Enter the surname."]
    assert errors["sex"] == ["Choose female or male."]
    assert errors["citizenship"] == ["Choose a country of citizenship."]
    assert errors["national_id"] == ["Enter a national ID or a passport number, so the person can be found again."]
    assert errors["home_subdivision"] == ["ZA-LP is not a province or region of XX."]
    assert errors["languages"] == ["Unknown language code(s): klingon."]
    assert errors["education_level"] == ["Choose an ISCED 2011 level."]
    assert errors["consent"] == ["The person must consent to the processing of their data before it is recorded."]


def test_malformed_id_is_named_and_not_reported_as_missing():
    errors = errors_of(national_id="63-12 A 78")
    assert errors == {"national_id": ["'63-12 A 78' does not have the shape of a ZW national ID (e.g. 63-123456 A 78)."]}


def test_bad_passport_and_issuing_country():
    errors = errors_of(passport_number="X1", passport_country="QQ")
    assert errors["passport_number"] == ["'X1' is not a passport number (6 to 12 letters and digits)."]
    assert errors["passport_country"] == ["Choose the country that issued the passport."]


def test_phone_is_checked_against_the_citizenship_country():
    assert errors_of(phone="0712345")["phone"] == [
        "'0712345' is not a valid phone number for ZW; include the country code if it is foreign."
    ]
