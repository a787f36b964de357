"""Referral slips: who is sent where, by when, with what to bring; signed like registration slips.

The QR payload is a registration slip's with the referral flag set; its digest covers the referral's printed
fields, so a slip stops verifying as genuine when the referral's target, dates or the person's name change
(print a new one: the old one is revoked, as for registration slips).
"""
from sqlalchemy import select

from registry.codes.geography import country_name, subdivision_name
from registry.codes.isco import occupation_title
from registry.extensions import db
from registry.people.phones import format_phone
from registry.referrals.models import SERVICE_KINDS, TARGET_KINDS, wage_text
from registry.slips.models import SlipPrint
from registry.slips.payload import ReferralFields, referral_digest
from registry.slips.render import ReferralSlipContent, render_slip
from registry.slips.services import IssuedSlip, SlipIssuer, check_layout, check_may_print, revoked_slips


def _place(country, subdivision):
    name = country_name(country) or country
    return f"{subdivision_name(subdivision) or subdivision}, {name}" if subdivision else name


def target_text(referral):
    """(kind, name, address, phone, hours, job, what to bring) as the slip prints them."""
    if referral.service_id:
        service = referral.service
        return (SERVICE_KINDS.get(service.kind, service.kind), service.name, service.address,
                format_phone(service.phone) if service.phone else None, service.hours, None, service.what_to_bring)
    vacancy = referral.vacancy
    employer = vacancy.employer
    address = vacancy.address or employer.address or _place(vacancy.country, vacancy.subdivision)
    return (TARGET_KINDS["vacancy"], f"{vacancy.title}, {employer.name}", address,
            format_phone(employer.phone) if employer.phone else None, None, job_text(vacancy), vacancy.what_to_bring)


def job_text(vacancy):
    """One line about the work: occupation, where, when, wage, whether the contract was vetted."""
    parts = [f"{vacancy.occupation_code} {occupation_title(vacancy.occupation_code) or ''}".strip(),
             _place(vacancy.country, vacancy.subdivision)]
    period = f"from {vacancy.starts_on.isoformat()}"
    if vacancy.ends_on:
        period += f" to {vacancy.ends_on.isoformat()}"
    parts.append(period)
    if vacancy.wage_amount:
        parts.append(wage_text(vacancy))
    parts.append("contract vetted by the labour office" if vacancy.contract_vetted else "contract not yet vetted")
    return "; ".join(parts)


def referral_fields(referral):
    person = referral.registration.person
    kind, name, address, *_ = target_text(referral)
    return ReferralFields(
        reference=referral.reference, surname=person.surname, given_names=person.given_names,
        date_of_birth=person.date_of_birth, target_kind=kind, target_name=name, target_address=address or "",
        issued_on=referral.issued_on, due_by=referral.due_by, office_code=referral.office_code,
        officer=referral.issued_by,
    )


def _earlier(referral):
    return list(db.session.scalars(select(SlipPrint).where(SlipPrint.referral_id == referral.id)
                                   .order_by(SlipPrint.printed_at)))


def print_referral_slip(referral, actor, layout="a4", today=None):
    """Issue a referral's slip (original, COPY n, or a new original after a change) and draw it.
    Returns (pdf bytes, IssuedSlip)."""
    check_layout(layout)
    registration = referral.registration
    check_may_print(actor, registration)
    issuer = SlipIssuer(actor, layout, today)
    fields = referral_fields(referral)
    revoked = revoked_slips([registration.registration_number])
    record, payload = issuer.sign_and_record(registration, referral_digest(fields), _earlier(referral), revoked,
                                             cancelled=referral.status == "cancelled", referral=referral)
    db.session.flush()
    kind, name, address, phone, hours, job, bring = target_text(referral)
    content = ReferralSlipContent(
        reference=fields.reference, registration_number=registration.registration_number,
        surname=fields.surname, given_names=fields.given_names, date_of_birth=fields.date_of_birth,
        target_kind=kind, target_name=name, target_address=address, target_phone=phone, target_hours=hours,
        job=job, what_to_bring=bring, office=issuer.office_text(referral.office_code),
        issued_on=referral.issued_on, due_by=referral.due_by, officer=referral.issued_by,
        printed_on=payload.issued_on, copy_number=payload.copy_number, cancelled=payload.cancelled,
        short_code=payload.short_code, qr_text=payload.text(), **issuer.printing_office,
    )
    return render_slip(content, layout), IssuedSlip(record, content)


def referral_prints_of(referral):
    """The referral's slips, newest first, each with whether it is revoked."""
    records = db.session.scalars(select(SlipPrint).where(SlipPrint.referral_id == referral.id)
                                 .order_by(SlipPrint.printed_at.desc())).all()
    revoked = revoked_slips([referral.registration_number])
    return [(record, (record.registration_number, record.short_code) in revoked) for record in records]
