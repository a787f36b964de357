from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.audit.services import history_of, record_event
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records, roles_required
from registry.core.errors import DomainError
from registry.core.forms import fill_from, show_errors
from registry.people import bp
from registry.people.forms import PersonEditForm, SearchForm
from registry.people.services import EDITABLE, PersonData, get_person, person_data_from, search_people, update_person


def load_person_or_404(person_id):
    try:
        return get_person(person_id)
    except DomainError:
        abort(404)


@bp.get("/")
@roles_required(*PERSONAL_DATA_ROLES)
def search():
    form = SearchForm(request.args)
    results, searched = [], False
    if (form.q.data or form.dob.data or request.args.get("dob")) and form.validate():
        searched = True
        results = search_people(form.q.data, form.dob.data)
        record_event("person.searched", details={"results": len(results), "with_birth_date": bool(form.dob.data)})
    return render_template("people/search.html", form=form, results=results, searched=searched)


@bp.get("/<uuid:person_id>")
@roles_required(*PERSONAL_DATA_ROLES)
def show(person_id):
    person = load_person_or_404(person_id)
    record_event("person.viewed", person)
    return render_template("people/show.html", person=person, history=history_of(person),
                           can_edit=can_change_office_records(current_user, person.origin_office))


@bp.route("/<uuid:person_id>/edit", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def edit(person_id):
    person = load_person_or_404(person_id)
    if not can_change_office_records(current_user, person.origin_office):
        abort(403)
    if request.method == "GET":
        form = PersonEditForm(obj=person_data_from(person), version=person.version)
    else:
        form = PersonEditForm()
    if form.validate_on_submit():
        try:
            _, changed = update_person(person, fill_from(PersonData(), form, EDITABLE), form.version.data, current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash("Saved." if changed else "Nothing was changed.", "info")
            return redirect(url_for("people.show", person_id=person.id))
    return render_template("people/edit.html", form=form, person=person)
