"""Recruitment pages: agencies (blueprint `agencies`, no personal data: every role sees them; supervisors and
administrators manage them), and per job order the contract vetting, the shortlist and the selection of
candidates (blueprint `recruitment`: the roles that see personal data)."""
import uuid
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core.access import (
    ADMIN, ALL_ROLES, PERSONAL_DATA_ROLES, SUPERVISOR, can_change_office_records, roles_required,
)
from registry.core.errors import DomainError, NotFound
from registry.core.forms import fill_from, show_errors
from registry.extensions import db
from registry.recruitment.agencies import (
    AgencyData, agency_orders, create_agency, get_agency, list_agencies, update_agency,
)
from registry.recruitment.complaints import complaint_counts
from registry.recruitment.forms import (
    AgencyForm, GroupListForm, ReferCandidatesForm, ShortlistForm, StepForm, UndoStepForm, VettingForm,
)
from registry.recruitment.models import AGENCY_STATUSES, SELECTION_STEPS, STEP_ORDER
from registry.recruitment.orders import CHECKLIST, orders_fitting, publish_blockers, record_vetting, vetting_state
from registry.recruitment.selection import (
    current_step, job_order_referrals, next_step, print_group_list, record_steps, steps_of, undo_step,
)
from registry.recruitment.shortlist import DEFAULT_LIMIT, MAX_LIMIT, build_shortlist, refer_candidates
from registry.referrals.targets import get_vacancy, may_manage, placed_count, vacancy_closed_reason
from registry.registration.models import Registration
from registry.slips.views import pdf_response

bp = Blueprint("recruitment", __name__)  # shortlists, selection, group lists: personal data
agencies_bp = Blueprint("agencies", __name__)  # recruitment agencies: no personal data

MANAGERS = (SUPERVISOR, ADMIN)
AGENCY_FIELDS = tuple(AgencyData.__dataclass_fields__)


def _or_404(getter, record_id):
    try:
        return getter(record_id)
    except NotFound:
        abort(404)


def _ids(name):
    """The UUIDs posted as repeated `name` values; a malformed one is a bad request."""
    try:
        return [uuid.UUID(value) for value in request.form.getlist(name)]
    except ValueError:
        abort(400)


@bp.app_template_filter("agency_status")
def agency_status(value):
    return AGENCY_STATUSES.get(value, value or "—")


@bp.app_template_filter("vetting_state")
def vetting_state_filter(vacancy):
    return vetting_state(vacancy)


@bp.app_template_global()
def fitting_job_orders(registration):
    """For the registration page: open job orders that fit the person, with why."""
    return orders_fitting(registration)


# Agencies -----------------------------------------------------------------------------------------------

@agencies_bp.get("/agencies/")
@roles_required(*ALL_ROLES)
def index():
    return render_template("recruitment/agencies.html", agencies=list_agencies(), today=date.today(),
                           can_manage=may_manage(current_user))


