"""After departure: returns (record one, the recent ones, the overdue list) and complaints against employers
and agencies. Routes on the `recruitment` blueprint: personal data, so officers, supervisors and
administrators of any office; following up a complaint is the taking office's (registry.recruitment.complaints)."""
import uuid
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records, roles_required
from registry.core.errors import DomainError, NotFound
from registry.core.forms import show_errors
from registry.matching.candidates import rank_candidates
from registry.matching.normalise import BadRecord
from registry.recruitment.agencies import list_agencies
from registry.recruitment.complaints import (
    ComplaintData, change_complaint_status, changes_of, file_complaint, get_complaint, list_complaints,
    trafficking_services,
)
from registry.recruitment.forms import ComplaintForm, ComplaintStatusForm, FindReturningForm, ReturnForm
from registry.recruitment.models import (
    COMPLAINANTS, COMPLAINT_KINDS, COMPLAINT_STATUSES, COMPLAINT_TRANSITIONS, RETURN_REASONS,
)
from registry.recruitment.returns import (
    ReturnData, departed_on, departed_registrations_of, expected_return_on, overdue_returns, placement_of,
    recent_returns, return_of, return_services, record_return,
)
from registry.recruitment.views import bp
from registry.referrals.models import SERVICE_KINDS
from registry.referrals.targets import list_employers
from registry.registration.services import get_registration


@bp.app_template_filter("return_reason")
def return_reason(value):
    return RETURN_REASONS.get(value, value or "—")


@bp.app_template_filter("complaint_kind")
def complaint_kind(value):
    return COMPLAINT_KINDS.get(value, value or "—")


@bp.app_template_filter("complaint_status")
def complaint_status(value):
    return COMPLAINT_STATUSES.get(value, value or "—")


@bp.app_template_global()
def worker_return_of(registration):
    return return_of(registration)


@bp.app_context_processor
def complaint_labels():
    return {"complaint_kinds": COMPLAINT_KINDS, "complaint_statuses": COMPLAINT_STATUSES}


# Returns ------------------------------------------------------------------------------------------------

@bp.get("/returns/")
@roles_required(*PERSONAL_DATA_ROLES)
def returns():
    return render_template("recruitment/returns.html", returns=recent_returns(),
                           overdue=len(overdue_returns()))


@bp.get("/returns/find")
@roles_required(*PERSONAL_DATA_ROLES)
def find_returning():
    """Look a returning worker up: a registration number goes straight to its return form; who they are
    ranks the stored people most likely to be them (identity matching) with their registrations abroad."""
    form = FindReturningForm(request.args)
    matches, registrations, searched = [], {}, False
    if form.validate() and (form.number.data or "").strip():
        try:
            registration = get_registration(form.number.data)
        except DomainError as exc:
            form.number.errors = list(form.number.errors) + [exc.message]
        else:
            return redirect(url_for("recruitment.new_return", number=registration.registration_number))
    elif form.validate() and (form.surname.data or form.national_id.data or form.passport_number.data):
        searched = True
        try:
            matches = rank_candidates({
                "surname": form.surname.data or "", "given_names": form.given_names.data or "",
                "date_of_birth": form.date_of_birth.data, "national_id": form.national_id.data or "",
                "passport_number": form.passport_number.data or ""}, limit=10)
        except BadRecord as exc:
            flash(f"Cannot look this up: {exc}.", "error")
        registrations = departed_registrations_of([match.person.id for match in matches])
    return render_template("recruitment/find_returning.html", form=form, matches=matches,
                           registrations=registrations, searched=searched)


def _registration_or_404(number):
    try:
        return get_registration(number)
    except DomainError:
        abort(404)


def _service_ids(values):
    try:
        return [uuid.UUID(value) for value in values if value]
    except ValueError:
        return [None]  # refused by the service with the list's message


