"""Issuing slips: originals, COPY n, a new original after a change (earlier slips revoked), cancelled
registrations, voiding, batches, keys; every print audited and queued for sync; bad input changes nothing."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.errors import DomainError, Forbidden, NotFound
from registry.extensions import db
from registry.registration.numbering import InvalidRegistrationNumber, RegistrationNumber
from registry.registration.services import change_status, update_registration
from registry.slips import keys
from registry.slips.models import PrivateKey, Revocation, SigningKey, SlipPrint
from registry.slips.payload import parse_payload
from registry.slips.services import (
    print_batch, print_slip, prints_of, registrations_for_batch, void_slip,
)
from registry.slips.verification import Verdict, verify_payload
from registry.sync.models import OutboxEntry
from tests.conftest import user
from tests.slips.conftest import DAY
from tests.slips.helpers import audit_actions, counts, pdf_pages, pdf_text, scan_pdf
from tests.support.factories import create_registration, registration_data

PRINTED = date(2026, 3, 11)
UNKNOWN = str(RegistrationNumber("BBR", 2026, 999999))  # well formed, never issued
MISTYPED = UNKNOWN[:-1] + ("A" if UNKNOWN[-1] != "A" else "B")  # its check character is wrong


def outbox_entities():
    return [entry.entity for entry in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))]


def test_the_first_print_is_the_original_and_later_ones_are_numbered_copies(registration, officer):
    before_audit = len(audit_actions())
    pdf, first = print_slip(registration.registration_number, officer, "a4", today=PRINTED)
    db.session.commit()
    assert (first.record.copy_number, first.record.printed_by, first.record.office_code) == (0, "officer", "BBR")
    assert (first.record.issued_on, first.record.layout, first.record.cancelled) == (PRINTED, "a4", False)
    assert "COPY" not in pdf_text(pdf)
    [[scanned]] = scan_pdf(pdf)
    assert scanned == first.record.payload

    pdf2, second = print_slip(registration.registration_number.lower(), officer, "receipt", today=PRINTED)
    pdf3, third = print_slip(registration.registration_number, officer, "a4", today=PRINTED)
    db.session.commit()
    assert (second.record.copy_number, third.record.copy_number) == (1, 2)
    assert "COPY 1 / KOPI 1" in pdf_text(pdf2) and "COPY 2 / KOPI 2" in pdf_text(pdf3)
    assert len({first.record.short_code, second.record.short_code, third.record.short_code}) == 3
    assert [(slip.copy_number, revoked) for slip, revoked in prints_of(registration)] == [(2, False), (1, False), (0, False)]

    # One key was made for the office and used for all three; the private half is stored here only.
    [key] = db.session.scalars(select(SigningKey)).all()
    assert key.office_code == "BBR" and {first.record.key_id, third.record.key_id} == {key.key_id}
    assert db.session.get(PrivateKey, key.key_id) is not None
    for slip in (first, second, third):
        assert verify_payload(slip.record.payload).verdict is Verdict.GENUINE
    db.session.rollback()

    assert audit_actions(before_audit)[:4] == ["slip.key_created", "slip.printed", "slip.reprinted", "slip.reprinted"]
    printed = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("slip.%print%"))
                                 .order_by(AuditEvent.at)).all()
    assert [e.details["copy"] for e in printed] == [0, 1, 2]
    assert {e.entity_id for e in printed} == {registration.id}
    assert printed[1].details["layout"] == "receipt" and printed[1].details["short_code"] == second.record.short_code
    # The key and the prints travel to central; nothing of the private key is in the outbox.
    queued = outbox_entities()
    assert queued.count("slip_signing_key") == 1 and queued.count("slip_print") == 3
    private_hex = db.session.get(PrivateKey, key.key_id).private_key
    for entry in db.session.scalars(select(OutboxEntry)):
        assert private_hex not in str(entry.payload)


def test_a_change_of_details_makes_a_new_original_and_revokes_the_earlier_slips(registration, officer):
    _, original = print_slip(registration.registration_number, officer, today=PRINTED)
    _, copy = print_slip(registration.registration_number, officer, today=PRINTED)
    db.session.commit()
    update_registration(registration, registration_data(destination_country="BW", destination_subdivision=""),
                        registration.version, officer)
    db.session.commit()
    # The slips in people's hands no longer match the record.
    assert verify_payload(original.record.payload).verdict is Verdict.ALTERED

    pdf, reissued = print_slip(registration.registration_number, officer, today=PRINTED)
    db.session.commit()
    assert reissued.record.copy_number == 0
    assert "Botswana" in pdf_text(pdf)
    revoked = db.session.scalars(select(Revocation).order_by(Revocation.revoked_at)).all()
    assert {(r.kind, r.short_code) for r in revoked} == {("slip", original.record.short_code),
                                                         ("slip", copy.record.short_code)}
    assert all("replaced" in r.reason for r in revoked)
    assert verify_payload(original.record.payload).verdict is Verdict.REVOKED
    assert verify_payload(copy.record.payload).verdict is Verdict.REVOKED
    assert verify_payload(reissued.record.payload).verdict is Verdict.GENUINE
    assert [revoked for _, revoked in prints_of(registration)] == [False, True, True]
    assert "slip.revoked" in audit_actions()


def test_a_cancelled_registration_prints_a_slip_that_says_so(registration, officer):
    _, before = print_slip(registration.registration_number, officer, today=PRINTED)
    change_status(registration, "cancelled", DAY, registration.version, officer, today=PRINTED)
    db.session.commit()
    pdf, issued = print_slip(registration.registration_number, officer, "receipt", today=PRINTED)
    db.session.commit()
    text = pdf_text(pdf)
    assert "CANCELLED / KWAKADZIMWA" in text and "This registration has been cancelled." in text
    assert issued.record.cancelled and issued.record.copy_number == 1  # same details: a copy
    assert parse_payload(issued.record.payload).cancelled
    result = verify_payload(issued.record.payload)
    assert result.verdict is Verdict.GENUINE
    assert any("cancelled" in note for note in result.notes)
    assert not parse_payload(before.record.payload).cancelled


@pytest.mark.parametrize(("number", "error", "message"), [
    (UNKNOWN, NotFound, f"No registration {UNKNOWN}"),
    (MISTYPED, InvalidRegistrationNumber, "does not check out"),
    ("not a number", InvalidRegistrationNumber, "is not a registration number"),
    ("", InvalidRegistrationNumber, "Enter a registration number"),
])
def test_an_unknown_or_malformed_number_prints_nothing_and_changes_nothing(registration, officer, number, error,
                                                                          message):
    before = counts()
    with pytest.raises(error, match=message):
        print_slip(number, officer)
    assert counts() == before


def test_only_the_registrations_office_prints_its_slips(registration):
    other = user("officer.hre")
    statistician = user("statistician")
    before = counts()
    for actor in (other, statistician):
        with pytest.raises(Forbidden, match="only that office's officers print its slips"):
            print_slip(registration.registration_number, actor)
    assert counts() == before  # not even a signing key was made
    _, issued = print_slip(registration.registration_number, user("admin"))
    assert issued.record.printed_by == "admin"


def test_an_unknown_layout_is_refused_before_anything_is_written(registration, officer):
    before = counts()
    with pytest.raises(DomainError, match="no slip layout 'letter'"):
        print_slip(registration.registration_number, officer, "letter")
    assert counts() == before


def test_voiding_a_slip_revokes_it_once_and_only_it(registration, officer):
    _, first = print_slip(registration.registration_number, officer, today=PRINTED)
    _, second = print_slip(registration.registration_number, officer, today=PRINTED)
    db.session.commit()
    code = first.record.short_code
    void_slip(registration, f"{code[:4].lower()}-{code[4:]}", "lost at the border", officer)
    db.session.commit()
    assert verify_payload(first.record.payload).verdict is Verdict.REVOKED
    assert "lost at the border" in verify_payload(first.record.payload).reason
    assert verify_payload(second.record.payload).verdict is Verdict.GENUINE
    assert "slip.voided" in audit_actions()

    before = counts()
    for short_code, reason, error, message in (
        (code, "again", DomainError, "already void"),
        ("ZZZZ-ZZZZ", "lost", NotFound, "no slip with short code ZZZZZZZZ"),
        ("short", "lost", DomainError, "8 letters and digits"),
        (second.record.short_code, "   ", DomainError, "Say why"),
    ):
        with pytest.raises(error, match=message):
            void_slip(registration, short_code, reason, officer)
    with pytest.raises(Forbidden):
        void_slip(registration, second.record.short_code, "lost", user("officer.hre"))
    assert counts() == before


def test_a_batch_prints_a_day_of_an_office_or_a_list_in_one_pdf(registration, officer):
    others = [create_registration(actor=officer, surname=name, today=DAY) for name in ("Muñoz", "Ncube")]
    create_registration(actor=officer, surname="Later", today=date(2026, 3, 12))
    db.session.commit()
    day = registrations_for_batch("bbr", DAY)
    assert [r.registration_number for r in day] == sorted(r.registration_number for r in [registration, *others])
    pdf, issued = print_batch(day, officer, "receipt", today=PRINTED)
    db.session.commit()
    assert len(pdf_pages(pdf)) == 3
    assert scan_pdf(pdf) == [[slip.record.payload] for slip in issued]
    assert [pdf_text(pdf, page).count("NEMAṰHAṄWE") for page in range(3)].count(1) == 1
    assert all(slip.record.copy_number == 0 for slip in issued)

    # A list, in the order given, with the first registration now a copy.
    listed = registrations_for_batch(numbers=[others[1].registration_number, registration.registration_number])
    pdf, issued = print_batch(listed, officer, "a4", today=PRINTED)
    assert [slip.record.copy_number for slip in issued] == [1, 1]
    assert [slip.record.registration_number for slip in issued] == [others[1].registration_number,
                                                                    registration.registration_number]


def test_a_batch_with_one_bad_number_or_an_empty_day_prints_nothing(registration, officer):
    before = counts()
    for arguments, error, message in (
        ({"numbers": [registration.registration_number, UNKNOWN]}, NotFound, UNKNOWN),
        ({"numbers": [registration.registration_number, MISTYPED]}, InvalidRegistrationNumber, "check out"),
        ({"office_code": "BBR", "on": date(2025, 1, 1)}, NotFound, "No registrations were made at BBR on 2025-01-01"),
        ({"office_code": "XYZ", "on": DAY}, NotFound, "No office with code 'XYZ'"),
        ({}, DomainError, "Name an office and a date"),
    ):
        with pytest.raises(error, match=message):
            registrations_for_batch(**arguments)
    with pytest.raises(Forbidden):
        print_batch([registration], user("officer.hre"))
    assert counts() == before


def test_rotating_the_key_keeps_old_slips_valid_unless_it_revokes_them(registration, officer):
    _, old = print_slip(registration.registration_number, officer, today=PRINTED)
    db.session.commit()
    new_key, retired = keys.rotate_key(actor=officer)
    db.session.commit()
    assert [k.key_id for k in retired] == [old.record.key_id] and retired[0].retired_at is not None
    _, fresh = print_slip(registration.registration_number, officer, today=PRINTED)
    assert fresh.record.key_id == new_key.key_id != old.record.key_id
    assert verify_payload(old.record.payload).verdict is Verdict.GENUINE  # retired, not revoked

    newest, _ = keys.rotate_key(actor=officer, revoke_old=True, reason="laptop stolen")
    db.session.commit()
    revoked = verify_payload(fresh.record.payload)
    assert revoked.verdict is Verdict.REVOKED and "laptop stolen" in revoked.reason
    assert verify_payload(old.record.payload).verdict is Verdict.GENUINE
    _, after = print_slip(registration.registration_number, officer, today=PRINTED)
    assert after.record.key_id == newest.key_id
    assert verify_payload(after.record.payload).verdict is Verdict.GENUINE
    assert {(key.key_id, is_revoked, local) for key, is_revoked, local in keys.list_keys()} == {
        (old.record.key_id, False, True), (new_key.key_id, True, True), (newest.key_id, False, True)}

    before = counts()
    with pytest.raises(DomainError, match="Say why"):
        keys.rotate_key(revoke_old=True, reason="")
    with pytest.raises(DomainError, match="already revoked"):
        keys.revoke_key(new_key.key_id, "again")
    with pytest.raises(NotFound, match="No signing key"):
        keys.revoke_key("0000000000000000", "unknown")
    assert counts() == before


def test_an_office_revokes_only_its_own_keys(ctx, registration, officer):
    _, issued = print_slip(registration.registration_number, officer)
    db.session.commit()
    ctx.config["OFFICE_CODE"] = "HRE"  # the same database seen from another office's node
    try:
        with pytest.raises(Forbidden, match="only that office or head office"):
            keys.revoke_key(issued.record.key_id, "not ours")
        ctx.config["REGISTRY_ROLE"] = "central"
        keys.revoke_key(issued.record.key_id, "compromised")
    finally:
        ctx.config["OFFICE_CODE"], ctx.config["REGISTRY_ROLE"] = "BBR", "office"
    assert verify_payload(issued.record.payload).verdict is Verdict.REVOKED
