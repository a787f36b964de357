"""Check a slip: from its scanned QR payload, or from its registration number and short code.

Everything a check needs reaches every office by sync (public keys, slip records, revocations,
registrations), so any office answers offline. The answer shows no more personal data than the slip itself:
the printed fields when the slip is genuine, nothing personal otherwise. Every check is an audit event;
input that is not a slip code or number at all is refused with a message and changes nothing.
"""
import enum
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from registry.audit.services import record_event
from registry.core.errors import DomainError
from registry.extensions import db
from registry.registration.models import Registration
from registry.registration.numbering import parse_registration_number
from registry.slips.models import Revocation, SigningKey, SlipPrint
from registry.slips.payload import (
    PayloadInvalid, fields_digest, normalise_short_code, parse_payload, referral_digest,
)
from registry.slips.referral_slips import referral_fields
from registry.slips.services import printed_fields


REFERENCE_SUFFIX = re.compile(r"\s*/\s*R\s*\d+$", re.IGNORECASE)


class Verdict(enum.Enum):
    GENUINE = "genuine"
    ALTERED = "altered"
    UNKNOWN = "unknown"
    REVOKED = "revoked"


class NotASlip(DomainError):
    """The input is not a slip code or a registration number and short code: nothing was checked."""


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    reason: str
    payload: object = None  # the SlipPayload checked, when there was one
    registration: Registration | None = None  # set only for a genuine slip whose registration is held here
    referral: object = None  # set only for a genuine referral slip whose referral is held here
    notes: tuple = field(default_factory=tuple)

    @property
    def genuine(self):
        return self.verdict is Verdict.GENUINE

    def line(self):
        """One line for a terminal: the verdict, the slip, and why."""
        slip = ""
        if self.payload is not None:
            copy = f" copy {self.payload.copy_number}" if self.payload.copy_number else ""
            payload = self.payload
            slip = f" {payload.registration_number}{copy} issued {payload.issued_on} at {payload.office_code}:"
        notes = "".join(f" {note}" for note in self.notes)
        return f"{self.verdict.value}:{slip} {self.reason}{notes}"


def _revocation(**criteria):
    """The first revocation matching; tombstoned ones included, since a revocation is never undone."""
    query = select(Revocation)
    for name, value in criteria.items():
        query = query.where(getattr(Revocation, name) == value)
    return db.session.scalars(query.order_by(Revocation.revoked_at).limit(1)).first()


def check_payload(payload):
    """The verdict on one parsed payload, from what this node holds."""
    key = db.session.scalar(select(SigningKey).where(SigningKey.key_id == payload.key_id))
    if key is None:
        return Verification(Verdict.UNKNOWN, "it was signed with a key this office does not know. A slip printed "
                            "elsewhere in the last hours may not have reached this office yet: sync and check again. "
                            "Otherwise it is forged.", payload)
    # A key row counts only as the key of the office that created it, and only for slips naming that office.
    if key.office_code != key.origin_office or key.office_code != payload.office_code:
        return Verification(Verdict.ALTERED, f"it says it was printed at {payload.office_code} but the key that "
                            f"signed it is not that office's: it is forged.", payload)
    if not payload.signature_valid(bytes.fromhex(key.public_key)):
        return Verification(Verdict.ALTERED, "its code does not match its signature: the code was altered, or the "
                            "slip is forged.", payload)
    revoked_key = _revocation(kind="key", key_id=key.key_id)
    if revoked_key is not None:
        return Verification(Verdict.REVOKED, f"the key that signed it was revoked on {revoked_key.revoked_at:%Y-%m-%d} "
                            f"({revoked_key.reason}): the office must print a new slip.", payload)
    revoked_slip = _revocation(kind="slip", registration_number=payload.registration_number,
                               short_code=payload.short_code)
    if revoked_slip is not None:
        return Verification(Verdict.REVOKED, f"this slip was voided on {revoked_slip.revoked_at:%Y-%m-%d} "
                            f"({revoked_slip.reason}).", payload)
    if payload.referral:
        return _check_referral(payload)
    registration = db.session.scalar(
        select(Registration).where(Registration.registration_number == payload.registration_number))
    if registration is None or registration.is_deleted:
        return Verification(Verdict.GENUINE, f"the signature of {payload.office_code} is valid. This office holds no "
                            "copy of the registration yet, so the printed details could not be compared.", payload,
                            notes=("Compare the slip with the registration number, office and date shown here.",))
    if fields_digest(printed_fields(registration)) != payload.digest:
        return Verification(Verdict.ALTERED, "the signature is valid, but the registration's details are not the "
                            "ones this slip was printed with: the record was changed after printing, or the slip "
                            "is not the one the office printed. Ask the office for a new slip.", payload)
    notes = []
    if registration.status == "cancelled":
        notes.append(f"The registration was cancelled on {registration.status_changed_on}.")
    return Verification(Verdict.GENUINE, f"signed by {payload.office_code}; the details match the registration.",
                        payload, registration=registration, notes=tuple(notes))