@bp.route("/registrations/<number>/return", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def new_return(number):
    registration = _registration_or_404(number)
    services = return_services()
    form = ReturnForm()
    form.services.choices = [(str(s.id), f"{s.name} ({SERVICE_KINDS[s.kind]})") for s in services]
    if form.validate_on_submit():
        data = ReturnData(returned_on=form.returned_on.data, reason=form.reason.data,
                          wages_owed_amount=form.wages_owed_amount.data,
                          wages_owed_currency=form.wages_owed_currency.data, note=form.note.data,
                          service_ids=_service_ids(form.services.data), due_by=form.due_by.data)
        try:
            row, referrals = record_return(registration, data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            message = f"Return of {registration.registration_number} recorded on {row.returned_on.isoformat()}."
            if referrals:
                message += " Referred to " + ", ".join(r.target.name for r in referrals) + " (" + ", ".join(
                    r.reference for r in referrals) + "): print their slips from each referral's page."
            flash(message, "info")
            return redirect(url_for("registration.show", number=registration.registration_number))
    placement = placement_of(registration)
    left = departed_on(registration, placement) if registration.status == "departed" else None
    return render_template(
        "recruitment/return_form.html", form=form, registration=registration, person=registration.person,
        placement=placement, left_on=left, existing=return_of(registration),
        expected=expected_return_on(placement.vacancy, left) if placement and left else None)


@bp.get("/returns/overdue")
@roles_required(*PERSONAL_DATA_ROLES)
def overdue():
    return render_template("recruitment/overdue_returns.html", rows=overdue_returns(), today=date.today())


# Complaints ---------------------------------------------------------------------------------------------

@bp.get("/complaints/")
@roles_required(*PERSONAL_DATA_ROLES)
def complaints():
    state = request.args.get("state", "open")
    try:
        rows = list_complaints(state)
    except DomainError:
        abort(400)
    return render_template("recruitment/complaints.html", complaints=rows, state=state,
                           statuses=COMPLAINT_STATUSES)


def _complaint_choices(form):
    form.employer_id.choices = [("", "—")] + [(str(e.id), e.name) for e in list_employers()]
    form.agency_id.choices = [("", "—")] + [(str(a.id), f"{a.name} ({a.licence_number})") for a in list_agencies()]


@bp.route("/complaints/new", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def new_complaint():
    form = ComplaintForm()
    if request.method == "GET":
        form.registration_number.data = request.args.get("registration", "")
        form.employer_id.data = request.args.get("employer", "")
        form.agency_id.data = request.args.get("agency", "")
    _complaint_choices(form)
    if form.validate_on_submit():
        data = ComplaintData(**{name: getattr(form, name).data or ("" if name != "received_on" else None)
                                for name in ComplaintData.__dataclass_fields__})
        try:
            complaint = file_complaint(data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Complaint recorded." + (" Suspected trafficking: refer the person to trafficking support now."
                                           if complaint.kind == "trafficking" else ""),
                  "error" if complaint.kind == "trafficking" else "info")
            return redirect(url_for("recruitment.complaint", complaint_id=complaint.id))
    return render_template("recruitment/complaint_form.html", form=form, complainants=COMPLAINANTS)


def _complaint_or_404(complaint_id):
    try:
        return get_complaint(complaint_id)
    except NotFound:
        abort(404)


def _complaint_page(complaint, form=None):
    form = form or ComplaintStatusForm(version=complaint.version)
    allowed = COMPLAINT_TRANSITIONS[complaint.status]
    form.status.choices = [c for c in form.status.choices if c.value in allowed]
    registration = complaint.registration
    return render_template(
        "recruitment/complaint.html", complaint=complaint, changes=changes_of(complaint), form=form,
        may_follow_up=can_change_office_records(current_user, complaint.office_code) and bool(allowed),
        trafficking_services=trafficking_services() if complaint.kind == "trafficking" else [],
        may_refer=registration is not None and can_change_office_records(current_user, registration.office_code)
        and registration.status in ("registered", "referred", "departed", "returned"))


@bp.get("/complaints/<uuid:complaint_id>")
@roles_required(*PERSONAL_DATA_ROLES)
def complaint(complaint_id):
    return _complaint_page(_complaint_or_404(complaint_id))


@bp.post("/complaints/<uuid:complaint_id>/status")
@roles_required(*PERSONAL_DATA_ROLES)
def complaint_status_change(complaint_id):
    complaint = _complaint_or_404(complaint_id)
    if not can_change_office_records(current_user, complaint.office_code):
        abort(403)
    form = ComplaintStatusForm()
    if form.validate_on_submit():
        try:
            change_complaint_status(complaint, form.status.data, form.on.data, form.note.data, form.version.data,
                                    current_user)
        except DomainError as exc:
            show_errors(form, exc)
            return _complaint_page(_complaint_or_404(complaint_id), form)
        flash(f"The complaint is now {COMPLAINT_STATUSES[complaint.status].lower()}.", "info")
        return redirect(url_for("recruitment.complaint", complaint_id=complaint.id))
    return _complaint_page(complaint, form)
