from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.audit.services import history_of, record_event
from registry.codes.isco import occupation_title
from registry.core.access import ALL_ROLES, PERSONAL_DATA_ROLES, STATISTICIAN, can_change_office_records, roles_required
from registry.core.errors import DomainError, NotFound
from registry.core.forms import code_list, fill_from, show_errors
from registry.extensions import db
from registry.offices.models import Office
from registry.people.identifiers import compact
from registry.people.services import DuplicateNationalId, PersonData, PossibleDuplicates, get_person
from registry.registration import bp
from registry.registration.forms import EditRegistrationForm, FilterForm, FindForm, NewRegistrationForm, StatusForm
from registry.registration.models import TRANSITIONS
from registry.registration.services import (
    RegistrationData, RegistrationFilters, change_status, filtered_registrations, get_registration,
    latest_registrations, office_summary, register, update_registration,
)
from registry.referrals import services as referral_services  # a module: referrals import registration
from registry.slips import services as slip_services  # a module: slips' services import registration's

PERSON_FIELDS = [name for name in PersonData.__dataclass_fields__]
REGISTRATION_FIELDS = [name for name in RegistrationData.__dataclass_fields__ if name != "other_occupation_codes"]


def _default_destination():
    office = db.session.scalar(db.select(Office).where(Office.code == current_app.config["OFFICE_CODE"]))
    return (office and office.default_destination) or current_app.config["DEFAULT_DESTINATION"]


def _registration_data(form):
    data = fill_from(RegistrationData(), form, REGISTRATION_FIELDS)
    data.other_occupation_codes = code_list(form.other_occupation_codes.data)
    return data


def _prefill_from_search(form, text):
    """Carry what the officer searched for into the new form, so nothing is typed twice."""
    text = (text or "").strip()
    if not text:
        return
    if any(ch.isdigit() for ch in text):
        form.national_id.data = text
    else:
        words = text.split()
        form.given_names.data, form.surname.data = " ".join(words[:-1]), words[-1]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def new():
    form = NewRegistrationForm(default_destination=_default_destination)
    if request.method == "GET":
        _prefill_from_search(form, request.args.get("q"))
    duplicates, latest, existing = [], {}, None
    if form.validate_on_submit():
        try:
            if form.use_person.data:
                person = get_person(form.use_person.data)
                registration = register(current_user, _registration_data(form), person=person)
            else:
                registration = register(
                    current_user, _registration_data(form), person_data=fill_from(PersonData(), form, PERSON_FIELDS),
                    override_duplicates=form.override_duplicates.data,
                )
        except PossibleDuplicates as exc:
            duplicates = exc.candidates
            ids = [match.person.id for match in duplicates]  # read before show_errors rolls the session back
            show_errors(form, exc)
            latest = latest_registrations(ids)
        except DuplicateNationalId as exc:
            show_errors(form, exc)
            existing = exc.existing
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Registered: {registration.registration_number}", "info")
            return redirect(url_for("registration.show", number=registration.registration_number))
    elif request.method == "POST":
        flash("Some fields need attention; they are marked below.", "error")
    return render_template("registration/new.html", form=form, duplicates=duplicates, latest=latest,
                           existing=existing)


@bp.route("/new/<uuid:person_id>", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def new_for_person(person_id):
    try:
        person = get_person(person_id)
    except DomainError:
        abort(404)
    form = EditRegistrationForm(default_destination=_default_destination)
    del form.version
    if form.validate_on_submit():
        try:
            registration = register(current_user, _registration_data(form), person=person)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Registered: {registration.registration_number}", "info")
            return redirect(url_for("registration.show", number=registration.registration_number))
    return render_template("registration/new_for_person.html", form=form, person=person)


@bp.get("/")
@roles_required(*PERSONAL_DATA_ROLES)
def index():
    form = FilterForm(request.args)
    query = None
    if form.validate():
        filters = fill_from(RegistrationFilters(), form, RegistrationFilters.__dataclass_fields__)
        filters.office_code = (filters.office_code or "").upper()
        try:
            query = filtered_registrations(filters)
        except DomainError as exc:
            show_errors(form, exc)
    page = None
    if query is not None:
        page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False, count=True)
    args = {key: value for key, value in request.args.items() if key != "page"}
    return render_template("registration/index.html", form=form, page=page, args=args, find=FindForm())


@bp.get("/find")
@roles_required(*PERSONAL_DATA_ROLES)
def find():
    form = FindForm(request.args)
    try:
        registration = get_registration(form.number.data)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("registration.index"))
    return redirect(url_for("registration.show", number=registration.registration_number))


def _load(number):
    try:
        return get_registration(number)
    except NotFound:
        abort(404)
    except DomainError:
        abort(404)


@bp.get("/<number>")
@roles_required(*PERSONAL_DATA_ROLES)
def show(number):
    registration = _load(number)
    record_event("registration.viewed", registration)
    status_form = StatusForm(version=registration.version, on=date.today())
    # A return is recorded with its reason, wages owed and referrals (registry.recruitment.returns), not here.
    allowed = [status for status in TRANSITIONS[registration.status] if status != "returned"]
    status_form.status.choices = [c for c in status_form.status.choices if c.value in allowed]
    can_edit = can_change_office_records(current_user, registration.office_code)
    return render_template(
        "registration/show.html", registration=registration, person=registration.person,
        occupation=occupation_title(registration.occupation_code), history=history_of(registration),
        can_edit=can_edit, status_form=status_form, slips=slip_services.prints_of(registration), can_print=can_edit,
        referrals=referral_services.referrals_of(registration),
    )


@bp.route("/<number>/edit", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def edit(number):
    registration = _load(number)
    if not can_change_office_records(current_user, registration.office_code):
        abort(403)
    if request.method == "GET":
        form = EditRegistrationForm(obj=registration)
        form.other_occupation_codes.data = " ".join(registration.other_occupation_codes or [])
    else:
        form = EditRegistrationForm()
    if form.validate_on_submit():
        try:
            _, changed = update_registration(registration, _registration_data(form), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Saved." if changed else "Nothing was changed.", "info")
            return redirect(url_for("registration.show", number=registration.registration_number))
    return render_template("registration/edit.html", form=form, registration=registration)


@bp.post("/<number>/status")
@roles_required(*PERSONAL_DATA_ROLES)
def status(number):
    registration = _load(number)
    if not can_change_office_records(current_user, registration.office_code):
        abort(403)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            change_status(registration, form.status.data, form.on.data, form.version.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            for message in exc.messages:
                flash(message, "error")
        else:
            flash(f"Status is now {registration.status}.", "info")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("registration.show", number=registration.registration_number))


@bp.get("/summary")
@roles_required(*ALL_ROLES)
def summary():
    """Counts only, no personal data: the page statisticians start from."""
    central = current_app.config["REGISTRY_ROLE"] == "central"
    office = None if central and current_user.role in (STATISTICIAN, "admin") else current_app.config["OFFICE_CODE"]
    return render_template("registration/summary.html", summary=office_summary(office), office=office)