def _check_referral(payload):
    """A referral slip with a valid signature: compare it with the referral it was printed for."""
    record = db.session.scalar(select(SlipPrint).where(
        SlipPrint.registration_number == payload.registration_number, SlipPrint.short_code == payload.short_code))
    referral = record.referral if record is not None else None
    if referral is None or referral.is_deleted:
        return Verification(Verdict.GENUINE, f"the signature of {payload.office_code} is valid. This office holds no "
                            "copy of the referral yet, so the printed details could not be compared.", payload,
                            notes=("Compare the slip with the registration number, office and date shown here.",))
    if referral_digest(referral_fields(referral)) != payload.digest:
        return Verification(Verdict.ALTERED, "the signature is valid, but the referral's details are not the ones "
                            "this slip was printed with: the referral was changed after printing, or the slip is not "
                            "the one the office printed. Ask the office for a new slip.", payload)
    notes = []
    if referral.status == "cancelled":
        notes.append(f"The referral was cancelled on {referral.outcome_on}.")
    return Verification(Verdict.GENUINE, f"signed by {payload.office_code}; the details match the referral.",
                        payload, referral=referral, notes=tuple(notes))


def _audit(result, method, actor):
    payload = result.payload
    details = {"verdict": result.verdict.value, "method": method, "reason": result.reason}
    if payload is not None:
        details.update(number=payload.registration_number, short_code=payload.short_code, key_id=payload.key_id,
                       copy=payload.copy_number, office=payload.office_code)
    entity = db.session.scalar(select(Registration).where(
        Registration.registration_number == payload.registration_number)) if payload is not None else None
    record_event("slip.verified", entity, actor=actor, details=details)


def verify_payload(text, actor=None):
    """Check a scanned QR payload; raise NotASlip (nothing recorded) when the text is not one."""
    try:
        payload = parse_payload(text)
    except PayloadInvalid as exc:
        raise NotASlip(str(exc), field="code") from None
    result = check_payload(payload)
    _audit(result, "qr", actor)
    return result


def verify_typed(number_text, short_code_text, actor=None):
    """Check a slip from its registration number and short code, typed from the paper. The answer for a
    wrong code is the same whether or not the number exists, so the page tells nothing about who registered."""
    typed = (number_text or "").strip()
    suffix = REFERENCE_SUFFIX.search(typed)
    sequence = int("".join(ch for ch in suffix.group() if ch.isdigit())) if suffix else None
    try:
        # A referral slip prints its reference (BBR-2026-000123-K/R2): the registration number is its first part.
        number = str(parse_registration_number(REFERENCE_SUFFIX.sub("", typed)))
    except DomainError as exc:
        raise NotASlip(exc.message, field="number") from None
    code = normalise_short_code(short_code_text)
    if code is None:
        raise NotASlip("A short code is 8 letters and digits, as printed under the QR code (e.g. K7Q2-9XMD).",
                       field="short_code")
    record = db.session.scalar(select(SlipPrint).where(SlipPrint.registration_number == number,
                                                       SlipPrint.short_code == code))
    if record is not None and sequence is not None and (record.referral is None or
                                                        record.referral.sequence != sequence):
        record = None  # the short code is of another slip than the referral typed: no match
    if record is None:
        result = Verification(Verdict.UNKNOWN, "no slip with this registration number and short code is known at "
                              "this office. Check both against the slip; a slip printed elsewhere in the last hours "
                              "may not have reached this office yet.")
        record_event("slip.verified", None, actor=actor, details={
            "verdict": result.verdict.value, "method": "typed", "reason": result.reason, "number": number,
            "short_code": code})
        return result
    result = check_payload(parse_payload(record.payload))
    _audit(result, "typed", actor)
    return result
