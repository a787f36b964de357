"""The signed QR payload and the short code: round trip, every alteration and truncation caught, compact."""
import base64
import unicodedata
from dataclasses import replace
from datetime import date

import pytest

from registry.slips.payload import (
    PREFIX, PayloadInvalid, SlipFields, SlipPayload, fields_digest, format_short_code, key_id_of, new_key_pair,
    normalise_short_code, parse_payload, short_code_of, sign,
)
from registry.slips.render import qr_matrix

FIELDS = SlipFields(
    registration_number="BBR-2026-000123-K", surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi",
    date_of_birth=date(1995, 3, 14), sex="F", destination_country="ZA", destination_subdivision="ZA-LP",
    occupation_code="9211", office_code="BBR", registered_on=date(2026, 1, 5), officer="officer",
)


@pytest.fixture(scope="module")
def keys():
    return new_key_pair()


def signed(keys, **changes):
    private, public = keys
    payload = SlipPayload(key_id=key_id_of(public), office_code="BBR", registration_number=FIELDS.registration_number,
                          issued_on=date(2026, 1, 6), copy_number=2, cancelled=False, digest=fields_digest(FIELDS))
    return sign(replace(payload, **changes), private)


def test_a_signed_payload_reads_back_exactly_and_verifies_with_its_key_only(keys):
    payload = signed(keys, cancelled=True)
    text = payload.text()
    assert text.startswith(PREFIX) and text == text.upper()
    back = parse_payload(text)
    assert back == payload
    assert (back.registration_number, back.office_code, back.issued_on, back.copy_number, back.cancelled) == (
        "BBR-2026-000123-K", "BBR", date(2026, 1, 6), 2, True)
    assert back.signature_valid(keys[1])
    assert not back.signature_valid(new_key_pair()[1])
    # Scanners and people add spaces, line breaks and lower case: still the same payload.
    assert parse_payload("  " + text[:50].lower() + "\n" + text[50:] + " ") == payload


def test_the_payload_fits_a_version_8_qr_code(keys):
    text = signed(keys).text()
    assert len(text) <= 195  # version 8 at level M holds 195 alphanumeric characters
    assert len(qr_matrix(text)) == 49  # version 8: 17 + 4 * 8 modules a side
    # The longest number the registry can issue (9-digit sequence) still fits version 9.
    longest = signed(keys, registration_number="ABCDE-2026-123456789-K", office_code="ABCDE").text()
    assert len(qr_matrix(longest)) <= 53


def test_every_single_character_changed_is_caught(keys):
    text = signed(keys).text()
    body = text[len(PREFIX):]
    caught = 0
    for position in range(len(body)):
        replacement = "A" if body[position] != "A" else "B"
        altered = PREFIX + body[:position] + replacement + body[position + 1:]
        try:
            payload = parse_payload(altered)
        except PayloadInvalid:
            caught += 1
            continue
        assert not payload.signature_valid(keys[1]), position
        caught += 1
    assert caught == len(body)


def test_every_truncation_is_refused_as_incomplete(keys):
    text = signed(keys).text()
    for length in range(len(PREFIX), len(text)):
        with pytest.raises(PayloadInvalid) as refused:
            parse_payload(text[:length])
        assert "incomplete" in str(refused.value), length


@pytest.mark.parametrize(("text", "message"), [
    ("", "Scan the slip's QR code"),
    ("   ", "Scan the slip's QR code"),
    ("BBR-2026-000123-K", "not a registration slip code"),
    ("https://example.org/verify", "not a registration slip code"),
    ("RS1:this is not base32!", "never has"),
    ("RS1:" + "A" * 500, "far longer"),
])
def test_text_that_is_no_payload_is_refused_with_a_reason(text, message):
    with pytest.raises(PayloadInvalid, match=message):
        parse_payload(text)


def test_a_payload_of_an_unknown_format_or_with_extra_bytes_is_refused(keys):
    encoded = signed(keys).text()[len(PREFIX):]
    raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    for tampered, message in ((b"\x02" + raw[1:], "format 2"), (raw + b"\x00", "longer than")):
        text = PREFIX + base64.b32encode(tampered).decode().rstrip("=")
        with pytest.raises(PayloadInvalid, match=message):
            parse_payload(text)


def test_the_digest_covers_every_printed_field_and_ignores_unicode_normal_form():
    base = fields_digest(FIELDS)
    assert len(base) == 16
    changed = {"registration_number": "BBR-2026-000124-X", "surname": "Nemathanwe", "given_names": "Thivhulawi",
               "date_of_birth": date(1995, 3, 15), "sex": "M", "destination_country": "BW",
               "destination_subdivision": "", "occupation_code": "9212", "office_code": "HRE",
               "registered_on": date(2026, 1, 6), "officer": "supervisor"}
    assert set(changed) == set(FIELDS.__dataclass_fields__)
    for name, value in changed.items():
        assert fields_digest(replace(FIELDS, **{name: value})) != base, name
    decomposed = replace(FIELDS, surname=unicodedata.normalize("NFD", FIELDS.surname))
    assert decomposed.surname != FIELDS.surname
    assert fields_digest(decomposed) == base


def test_short_codes_come_from_the_signature_and_forgive_how_people_type_them(keys):
    first, second = signed(keys), signed(keys, copy_number=3)
    assert first.short_code == short_code_of(first.signature) != second.short_code
    code = first.short_code
    assert len(code) == 8 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert format_short_code(code) == f"{code[:4]}-{code[4:]}"
    assert normalise_short_code(f" {code[:4].lower()} - {code[4:]} ") == code
    assert normalise_short_code("0O1IL-xyz9".replace("x", "K")) is None  # wrong length
    assert normalise_short_code("OIL0-1234") == "0110" + "1234"  # O as 0, I and L as 1
    assert normalise_short_code("UUUU-UUUU") is None  # U is not in Crockford's alphabet
    assert normalise_short_code("") is None