@agencies_bp.route("/agencies/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = AgencyForm(default_country="ZA")
    if form.validate_on_submit():
        try:
            agency = create_agency(fill_from(AgencyData(), form, AGENCY_FIELDS), current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Agency {agency.name} added; it reaches every office at their next sync.", "info")
            return redirect(url_for("agencies.show", agency_id=agency.id))
    return render_template("recruitment/agency_form.html", form=form, agency=None)


@agencies_bp.get("/agencies/<uuid:agency_id>")
@roles_required(*ALL_ROLES)
def show(agency_id):
    agency = _or_404(get_agency, agency_id)
    return render_template("recruitment/agency.html", agency=agency, orders=agency_orders(agency),
                           problem=agency.licence_problem(date.today()), can_manage=may_manage(current_user, agency),
                           complaints=complaint_counts(agency=agency))


@agencies_bp.route("/agencies/<uuid:agency_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(agency_id):
    agency = _or_404(get_agency, agency_id)
    if not may_manage(current_user, agency):
        abort(403)
    form = AgencyForm(obj=agency if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            update_agency(agency, fill_from(AgencyData(), form, AGENCY_FIELDS), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Agency {agency.name} saved.", "info")
            return redirect(url_for("agencies.show", agency_id=agency.id))
    return render_template("recruitment/agency_form.html", form=form, agency=agency)


# Contract vetting ---------------------------------------------------------------------------------------

@bp.route("/vacancies/<uuid:vacancy_id>/vetting", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def vetting(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    form = VettingForm()
    if request.method == "GET":
        form.version.data = vacancy.version
        for point, passed in (vacancy.vetting_checklist or {}).items():
            if point in CHECKLIST:
                getattr(form, point).data = "pass" if passed else "fail"
    if form.validate_on_submit():
        try:
            record_vetting(vacancy, form.results(), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            blockers = publish_blockers(vacancy)
            if blockers:
                flash("Vetting recorded. The job order cannot be published: " + "; ".join(blockers) + ".", "error")
            else:
                flash("Vetting recorded: the contract meets every point.", "info")
            return redirect(url_for("targets.vacancy", vacancy_id=vacancy.id))
    return render_template("recruitment/vetting.html", form=form, vacancy=vacancy, points=CHECKLIST)


# Shortlist ----------------------------------------------------------------------------------------------

@bp.get("/vacancies/<uuid:vacancy_id>/shortlist")
@roles_required(*PERSONAL_DATA_ROLES)
def shortlist(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    filters = ShortlistForm(request.args)
    limit = filters.limit.data if filters.validate() and filters.limit.data else DEFAULT_LIMIT
    limit = min(max(limit, 1), MAX_LIMIT)
    return _shortlist_page(vacancy, limit, ReferCandidatesForm())


def _shortlist_page(vacancy, limit, form, chosen=()):
    result = build_shortlist(vacancy, limit=limit)
    return render_template(
        "recruitment/shortlist.html", vacancy=vacancy, shortlist=result, form=form, limit=limit,
        closed_reason=vacancy_closed_reason(vacancy, date.today(), result.placed), chosen=set(chosen),
        may_refer=lambda registration: can_change_office_records(current_user, registration.office_code))


@bp.post("/vacancies/<uuid:vacancy_id>/shortlist")
@roles_required(*PERSONAL_DATA_ROLES)
def refer_from_shortlist(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    form = ReferCandidatesForm()
    # One click on a candidate's own button refers that candidate only; the main button, every one ticked.
    chosen = _ids("only") or _ids("registration")
    limit = request.form.get("limit", type=int) or DEFAULT_LIMIT
    if form.validate_on_submit():
        registrations = [db.session.get(Registration, registration_id) for registration_id in chosen]
        if any(r is None or r.is_deleted for r in registrations):
            abort(404)
        try:
            referrals = refer_candidates(vacancy, registrations, form.due_by.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Referred {len(referrals)}: " + ", ".join(r.reference for r in referrals)
                  + ". Print their referral slips from each referral's page.", "info")
            return redirect(url_for("recruitment.selection", vacancy_id=vacancy.id))
    return _shortlist_page(vacancy, min(max(limit, 1), MAX_LIMIT), form, chosen), 422


# Selection ----------------------------------------------------------------------------------------------

def _selection_page(vacancy, step_form=None, group_form=None, chosen=(), status=200):
    referrals = job_order_referrals(vacancy)
    steps = steps_of(referrals)
    rows = [(referral, steps[referral.id], current_step(steps[referral.id]), next_step(steps[referral.id]))
            for referral in referrals]
    return render_template(
        "recruitment/selection.html", vacancy=vacancy, rows=rows, step_form=step_form or StepForm(),
        group_form=group_form or GroupListForm(), undo_form=UndoStepForm(), steps=SELECTION_STEPS,
        step_order=STEP_ORDER, placed=placed_count(vacancy), chosen=set(chosen),
        may_select=lambda referral: can_change_office_records(current_user, referral.office_code)), status


@bp.get("/vacancies/<uuid:vacancy_id>/selection")
@roles_required(*PERSONAL_DATA_ROLES)
def selection(vacancy_id):
    return _selection_page(_or_404(get_vacancy, vacancy_id))


@bp.post("/vacancies/<uuid:vacancy_id>/selection/steps")
@roles_required(*PERSONAL_DATA_ROLES)
def record_selection_steps(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    form = StepForm()
    chosen = _ids("referral")
    if form.validate_on_submit():
        referrals = job_order_referrals(vacancy, chosen)
        if len(referrals) != len(set(chosen)):
            abort(404)
        try:
            record_steps(referrals, form.step.data, form.on.data, current_user, note=form.note.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"{SELECTION_STEPS[form.step.data]} on {form.on.data.isoformat()} recorded for "
                  + ", ".join(r.reference for r in referrals) + ".", "info")
            return redirect(url_for("recruitment.selection", vacancy_id=vacancy.id))
    return _selection_page(vacancy, step_form=form, chosen=chosen, status=422)


@bp.post("/vacancies/<uuid:vacancy_id>/selection/<uuid:referral_id>/undo")
@roles_required(*PERSONAL_DATA_ROLES)
def undo_selection_step(vacancy_id, referral_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    referrals = job_order_referrals(vacancy, [referral_id])
    if not referrals:
        abort(404)
    form = UndoStepForm()
    if form.validate_on_submit():
        try:
            undo_step(referrals[0], form.step.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(" ".join(exc.messages), "error")
        else:
            flash(f"{SELECTION_STEPS.get(form.step.data)} of {referrals[0].reference} undone.", "info")
    else:
        flash("The form expired: reload the page and try again.", "error")
    return redirect(url_for("recruitment.selection", vacancy_id=vacancy.id))


@bp.post("/vacancies/<uuid:vacancy_id>/group-list")
@roles_required(*PERSONAL_DATA_ROLES)
def group_list(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    form = GroupListForm()
    chosen = _ids("referral")
    if form.validate_on_submit():
        try:
            pdf, content = print_group_list(vacancy, chosen, form.departure_on.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return pdf_response(pdf, f"group-list-{content.departure_on.isoformat()}.pdf")
    return _selection_page(vacancy, group_form=form, chosen=chosen, status=422)
