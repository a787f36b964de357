"""Issue, reprint, batch-print and void registration slips. Services add and flush; the caller commits.

A print of a registration whose printed fields are unchanged since its last slip is a reprint, marked COPY n.
A print after the fields changed is a new original, and every earlier slip of the registration goes on the
revocation list ("replaced"), so only the slip that matches the record verifies as genuine.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit.services import record_event
from registry.codes.geography import country_name, subdivision_name
from registry.codes.isco import occupation_title
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records
from registry.core.errors import DomainError, Forbidden, NotFound
from registry.core.types import utcnow
from registry.extensions import db
from registry.offices.models import Office
from registry.people.phones import format_phone
from registry.registration.models import Registration
from registry.registration.numbering import parse_registration_number
from registry.registration.services import get_registration
from registry.slips.keys import actor_name, check_reason, signing_key
from registry.slips.models import Revocation, SlipPrint
from registry.slips.payload import SlipFields, SlipPayload, fields_digest, normalise_short_code, sign
from registry.slips.render import LAYOUTS, SlipContent, render_batch, render_slip

MAX_BATCH = 5000
CHUNK = 500  # ids per IN (...) query
REPLACED = "replaced by a new slip after the details it printed changed"


@dataclass(frozen=True)
class IssuedSlip:
    record: SlipPrint
    content: SlipContent


def check_layout(layout):
    if layout not in LAYOUTS:
        raise DomainError(f"There is no slip layout {layout!r}: choose a4 or receipt.", field="layout")
    return layout


def check_may_print(actor, registration):
    """Officers and supervisors print their own office's slips, administrators any; commands (no user) may."""
    if actor is None or isinstance(actor, str):
        return
    if actor.role not in PERSONAL_DATA_ROLES or not can_change_office_records(actor, registration.office_code):
        raise Forbidden(f"{registration.registration_number} belongs to {registration.office_code}: only that "
                        "office's officers print its slips.")


def printed_fields(registration):
    """The fields a slip prints and its digest covers, from the registration as it is now."""
    person = registration.person
    return SlipFields(
        registration_number=registration.registration_number, surname=person.surname,
        given_names=person.given_names, date_of_birth=person.date_of_birth, sex=person.sex,
        destination_country=registration.destination_country,
        destination_subdivision=registration.destination_subdivision or "",
        occupation_code=registration.occupation_code, office_code=registration.office_code,
        registered_on=registration.registered_on, officer=registration.registered_by,
    )


def destination_text(country, subdivision):
    name = country_name(country) or country
    return f"{name}, {subdivision_name(subdivision) or subdivision}" if subdivision else name


