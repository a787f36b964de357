"""Complaints: a worker or a family member reports a problem (unpaid wages, contract substitution, abuse,
suspected trafficking, other) against an employer, an agency or both, optionally about one registration
and its placement. A complaint is tracked to closure: every change of status is dated, signed and noted.

Any office's officers take a complaint; the office that took it follows it up (an administrator anywhere).
Complaints count in the employer's and the agency's record (their pages show counts by kind and status).
Services add and flush; the request or command commits."""
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.audit.services import record_event
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.recruitment.models import (
    COMPLAINANTS, COMPLAINT_KINDS, COMPLAINT_STATUSES, COMPLAINT_TRANSITIONS, OPEN_COMPLAINT_STATUSES, Agency,
    Complaint, ComplaintChange,
)
from registry.referrals.models import Employer, Referral, Service, Vacancy
from registry.referrals.targets import _phone, _text

MAX_DESCRIPTION = 2000
MAX_NOTE = 500


@dataclass
class ComplaintData:
    received_on: date | None = None
    kind: str = ""
    complainant: str = "worker"
    complainant_name: str = ""
    complainant_phone: str = ""
    employer_id: str = ""  # a UUID as text, or empty
    agency_id: str = ""
    registration_number: str = ""
    description: str = ""


def check_may_take(actor):
    if actor.role not in PERSONAL_DATA_ROLES:
        raise Forbidden("Only labour officers, supervisors and administrators take complaints.")


def check_may_follow_up(actor, complaint):
    if actor.role not in PERSONAL_DATA_ROLES or not can_change_office_records(actor, complaint.office_code):
        raise Forbidden(f"This complaint was taken at {complaint.office_code}: that office's officers (or an "
                        "administrator) follow it up.")


def _record(errors, name, model, value, what):
    """The live row of `model` whose id is `value` (text or UUID), None when empty; an error when unknown."""
    if value in (None, ""):
        return None
    try:
        record_id = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        record_id = None
    record = db.session.get(model, record_id) if record_id else None
    if record is None or record.is_deleted:
        errors[name] = [f"There is no such {what}: choose one from the list."]
        return None
    return record


def _placement(registration, employer, agency):
    """The registration's placement with this employer or agency (the latest), if any."""
    query = (select(Referral).join(Referral.vacancy)
             .where(Referral.registration_id == registration.id, Referral.status == "placed",
                    Referral.deleted_at.is_(None)).order_by(Referral.sequence.desc()))
    if employer is not None:
        query = query.where(Vacancy.employer_id == employer.id)
    if agency is not None:
        query = query.where(Vacancy.agency_id == agency.id)
    return db.session.scalars(query).first()


def file_complaint(data, actor, today=None):
    """Take a complaint; refused with every reason, leaving nothing behind, when it is about no one, about an
    unknown employer or agency, undescribed or badly dated."""
    from flask import current_app

    from registry.registration.services import get_registration

    today = today or date.today()
    check_may_take(actor)
    errors = {}
    if data.kind not in COMPLAINT_KINDS:
        errors["kind"] = ["Choose what the complaint is about: " + ", ".join(
            label.lower() for label in COMPLAINT_KINDS.values()) + "."]
    if data.complainant not in COMPLAINANTS:
        errors["complainant"] = ["Say who complains: the worker, a family member or someone else."]
    if not isinstance(data.received_on, date):
        errors["received_on"] = ["Enter the day the complaint was received, as YYYY-MM-DD."]
    elif data.received_on > today:
        errors["received_on"] = ["The day a complaint was received cannot be in the future."]
    employer = _record(errors, "employer_id", Employer, data.employer_id, "employer")
    agency = _record(errors, "agency_id", Agency, data.agency_id, "recruitment agency")
    if not (data.employer_id or data.agency_id):
        errors["employer_id"] = ["Say whom the complaint is against: an employer, an agency or both."]
    registration = None
    if (data.registration_number or "").strip():
        try:
            registration = get_registration(data.registration_number)
        except DomainError as exc:
            errors["registration_number"] = [exc.message]
    name = _text(errors, "complainant_name", data.complainant_name, 160)
    phone_errors = {}
    phone = _phone(phone_errors, data.complainant_phone, "ZW")
    if phone_errors:
        errors["complainant_phone"] = phone_errors["phone"]
    description = _text(errors, "description", data.description, MAX_DESCRIPTION,
                        required="Describe the problem: what happened, where and when.")
    if errors:
        raise ValidationFailed(errors)
    complaint = Complaint(
        received_on=data.received_on, received_by=actor.username, office_code=current_app.config["OFFICE_CODE"],
        kind=data.kind, complainant=data.complainant, complainant_name=name, complainant_phone=phone,
        employer_id=employer.id if employer else None, employer=employer,
        agency_id=agency.id if agency else None, agency=agency,
        registration_id=registration.id if registration else None, registration=registration,
        description=description, status="received", status_changed_on=data.received_on)
    placement = _placement(registration, employer, agency) if registration else None
    if placement is not None:
        complaint.referral_id, complaint.referral = placement.id, placement
    db.session.add(complaint)
    db.session.flush()
    db.session.add(ComplaintChange(complaint_id=complaint.id, complaint=complaint, status="received",
                                   changed_on=data.received_on, changed_by=actor.username,
                                   office_code=complaint.office_code, note="Complaint received."))
    db.session.flush()
    record_event("complaint.received", complaint, actor=actor, details={
        "kind": data.kind, "employer": employer.name if employer else None, "agency": agency.name if agency else None,
        "registration": registration.registration_number if registration else None})
    return complaint


