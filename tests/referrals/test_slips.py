"""Referral slips read back as a person and a scanner would: every printed field in the PDF's text, labels in
the office's second language, the QR code decoded from the rendered page and verified; reprints, changes,
voids and cancellations; referral and registration slips kept apart; every print and check audited."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.errors import DomainError, Forbidden
from registry.extensions import db
from registry.recruitment.orders import CHECKLIST, record_vetting
from registry.referrals.services import issue_referral, record_outcome
from registry.referrals.targets import update_service
from registry.slips.payload import parse_payload
from registry.slips.referral_slips import print_referral_slip, referral_prints_of
from registry.slips.services import print_slip, prints_of, void_slip
from registry.slips.verification import NotASlip, Verdict, verify_payload, verify_typed
from tests.conftest import user
from tests.referrals.helpers import audit_actions, counts, make_service, make_vacancy, service_data
from tests.slips.conftest import set_up_office
from tests.slips.helpers import page_images, pdf_text, scan, scan_pdf
from tests.support.factories import create_registration

OFFICE = "BBR — Labour Migration Centre, Beitbridge"


@pytest.fixture
def person(ctx, officer):
    """A BBR registration of Ṱhivhulawi Nemaṱhaṅwe (born 1995-03-14), at an office printing English and Shona."""
    set_up_office()
    made = create_registration(actor=officer, surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi",
                               date_of_birth=date(1995, 3, 14))
    db.session.commit()
    return made


@pytest.fixture
def to_clinic(person, officer):
    """R1 of `person`: to a medical examination at Beitbridge District Hospital, attend within a week."""
    service = make_service(user("supervisor"))
    db.session.commit()
    referral = issue_referral(person, service, date.today() + timedelta(days=7), officer)
    db.session.commit()
    return referral


def scanned(pdf):
    """The one QR code of a one-page slip, decoded from the page drawn at 200 dpi."""
    [[code]] = scan_pdf(pdf)
    return code


def test_a_service_referral_slip_prints_every_field_in_both_layouts(to_clinic, person, officer):
    referral, today = to_clinic, date.today()
    for layout in ("a4", "receipt"):
        pdf, issued = print_referral_slip(referral, officer, layout)
        db.session.commit()
        text = pdf_text(pdf)
        for label, value in (
            ("title", "Referral slip"), ("reference", referral.reference),
            ("name", "NEMAṰHAṄWE, Ṱhivhulawi"), ("date of birth", "1995-03-14"),
            ("registration number", person.registration_number),
            ("target", "Medical examination: Beitbridge District Hospital"),
            ("address", "Hospital Road, Beitbridge"), ("phone", "+263 24 2700100"),
            ("hours", "Mon-Fri 08:00-16:00"), ("what to bring", "• Passport • Two photographs"),
            ("what to bring, always", "Bring this slip and your identity document."),
            ("office", OFFICE), ("help", "Labour helpline 0800 123 123 (free)"),
        ):
            assert value in text, (layout, label, value, text)
        # Each date and the officer follow their labels (the Shona label between them).
        assert text.index(today.isoformat()) > text.index("Date issued")
        assert (today + timedelta(days=7)).isoformat() in text[text.index("Attend by"):]
        assert "officer" in text[text.index("Officer"):]
        # The receipt was the second print: a copy.
        assert ("COPY 1" in text) is (layout == "receipt")
        assert "CANCELLED" not in text and "Job" not in text
        code = scanned(pdf)
        assert code == issued.record.payload
        payload = parse_payload(code)
        assert (payload.referral, payload.registration_number, payload.office_code) == (
            True, person.registration_number, "BBR")
        assert payload.copy_number == (0 if layout == "a4" else 1)
        result = verify_payload(code)
        assert result.genuine and result.referral is referral and result.registration is None, result.reason


def test_a_vacancy_referral_slip_prints_the_job(person, officer):
    today = date.today()
    vacancy = make_vacancy(user("supervisor"), ends_on=today + timedelta(days=180),
                           what_to_bring="Work boots\nBank card")
    record_vetting(vacancy, dict.fromkeys(CHECKLIST, True), vacancy.version, officer)
    db.session.commit()
    referral = issue_referral(person, vacancy, today + timedelta(days=3), officer)
    db.session.commit()
    pdf, _ = print_referral_slip(referral, officer, "a4")
    db.session.commit()
    text = pdf_text(pdf)
    for value in (
        "Vacancy: Citrus pickers, Mopani Citrus Estates", "Farm 12, Letsitele", "+27 15 307 1234",
        f"9211 Crop farm labourers; Limpopo, South Africa; from {today} to {today + timedelta(days=180)}; "
        "ZAR 4,500 a month; contract vetted by the labour office",
        "• Work boots • Bank card", "Bring this slip and your identity document.",
        (today + timedelta(days=3)).isoformat(), referral.reference,
    ):
        assert value in text, (value, text)
    assert "Opening hours" not in text  # a vacancy has none
    result = verify_payload(scanned(pdf))
    assert result.genuine and result.referral is referral

    # Where the vacancy names where to report, that is the address printed.
    vacancy.address = "Gate 3, Letsitele packhouse"
    db.session.commit()
    assert verify_payload(scanned(pdf)).verdict is Verdict.ALTERED
    pdf, issued = print_referral_slip(referral, officer, "receipt")
    db.session.commit()
    assert "Gate 3, Letsitele packhouse" in pdf_text(pdf) and issued.record.copy_number == 0


def test_a_portuguese_office_prints_portuguese_labels(to_clinic, officer):
    set_up_office(language="pt")
    db.session.commit()
    pdf, _ = print_referral_slip(to_clinic, officer, "a4")
    text = pdf_text(pdf)
    for value in ("Referral slip", "Guia de encaminhamento", "Referral reference / Referência do encaminhamento",
                  "Referred to / Encaminhado para", "Attend by / Apresentar-se até", "Date issued / Data de emissão",
                  "Opening hours / Horário de atendimento", "Address / Endereço", "Phone / Telefone",
                  "What to bring / O que levar", "Traga esta guia e o seu documento de identificação.",
                  "Name / Nome", "Date of birth / Data de nascimento", "Office / Escritório"):
        assert value in text, (value, text)
    copy, _ = print_referral_slip(to_clinic, officer, "receipt")
    assert "COPY 1 / CÓPIA 1" in pdf_text(copy)
    record_outcome(to_clinic, "cancelled", date.today(), to_clinic.version, officer)
    cancelled, _ = print_referral_slip(to_clinic, officer, "a4")
    db.session.commit()
    text = pdf_text(cancelled)
    assert "CANCELLED / ANULADO" in text and "Este encaminhamento foi cancelado." in text


def test_reprint_change_new_original_and_void(to_clinic, person, officer):
    referral = to_clinic
    first_pdf, first = print_referral_slip(referral, officer, "a4")
    db.session.commit()
    first_code = scanned(first_pdf)
    assert verify_payload(first_code).genuine

    copy_pdf, copy = print_referral_slip(referral, officer, "receipt")
    db.session.commit()
    assert copy.record.copy_number == 1 and "COPY 1" in pdf_text(copy_pdf)
    copy_code = scan(page_images(copy_pdf)[0])[0]
    assert parse_payload(copy_code).copy_number == 1
    assert verify_payload(copy_code).genuine and verify_payload(first_code).genuine

    # The clinic moves: the slips no longer say where to go, so they no longer verify as genuine.
    service = referral.service
    update_service(service, service_data(address="New Wing, Hospital Road, Beitbridge"), service.version,
                   user("supervisor"))
    db.session.commit()
    for code in (first_code, copy_code):
        result = verify_payload(code)
        assert result.verdict is Verdict.ALTERED and "the referral's details are not the ones" in result.reason
        assert result.referral is None

    new_pdf, new = print_referral_slip(referral, officer, "a4")
    db.session.commit()
    assert new.record.copy_number == 0 and "COPY" not in pdf_text(new_pdf)
    assert "New Wing, Hospital Road, Beitbridge" in pdf_text(new_pdf)
    new_code = scanned(new_pdf)
    assert verify_payload(new_code).genuine
    for code in (first_code, copy_code):
        result = verify_payload(code)
        assert result.verdict is Verdict.REVOKED and "replaced by a new slip" in result.reason
    assert [(record.short_code, revoked) for record, revoked in referral_prints_of(referral)] == [
        (new.record.short_code, False), (copy.record.short_code, True), (first.record.short_code, True)]

    # Lost: the officer voids it by its short code.
    void_slip(person, new.record.short_code.lower(), "lost at the border", officer)
    db.session.commit()
    result = verify_payload(new_code)
    assert result.verdict is Verdict.REVOKED and "(lost at the border)" in result.reason
    assert all(revoked for _, revoked in referral_prints_of(referral))
    with pytest.raises(DomainError, match="already void"):
        void_slip(person, new.record.short_code, "again", officer)

    printed = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("slip.printed", "slip.reprinted"))).order_by(AuditEvent.at)).all()
    assert [(e.action, e.entity_type, e.entity_id, e.details["referral"], e.details["copy"]) for e in printed] == [
        ("slip.printed", "referral", referral.id, referral.reference, 0),
        ("slip.reprinted", "referral", referral.id, referral.reference, 1),
        ("slip.printed", "referral", referral.id, referral.reference, 0)]
    actions = audit_actions()
    assert actions.count("slip.revoked") == 2 and actions.count("slip.voided") == 1
    verified = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "slip.verified")).all()
    assert len(verified) == 9
    assert {e.details["number"] for e in verified} == {person.registration_number}
    assert [e.details["verdict"] for e in verified].count("revoked") == 3


def test_a_cancelled_referral_prints_cancelled_and_still_verifies(to_clinic, officer):
    referral = to_clinic
    before_pdf, _ = print_referral_slip(referral, officer, "a4")
    record_outcome(referral, "cancelled", date.today(), referral.version, officer)
    db.session.commit()
    pdf, issued = print_referral_slip(referral, officer, "a4")
    db.session.commit()
    text = pdf_text(pdf)
    assert "CANCELLED" in text and "This referral has been cancelled." in text
    assert issued.record.cancelled and issued.record.copy_number == 1
    code = scanned(pdf)
    assert parse_payload(code).cancelled
    result = verify_payload(code)
    assert result.genuine and f"The referral was cancelled on {date.today()}." in result.notes
    # The slip printed before the cancellation says nothing of it, but its check does.
    earlier = verify_payload(scanned(before_pdf))
    assert earlier.genuine and not parse_payload(scanned(before_pdf)).cancelled
    assert f"The referral was cancelled on {date.today()}." in earlier.notes
    assert "CANCELLED" not in pdf_text(before_pdf)


def test_a_referral_slip_is_checked_by_its_reference_and_short_code(to_clinic, person, officer):
    _, issued = print_referral_slip(to_clinic, officer, "a4")
    db.session.commit()
    code = issued.record.short_code
    number = person.registration_number
    typed = ((f"{number}/R1", code), (f"{number.lower()} / r1", f"{code[:4]}-{code[4:]}".lower()), (number, code))
    for typed_number, typed_code in typed:
        result = verify_typed(typed_number, typed_code)
        assert result.genuine and result.referral is to_clinic, (typed_number, typed_code, result.reason)
    assert verify_typed(f"{number}/R1", "0000-0000").verdict is Verdict.UNKNOWN
    # The right short code with another referral's number is no match either.
    assert verify_typed(f"{number}/R9", code).verdict is Verdict.UNKNOWN
    before = counts()
    with pytest.raises(NotASlip) as caught:
        verify_typed(f"{number[:-1]}{'A' if number[-1] != 'A' else 'B'}/R1", code)
    assert caught.value.field == "number"
    with pytest.raises(NotASlip) as caught:
        verify_typed(f"{number}/R1", "K7Q2")
    assert caught.value.field == "short_code"
    assert counts() == before
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "slip.verified")
                                .order_by(AuditEvent.at)).all()
    assert [(e.details["method"], e.details["verdict"]) for e in events] == [("typed", "genuine")] * 3 + [
        ("typed", "unknown")] * 2


def test_registration_and_referral_slips_are_numbered_apart(to_clinic, person, officer):
    second = issue_referral(person, make_vacancy(user("supervisor")), date.today() + timedelta(days=3), officer)
    db.session.commit()
    _, r1_first = print_referral_slip(to_clinic, officer, "a4")
    _, r1_copy = print_referral_slip(to_clinic, officer, "a4")
    _, r2_first = print_referral_slip(second, officer, "receipt")
    registration_pdf, reg_first = print_slip(person.registration_number, officer, "a4")
    _, reg_copy = print_slip(person.registration_number, officer, "receipt")
    db.session.commit()
    assert [r1_first.record.copy_number, r1_copy.record.copy_number, r2_first.record.copy_number] == [0, 1, 0]
    assert [reg_first.record.copy_number, reg_copy.record.copy_number] == [0, 1]
    assert "Registration slip" in pdf_text(registration_pdf) and "Referral slip" not in pdf_text(registration_pdf)

    assert [record.id for record, _ in prints_of(person)] == [reg_copy.record.id, reg_first.record.id]
    assert [record.id for record, _ in referral_prints_of(to_clinic)] == [r1_copy.record.id, r1_first.record.id]
    assert [record.id for record, _ in referral_prints_of(second)] == [r2_first.record.id]
    # No slip revoked another: each kind is compared only with its own earlier slips.
    assert not any(revoked for _, revoked in prints_of(person) + referral_prints_of(to_clinic)
                   + referral_prints_of(second))
    registration_check = verify_payload(scanned(registration_pdf))
    assert registration_check.genuine and registration_check.registration is person
    assert registration_check.referral is None
    for issued, referral in ((r1_first, to_clinic), (r1_copy, to_clinic), (r2_first, second)):
        result = verify_payload(issued.record.payload)
        assert result.genuine and result.referral is referral
    assert verify_typed(f"{person.registration_number}/R2", r2_first.record.short_code).referral is second


def test_printing_is_refused_to_other_offices_and_statisticians_and_changes_nothing(to_clinic):
    before = counts()
    for username in ("officer.hre", "statistician"):
        with pytest.raises(Forbidden, match="only that office's officers print its slips"):
            print_referral_slip(to_clinic, user(username), "a4")
    with pytest.raises(DomainError, match="There is no slip layout 'letter'"):
        print_referral_slip(to_clinic, user("officer"), "letter")
    db.session.commit()
    assert counts() == before