class SlipIssuer:
    """Issues slips at this node with its current key; caches what every slip of a batch shares."""

    def __init__(self, actor, layout, today=None):
        self.actor = actor
        self.layout = check_layout(layout)
        self.today = today or date.today()
        self.key, self.private_key = signing_key(actor=actor)
        office = db.session.scalar(select(Office).where(Office.code == current_app.config["OFFICE_CODE"]))
        # What the printing office puts on every slip: its second language and where to get help.
        self.printing_office = dict(
            language=office.slip_language, helpline=office.helpline, office_address=office.address,
            office_phone=format_phone(office.phone) if office.phone else None,
        ) if office else {}
        self._offices = {}
        self._titles = {}
        self._destinations = {}

    def office_text(self, code):
        if code not in self._offices:
            office = db.session.scalar(select(Office).where(Office.code == code))
            self._offices[code] = f"{code} — {office.name}" if office else code
        return self._offices[code]

    def _occupation_text(self, code):
        if code not in self._titles:
            title = occupation_title(code)
            self._titles[code] = f"{code} — {title}" if title else code
        return self._titles[code]

    def issue(self, registration, earlier, revoked):
        """Sign and record one slip. `earlier`: the registration's slips so far; `revoked`: the (number,
        short code) pairs already on the revocation list."""
        check_may_print(self.actor, registration)
        fields = printed_fields(registration)
        record, payload = self.sign_and_record(registration, fields_digest(fields), earlier, revoked,
                                               cancelled=registration.status == "cancelled")
        return IssuedSlip(record, self.content(registration, fields, payload))

    def sign_and_record(self, registration, digest, earlier, revoked, cancelled, referral=None):
        """Sign a slip of a registration (or of one of its referrals) whose printed fields have `digest`, and
        record it: COPY n when an earlier slip had the same digest, otherwise a new original that revokes the
        earlier ones. Returns (SlipPrint, SlipPayload)."""
        same = [p for p in earlier if p.digest == digest.hex()]
        copy_number = max(p.copy_number for p in same) + 1 if same else 0
        if copy_number > 255:
            raise DomainError(f"{registration.registration_number} has been printed 255 times with the same "
                              "details; void its slips and ask head office.")
        if not same:  # the first slip, or the details changed: earlier slips no longer match the record
            for old in earlier:
                if (old.registration_number, old.short_code) not in revoked:
                    self._revoke(old, REPLACED)
                    revoked.add((old.registration_number, old.short_code))
        node = current_app.config["OFFICE_CODE"]
        payload = sign(SlipPayload(key_id=self.key.key_id, office_code=node,
                                   registration_number=registration.registration_number, issued_on=self.today,
                                   copy_number=copy_number, cancelled=cancelled, digest=digest,
                                   referral=referral is not None), self.private_key)
        record = SlipPrint(
            registration_id=registration.id, referral_id=referral.id if referral is not None else None,
            registration_number=registration.registration_number,
            office_code=node, copy_number=copy_number, issued_on=self.today, printed_at=utcnow(),
            printed_by=actor_name(self.actor), layout=self.layout, key_id=self.key.key_id, digest=digest.hex(),
            short_code=payload.short_code, cancelled=cancelled, payload=payload.text(),
        )
        db.session.add(record)
        details = {"number": registration.registration_number, "copy": copy_number, "short_code": payload.short_code,
                   "layout": self.layout, "key_id": self.key.key_id, "cancelled": cancelled}
        if referral is not None:
            details["referral"] = referral.reference
        record_event("slip.reprinted" if copy_number else "slip.printed", referral or registration,
                     actor=self.actor, details=details)
        earlier.append(record)
        return record, payload

    def _destination_text(self, country, subdivision):
        key = (country, subdivision)
        if key not in self._destinations:
            self._destinations[key] = destination_text(country, subdivision)
        return self._destinations[key]

    def content(self, registration, fields, payload):
        return SlipContent(
            registration_number=fields.registration_number, surname=fields.surname,
            given_names=fields.given_names, date_of_birth=fields.date_of_birth, sex=fields.sex,
            destination=self._destination_text(fields.destination_country, fields.destination_subdivision),
            destination_country=fields.destination_country,
            occupation=self._occupation_text(fields.occupation_code), office=self.office_text(fields.office_code),
            registered_on=fields.registered_on, officer=fields.officer, printed_on=payload.issued_on,
            copy_number=payload.copy_number, cancelled=payload.cancelled, short_code=payload.short_code,
            qr_text=payload.text(), **self.printing_office,
        )

    def _revoke(self, old, reason):
        db.session.add(Revocation(kind="slip", office_code=old.office_code, registration_number=old.registration_number,
                                  short_code=old.short_code, key_id=old.key_id, revoked_at=utcnow(),
                                  revoked_by=actor_name(self.actor), reason=reason))
        record_event("slip.revoked", old, actor=self.actor, details={
            "number": old.registration_number, "short_code": old.short_code, "reason": reason})


def _chunks(items):
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _earlier_prints(registrations):
    prints = {registration.id: [] for registration in registrations}
    for chunk in _chunks(list(prints)):
        for record in db.session.scalars(select(SlipPrint).where(SlipPrint.registration_id.in_(chunk),
                                                                 SlipPrint.referral_id.is_(None))
                                         .order_by(SlipPrint.printed_at)):
            prints[record.registration_id].append(record)
    return prints


def revoked_slips(numbers):
    """(registration number, short code) of every revoked slip of these registrations."""
    found = set()
    for chunk in _chunks(sorted(set(numbers))):
        found.update(db.session.execute(
            select(Revocation.registration_number, Revocation.short_code)
            .where(Revocation.kind == "slip", Revocation.registration_number.in_(chunk))
        ).tuples())
    return found


def issue_slips(registrations, actor, layout, today=None):
    """Sign and record a slip for each registration, in order; nothing is drawn yet."""
    check_layout(layout)
    if not registrations:
        raise DomainError("There are no registrations to print.")
    for registration in registrations:
        check_may_print(actor, registration)  # refuse the whole batch before anything is added
    issuer = SlipIssuer(actor, layout, today)
    prints = _earlier_prints(registrations)
    revoked = revoked_slips([r.registration_number for r in registrations])
    issued = [issuer.issue(registration, prints[registration.id], revoked) for registration in registrations]
    db.session.flush()
    return issued