def change_complaint_status(complaint, status, on, note, expected_version, actor, today=None):
    """Move a complaint on (under investigation, referred, resolved, closed without action) on a day, with a
    note saying what was done."""
    from flask import current_app

    today = today or date.today()
    check_may_follow_up(actor, complaint)
    if complaint.version != expected_version:
        raise StaleVersion("Someone changed this complaint since you opened it. Reload it and enter your change "
                           "again.")
    errors = {}
    if status not in COMPLAINT_STATUSES or status == "received":
        errors["status"] = ["Choose the complaint's new state."]
    elif status not in COMPLAINT_TRANSITIONS[complaint.status]:
        allowed = ", ".join(COMPLAINT_STATUSES[s].lower() for s in COMPLAINT_TRANSITIONS[complaint.status])
        errors["status"] = [f"This complaint is {COMPLAINT_STATUSES[complaint.status].lower()}: it can become "
                            f"{allowed or 'nothing else'}."]
    if not isinstance(on, date):
        errors["on"] = ["Enter the day of the change, as YYYY-MM-DD."]
    elif on > today:
        errors["on"] = ["The day of a change cannot be in the future."]
    elif on < complaint.status_changed_on:
        what = "received" if complaint.status == "received" else COMPLAINT_STATUSES[complaint.status].lower()
        errors["on"] = [f"The complaint was {what} on {complaint.status_changed_on.isoformat()}: a later change "
                        "cannot come before that."]
    text = _text(errors, "note", note, MAX_NOTE, required="Say what was done (a note is kept with every change).")
    if errors:
        raise ValidationFailed(errors)
    before = complaint.status
    complaint.status, complaint.status_changed_on = status, on
    db.session.add(ComplaintChange(complaint_id=complaint.id, complaint=complaint, status=status, changed_on=on,
                                   changed_by=actor.username, office_code=current_app.config["OFFICE_CODE"],
                                   note=text))
    db.session.flush()
    record_event("complaint.status_changed", complaint, actor=actor, details={
        "before": before, "after": status, "on": on.isoformat()})
    return complaint


def get_complaint(complaint_id):
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or complaint.is_deleted:
        raise NotFound("There is no such complaint.")
    return complaint


def changes_of(complaint):
    return db.session.scalars(select(ComplaintChange).where(
        ComplaintChange.complaint_id == complaint.id, ComplaintChange.deleted_at.is_(None))
        .order_by(ComplaintChange.changed_on, ComplaintChange.updated_at)).all()


def list_complaints(state="open"):
    """Complaints, trafficking first, then oldest received: open ones, every one, or one status."""
    query = (select(Complaint).where(Complaint.deleted_at.is_(None))
             .options(selectinload(Complaint.employer), selectinload(Complaint.agency),
                      selectinload(Complaint.registration)))
    if state == "open":
        query = query.where(Complaint.status.in_(OPEN_COMPLAINT_STATUSES))
    elif state in COMPLAINT_STATUSES:
        query = query.where(Complaint.status == state)
    elif state not in ("", "all"):
        raise ValidationFailed({"state": [f"Unknown state {state!r}."]})
    complaints = db.session.scalars(query.order_by(Complaint.received_on, Complaint.updated_at)).all()
    return sorted(complaints, key=lambda c: (c.kind != "trafficking" or not c.is_open, c.received_on))


@dataclass
class ComplaintCounts:
    """Complaints against one employer or agency: {kind: {status: count}}, with totals."""
    cells: dict
    total: int
    open: int

    def count(self, kind, status):
        return self.cells.get(kind, {}).get(status, 0)

    def kind_total(self, kind):
        return sum(self.cells.get(kind, {}).values())


def complaint_counts(employer=None, agency=None):
    """The complaints in an employer's or an agency's record, counted by kind and status (no personal data)."""
    column = Complaint.employer_id if employer is not None else Complaint.agency_id
    record = employer if employer is not None else agency
    rows = db.session.execute(select(Complaint.kind, Complaint.status, func.count()).where(
        column == record.id, Complaint.deleted_at.is_(None)).group_by(Complaint.kind, Complaint.status)).all()
    cells = {}
    for kind, status, count in rows:
        cells.setdefault(kind, {})[status] = count
    total = sum(count for _, _, count in rows)
    still = sum(count for _, status, count in rows if status in OPEN_COMPLAINT_STATUSES)
    return ComplaintCounts(cells, total, still)


def trafficking_services():
    """Active services supporting victims of trafficking, for a complaint of suspected trafficking."""
    return db.session.scalars(select(Service).where(
        Service.kind == "trafficking", Service.active.is_(True), Service.deleted_at.is_(None))
        .order_by(Service.name)).all()
