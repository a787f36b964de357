"""Services, employers and vacancies: every role sees them (no personal data in them); supervisors and
administrators manage them."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.codes.isco import occupation_title
from registry.core.access import ADMIN, ALL_ROLES, PERSONAL_DATA_ROLES, SUPERVISOR, roles_required
from registry.core.errors import DomainError, NotFound
from registry.core.forms import fill_from, show_errors
from registry.extensions import db
from registry.referrals import targets_bp as bp
from registry.recruitment.complaints import complaint_counts
from registry.referrals.forms import EmployerForm, ServiceForm, VacancyFilterForm, VacancyForm, VacancyStatusForm
from registry.referrals.targets import (
    EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy, get_employer,
    get_service, get_vacancy, list_employers, list_services, list_vacancies, may_manage, placed_count,
    placed_counts, set_vacancy_status, update_employer, update_service, update_vacancy, vacancy_closed_reason,
)
from registry.referrals.services import vacancy_candidates
from registry.recruitment.agencies import list_agencies
from registry.recruitment.orders import CHECKLIST, duration_text, publish_blockers, vetting_state

MANAGERS = (SUPERVISOR, ADMIN)
SERVICE_FIELDS = tuple(ServiceData.__dataclass_fields__)
EMPLOYER_FIELDS = tuple(EmployerData.__dataclass_fields__)
VACANCY_FIELDS = tuple(VacancyData.__dataclass_fields__)


def _or_404(getter, record_id):
    try:
        return getter(record_id)
    except NotFound:
        abort(404)


def _may_manage_or_403(record=None):
    if not may_manage(current_user, record):
        abort(403)


# Services -----------------------------------------------------------------------------------------------

@bp.get("/services/")
@roles_required(*ALL_ROLES)
def services():
    return render_template("referrals/services.html", services=list_services(),
                           can_manage=may_manage(current_user), may_manage=may_manage)


@bp.route("/services/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_service():
    form = ServiceForm(default_country="ZW")
    if form.validate_on_submit():
        try:
            service = create_service(fill_from(ServiceData(), form, SERVICE_FIELDS), current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Service {service.name} added; it reaches every office at their next sync.", "info")
            return redirect(url_for("targets.services"))
    return render_template("referrals/service_form.html", form=form, service=None)


@bp.route("/services/<uuid:service_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_service(service_id):
    service = _or_404(get_service, service_id)
    _may_manage_or_403(service)
    form = ServiceForm(obj=service if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            update_service(service, fill_from(ServiceData(), form, SERVICE_FIELDS), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Service {service.name} saved.", "info")
            return redirect(url_for("targets.services"))
    return render_template("referrals/service_form.html", form=form, service=service)


# Employers ----------------------------------------------------------------------------------------------

@bp.get("/employers/")
@roles_required(*ALL_ROLES)
def employers():
    return render_template("referrals/employers.html", employers=list_employers(), can_manage=may_manage(current_user))


@bp.route("/employers/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_employer():
    form = EmployerForm()
    if form.validate_on_submit():
        try:
            employer = create_employer(fill_from(EmployerData(), form, EMPLOYER_FIELDS), current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Employer {employer.name} added.", "info")
            return redirect(url_for("targets.employer", employer_id=employer.id))
    return render_template("referrals/employer_form.html", form=form, employer=None)


@bp.get("/employers/<uuid:employer_id>")
@roles_required(*ALL_ROLES)
def employer(employer_id):
    employer = _or_404(get_employer, employer_id)
    counts = placed_counts([vacancy.id for vacancy in employer.vacancies])
    return render_template("referrals/employer.html", employer=employer, counts=counts,
                           can_manage=may_manage(current_user, employer), can_add=may_manage(current_user),
                           complaints=complaint_counts(employer=employer))


@bp.route("/employers/<uuid:employer_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_employer(employer_id):
    employer = _or_404(get_employer, employer_id)
    _may_manage_or_403(employer)
    form = EmployerForm(obj=employer if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            update_employer(employer, fill_from(EmployerData(), form, EMPLOYER_FIELDS), form.version.data,
                            current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Employer {employer.name} saved.", "info")
            return redirect(url_for("targets.employer", employer_id=employer.id))
    return render_template("referrals/employer_form.html", form=form, employer=employer)


# Vacancies ----------------------------------------------------------------------------------------------

@bp.get("/vacancies/")
@roles_required(*ALL_ROLES)
def vacancies():
    form = VacancyFilterForm(request.args)
    rows = []
    if form.validate():
        rows = list_vacancies(open_only=form.state.data != "all", country=form.country.data or "",
                              occupation=form.occupation.data or "")
    return render_template("referrals/vacancies.html", form=form, rows=rows, today=date.today(),
                           closed_reason=vacancy_closed_reason)


@bp.route("/employers/<uuid:employer_id>/vacancies/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_vacancy(employer_id):
    employer = _or_404(get_employer, employer_id)
    form = VacancyForm(default_country=employer.country, agencies=list_agencies())
    if request.method == "GET" and employer.subdivision:
        form.subdivision.data = employer.subdivision
    if form.validate_on_submit():
        try:
            vacancy = create_vacancy(employer, fill_from(VacancyData(), form, VACANCY_FIELDS), current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            blockers = publish_blockers(vacancy)
            if blockers:
                flash(f"Job order {vacancy.title} saved as a draft: it cannot be published while "
                      + "; ".join(blockers) + ".", "error")
            else:
                flash(f"Job order {vacancy.title} added" + (" as a draft." if vacancy.status == "draft" else
                                                           ": it takes referrals."), "info")
            return redirect(url_for("targets.vacancy", vacancy_id=vacancy.id))
    return render_template("referrals/vacancy_form.html", form=form, employer=employer, vacancy=None)


@bp.get("/vacancies/<uuid:vacancy_id>")
@roles_required(*ALL_ROLES)
def vacancy(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    placed = placed_count(vacancy)
    # Statisticians see the counts; names of candidates are for the roles that see personal data.
    candidates = vacancy_candidates(vacancy) if current_user.role in PERSONAL_DATA_ROLES else None
    referred = len(candidates) if candidates is not None else None
    return render_template(
        "referrals/vacancy.html", vacancy=vacancy, placed=placed, candidates=candidates, referred=referred,
        closed_reason=vacancy_closed_reason(vacancy, date.today(), placed),
        occupation=occupation_title(vacancy.occupation_code), can_manage=may_manage(current_user, vacancy),
        status_form=VacancyStatusForm(version=vacancy.version), blockers=publish_blockers(vacancy),
        vetting=vetting_state(vacancy), checklist=CHECKLIST, duration=duration_text(vacancy),
    )


@bp.route("/vacancies/<uuid:vacancy_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_vacancy(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    _may_manage_or_403(vacancy)
    form = VacancyForm(obj=vacancy if request.method == "GET" else None, agencies=list_agencies())
    if form.validate_on_submit():
        try:
            update_vacancy(vacancy, fill_from(VacancyData(), form, VACANCY_FIELDS), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            blockers = publish_blockers(vacancy)
            flash(f"Job order {vacancy.title} saved." + (" It is a draft: it cannot be published while "
                                                         + "; ".join(blockers) + "." if blockers else ""),
                  "error" if blockers else "info")
            return redirect(url_for("targets.vacancy", vacancy_id=vacancy.id))
    return render_template("referrals/vacancy_form.html", form=form, employer=vacancy.employer, vacancy=vacancy)


@bp.post("/vacancies/<uuid:vacancy_id>/status")
@roles_required(*MANAGERS)
def vacancy_status(vacancy_id):
    vacancy = _or_404(get_vacancy, vacancy_id)
    _may_manage_or_403(vacancy)
    form = VacancyStatusForm()
    if form.validate_on_submit():
        try:
            set_vacancy_status(vacancy, form.status.data, form.version.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(" ".join(exc.messages), "error")
        else:
            flash({"closed": "The job order is closed: no more referrals.",
                   "draft": "The job order is back to draft: no one is offered it or referred to it.",
                   "open": "The job order is published: it takes referrals."}[vacancy.status], "info")
    else:
        flash("The form expired: reload the page and try again.", "error")
    return redirect(url_for("targets.vacancy", vacancy_id=vacancy.id))