def print_slip(number_text, actor, layout="a4", today=None):
    """Issue one registration's slip (original, COPY n, or a new original after a change) and draw it.
    Returns (pdf bytes, IssuedSlip)."""
    check_layout(layout)
    registration = get_registration(number_text)
    [issued] = issue_slips([registration], actor, layout, today)
    return render_slip(issued.content, layout), issued


def registrations_for_batch(office_code=None, on=None, numbers=None):
    """The registrations a batch prints: those made at `office_code` on `on`, or the numbers given (each
    checked: one bad number refuses the batch, naming it)."""
    if numbers:
        wanted, seen = [], set()
        for text in numbers:
            number = str(parse_registration_number(text))
            if number not in seen:
                seen.add(number)
                wanted.append(number)
        if len(wanted) > MAX_BATCH:
            raise DomainError(f"A batch holds at most {MAX_BATCH:,} slips; split the list.")
        found = {}
        for chunk in _chunks(wanted):
            found.update((r.registration_number, r) for r in db.session.scalars(
                select(Registration).options(selectinload(Registration.person))
                .where(Registration.registration_number.in_(chunk), Registration.deleted_at.is_(None))))
        missing = [number for number in wanted if number not in found]
        if missing:
            raise NotFound(f"No registration {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} in this "
                           "office's database: nothing was printed.")
        return [found[number] for number in wanted]
    if not office_code or not isinstance(on, date):
        raise DomainError("Name an office and a date, or list the registration numbers to print.")
    office_code = office_code.strip().upper()
    if db.session.scalar(select(Office.id).where(Office.code == office_code)) is None:
        raise NotFound(f"No office with code {office_code!r}.", field="office_code")
    registrations = db.session.scalars(
        select(Registration).options(selectinload(Registration.person))
        .where(Registration.office_code == office_code, Registration.registered_on == on,
               Registration.deleted_at.is_(None))
        .order_by(Registration.registration_number).limit(MAX_BATCH + 1)
    ).all()
    if not registrations:
        raise NotFound(f"No registrations were made at {office_code} on {on.isoformat()}: nothing to print.")
    if len(registrations) > MAX_BATCH:
        raise DomainError(f"More than {MAX_BATCH:,} registrations at {office_code} on {on.isoformat()}; "
                          "print them in lists.")
    return registrations


def print_batch(registrations, actor, layout="a4", today=None):
    """Issue every registration's slip and draw them all in one PDF. Returns (pdf bytes, [IssuedSlip])."""
    issued = issue_slips(registrations, actor, layout, today)
    return render_batch([slip.content for slip in issued], layout), issued


def prints_of(registration):
    """The registration's slips (its referrals' slips not included), newest first, each with whether it is
    revoked."""
    records = db.session.scalars(select(SlipPrint).where(SlipPrint.registration_id == registration.id,
                                                         SlipPrint.referral_id.is_(None))
                                 .order_by(SlipPrint.printed_at.desc())).all()
    revoked = revoked_slips([registration.registration_number])
    return [(record, (record.registration_number, record.short_code) in revoked) for record in records]


def void_slip(registration, short_code_text, reason, actor=None):
    """Put one printed slip on the revocation list (lost, misprinted, taken from its owner)."""
    check_may_print(actor, registration)
    reason = check_reason(reason, "slip")
    code = normalise_short_code(short_code_text)
    if code is None:
        raise DomainError("A short code is 8 letters and digits, as printed under the QR code (e.g. K7Q2-9XMD).",
                          field="short_code")
    record = db.session.scalar(select(SlipPrint).where(SlipPrint.registration_id == registration.id,
                                                       SlipPrint.short_code == code))
    if record is None:
        raise NotFound(f"{registration.registration_number} has no slip with short code {code}.", field="short_code")
    if (record.registration_number, code) in revoked_slips([record.registration_number]):
        raise DomainError(f"The slip {code} is already void.", field="short_code")
    revocation = Revocation(kind="slip", office_code=record.office_code,
                            registration_number=record.registration_number, short_code=code, key_id=record.key_id,
                            revoked_at=utcnow(), revoked_by=actor_name(actor), reason=reason)
    db.session.add(revocation)
    db.session.flush()
    record_event("slip.voided", registration, actor=actor, details={
        "number": record.registration_number, "short_code": code, "reason": reason})
    return revocation
