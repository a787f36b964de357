"""Checking slips: genuine, altered, forged, truncated, unknown, revoked; by payload and by number and short
code. Every check is one audit event; input that is not a slip is refused and changes nothing."""
from dataclasses import replace

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.registration.numbering import RegistrationNumber
from registry.slips import keys
from registry.slips.models import Revocation, SigningKey
from registry.slips.payload import PREFIX, key_id_of, new_key_pair, parse_payload, sign
from registry.slips.services import print_slip, void_slip
from registry.slips.verification import NotASlip, Verdict, verify_payload, verify_typed
from tests.slips.helpers import counts


@pytest.fixture
def issued(registration, officer):
    _, slip = print_slip(registration.registration_number, officer)
    db.session.commit()
    return slip.record


def verifications():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "slip.verified")
                              .order_by(AuditEvent.at)).all()


def test_a_genuine_slip_is_found_by_its_payload_and_by_number_and_short_code(registration, issued):
    by_payload = verify_payload(issued.payload, actor="public")
    typed = verify_typed(registration.registration_number.lower(), f"{issued.short_code[:4]}-{issued.short_code[4:]}")
    for result, method in ((by_payload, "qr"), (typed, "typed")):
        assert result.verdict is Verdict.GENUINE and result.genuine
        assert result.registration.id == registration.id
        assert result.payload.short_code == issued.short_code
        assert result.line().startswith(f"genuine: {registration.registration_number} issued ")
    events = verifications()
    assert [(e.details["verdict"], e.details["method"], e.actor) for e in events] == [
        ("genuine", "qr", "public"), ("genuine", "typed", "system")]
    assert {e.entity_id for e in events} == {registration.id}
    # The audit trail holds the slip's identifiers, not the person's data.
    assert "Nemaṱhaṅwe" not in str([e.details for e in events])


def test_any_altered_character_is_refused_or_answers_altered(issued):
    text = issued.payload
    body = text[len(PREFIX):]
    verdicts = set()
    for position in range(0, len(body), 7):
        replacement = "Q" if body[position] != "Q" else "R"
        altered = PREFIX + body[:position] + replacement + body[position + 1:]
        try:
            result = verify_payload(altered)
        except NotASlip:
            verdicts.add("not a slip")
            continue
        assert result.verdict in (Verdict.ALTERED, Verdict.UNKNOWN), position  # an altered key id: unknown
        verdicts.add(result.verdict)
    assert Verdict.ALTERED in verdicts


def test_a_forged_slip_is_refused_whoever_signed_it(registration, issued):
    payload = parse_payload(issued.payload)
    # A forger's own key: unknown here.
    private, public = new_key_pair()
    forged = sign(replace(payload, key_id=key_id_of(public)), private)
    assert verify_payload(forged.text()).verdict is Verdict.UNKNOWN
    # The office's key id with the forger's signature: altered.
    assert verify_payload(sign(payload, private).text()).verdict is Verdict.ALTERED
    # A copy number changed by hand, the signature left as it was: altered.
    assert verify_payload(replace(payload, copy_number=9).text()).verdict is Verdict.ALTERED
    # A key row another office sneaked in under BBR's name counts for nothing.
    db.session.add(SigningKey(key_id=key_id_of(public), office_code="BBR", public_key=public.hex(),
                              origin_office="HRE"))
    db.session.flush()
    result = verify_payload(forged.text())
    assert result.verdict is Verdict.ALTERED and "not that office's" in result.reason
    assert result.registration is None


def test_a_truncated_or_garbled_payload_is_no_slip_and_changes_nothing(issued):
    before = counts()
    for text, message in ((issued.payload[:-10], "incomplete"), (issued.payload[:40], "incomplete"),
                          ("", "Scan the slip's QR code"), ("hello", "not a registration slip code"),
                          ("RS1:!!!!", "never has")):
        with pytest.raises(NotASlip, match=message):
            verify_payload(text)
    assert counts() == before


def test_typed_input_that_is_no_number_or_code_changes_nothing(registration, issued):
    before = counts()
    for number, code, field in (("BBR-2026", issued.short_code, "number"),
                                (registration.registration_number, "ABC", "short_code"),
                                (registration.registration_number, "", "short_code")):
        with pytest.raises(NotASlip) as refused:
            verify_typed(number, code)
        assert refused.value.field == field
    assert counts() == before


def test_a_wrong_short_code_answers_the_same_whether_or_not_the_number_exists(registration, issued):
    wrong = "ZZZZZZZZ" if issued.short_code != "ZZZZZZZZ" else "YYYYYYYY"
    known = verify_typed(registration.registration_number, wrong)
    unknown = verify_typed(str(RegistrationNumber("BBR", 2026, 999999)), wrong)
    assert known.verdict is unknown.verdict is Verdict.UNKNOWN
    assert known.reason == unknown.reason and known.registration is unknown.registration is None
    assert [e.details["verdict"] for e in verifications()] == ["unknown", "unknown"]


def test_a_record_changed_after_printing_makes_the_slip_altered(registration, issued):
    registration.person.given_names = "Thivhulawi"
    db.session.flush()
    result = verify_payload(issued.payload)
    assert result.verdict is Verdict.ALTERED and "not the ones this slip was printed with" in result.reason
    assert result.registration is None


def test_a_voided_slip_and_a_slip_of_a_revoked_key_answer_revoked_even_if_the_revocation_is_tombstoned(
        registration, issued, officer):
    void_slip(registration, issued.short_code, "misprinted", officer)
    db.session.commit()
    result = verify_payload(issued.payload)
    assert result.verdict is Verdict.REVOKED and "misprinted" in result.reason
    assert verify_typed(registration.registration_number, issued.short_code).verdict is Verdict.REVOKED

    _, second = print_slip(registration.registration_number, officer)
    keys.revoke_key(second.record.key_id, "key copied to a stranger's laptop")
    db.session.commit()
    result = verify_payload(second.record.payload)
    assert result.verdict is Verdict.REVOKED and "key copied" in result.reason
    assert result.line().startswith(f"revoked: {registration.registration_number} copy 1 issued ")
    for revocation in db.session.scalars(select(Revocation)):
        revocation.mark_deleted()  # as if someone tried to take the revocations back
    db.session.commit()
    assert verify_payload(issued.payload).verdict is Verdict.REVOKED
    assert verify_payload(second.record.payload).verdict is Verdict.REVOKED


def test_a_slip_of_a_registration_not_held_here_is_genuine_on_its_signature_alone(registration, issued):
    # Another office's node may hold the key and the slip record before the registration itself.
    registration.registration_number = str(RegistrationNumber("BBR", 2026, 999998))
    db.session.flush()
    result = verify_payload(issued.payload)
    assert result.verdict is Verdict.GENUINE and result.registration is None
    assert "holds no copy of the registration" in result.reason

