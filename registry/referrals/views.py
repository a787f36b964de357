"""Refer a registration, record outcomes, print referral slips, and the lists of open and overdue referrals."""
import uuid
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from registry.audit.services import history_of, record_event
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records, roles_required
from registry.core.errors import DomainError, NotFound
from registry.core.forms import show_errors
from registry.extensions import db
from registry.referrals import bp
from registry.referrals.forms import OutcomeForm, ReferForm, ReferralFilterForm
from registry.referrals.models import REFERRAL_TRANSITIONS, SERVICE_KINDS
from registry.referrals.services import (
    ReferralFilters, filtered_referrals, get_referral, is_overdue, issue_referral, record_outcome, referral_counts,
    referrals_of,
)
from registry.referrals.targets import get_service, get_vacancy, list_services, list_vacancies
from registry.registration.numbering import InvalidRegistrationNumber
from registry.registration.services import get_registration
from registry.slips.forms import PrintForm
from registry.slips.referral_slips import print_referral_slip, referral_prints_of
from registry.slips.views import pdf_response


def _registration_or_404(number):
    try:
        return get_registration(number)
    except (NotFound, InvalidRegistrationNumber):
        abort(404)


def _referral_or_404(number, sequence):
    registration = _registration_or_404(number)
    try:
        return get_referral(registration, sequence)
    except NotFound:
        abort(404)


def target_choices(today=None):
    """The refer form's choices: active services grouped by kind, then the vacancies taking referrals."""
    choices = [SelectChoice("", "—")]
    for service in list_services(active_only=True):
        choices.append(SelectChoice(f"service:{service.id}", service.name, optgroup=SERVICE_KINDS[service.kind]))
    for vacancy, placed in list_vacancies(open_only=True, today=today):
        label = (f"{vacancy.title}, {vacancy.employer.name} ({vacancy.country}; {vacancy.places - placed} of "
                 f"{vacancy.places} places left)")
        choices.append(SelectChoice(f"vacancy:{vacancy.id}", label, optgroup="Vacancies"))
    return choices


def parse_target(value):
    """'service:<uuid>' or 'vacancy:<uuid>' from the refer form -> the Service or Vacancy, or None."""
    kind, _, text = (value or "").partition(":")
    try:
        record_id = uuid.UUID(text)
        if kind == "service":
            return get_service(record_id)
        if kind == "vacancy":
            return get_vacancy(record_id)
    except (ValueError, NotFound):
        pass
    return None


@bp.get("/referrals/")
@roles_required(*PERSONAL_DATA_ROLES)
def index():
    form = ReferralFilterForm(request.args)
    office = current_app.config["OFFICE_CODE"] if current_app.config["REGISTRY_ROLE"] == "office" else ""
    if "office_code" not in request.args:
        form.office_code.data = office
    page = None
    if form.validate():
        filters = ReferralFilters(office_code=(form.office_code.data or "").strip().upper(),
                                  state=form.state.data or "open", kind=form.kind.data or "")
        try:
            query = filtered_referrals(filters)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)
    args = {key: value for key, value in request.args.items() if key != "page"}
    counts = referral_counts(office) if office else None
    return render_template("referrals/index.html", form=form, page=page, args=args, counts=counts,
                           today=date.today(), is_overdue=is_overdue)


@bp.route("/registrations/<number>/refer", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def refer(number):
    registration = _registration_or_404(number)
    if not can_change_office_records(current_user, registration.office_code):
        abort(403)
    form = ReferForm()
    form.target.choices = target_choices()
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
    if form.validate_on_submit():
        target = parse_target(form.target.data)
        try:
            referral = issue_referral(registration, target, form.due_by.data, current_user, note=form.note.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Referral {referral.reference} issued. Print its slip for the person to take along.", "info")
            return redirect(url_for("referrals.show", number=registration.registration_number,
                                    sequence=referral.sequence))
    return render_template("referrals/refer.html", form=form, registration=registration,
                           person=registration.person, referrals=referrals_of(registration))


@bp.get("/registrations/<number>/referrals/<int:sequence>")
@roles_required(*PERSONAL_DATA_ROLES)
def show(number, sequence):
    referral = _referral_or_404(number, sequence)
    form = OutcomeForm(version=referral.version, on=date.today())
    allowed = REFERRAL_TRANSITIONS[referral.status]
    form.status.choices = [choice for choice in form.status.choices if choice.value in allowed
                           and (choice.value != "placed" or referral.vacancy_id)]
    can_change = can_change_office_records(current_user, referral.office_code)
    record_event("referral.viewed", referral, details={"reference": referral.reference})
    return render_template("referrals/show.html", referral=referral, registration=referral.registration,
                           person=referral.registration.person, form=form, can_change=can_change,
                           slips=referral_prints_of(referral), overdue=is_overdue(referral),
                           history=history_of(referral))


@bp.post("/registrations/<number>/referrals/<int:sequence>/outcome")
@roles_required(*PERSONAL_DATA_ROLES)
def outcome(number, sequence):
    referral = _referral_or_404(number, sequence)
    form = OutcomeForm()
    form.status.choices = [(key, key) for key in REFERRAL_TRANSITIONS[referral.status]]
    if form.validate_on_submit():
        try:
            record_outcome(referral, form.status.data, form.on.data, form.version.data, current_user,
                           note=form.note.data)
        except DomainError as exc:
            db.session.rollback()
            for message in exc.messages:
                flash(message, "error")
        else:
            flash(f"Referral {referral.reference}: {referral.status.replace('_', ' ')}.", "info")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("referrals.show", number=referral.registration_number, sequence=referral.sequence))


@bp.post("/registrations/<number>/referrals/<int:sequence>/slip")
@roles_required(*PERSONAL_DATA_ROLES)
def print_slip(number, sequence):
    referral = _referral_or_404(number, sequence)
    back = url_for("referrals.show", number=referral.registration_number, sequence=referral.sequence)
    form = PrintForm()
    if not form.validate_on_submit():
        flash("Choose a layout (A4 or receipt) to print the slip.", "error")
        return redirect(back)
    try:
        pdf, issued = print_referral_slip(referral, current_user, form.layout.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    copy = f"-copy{issued.record.copy_number}" if issued.record.copy_number else ""
    name = f"referral-{referral.registration_number}-R{referral.sequence}{copy}-{form.layout.data}.pdf"
    return pdf_response(pdf, name)
