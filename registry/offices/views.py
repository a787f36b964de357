from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from registry.codes.geography import subdivisions_of
from registry.core.access import ADMIN, roles_required
from registry.core.errors import DomainError
from registry.core.forms import fill_from, show_errors
from registry.offices import bp
from registry.offices.forms import OfficeForm
from registry.offices.services import OfficeData, create_office, get_office, list_offices, update_office

FIELDS = ("code", "name", "kind", "country", "subdivision", "address", "phone", "default_destination", "active",
          "slip_language", "helpline")


def _with_subdivisions(form):
    form.subdivision.choices = [("", "—")] + list(subdivisions_of(form.country.data or "ZW"))
    return form


@bp.get("/")
@roles_required(ADMIN)
def index():
    return render_template("offices/index.html", offices=list_offices())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new():
    form = _with_subdivisions(OfficeForm())
    if form.validate_on_submit():
        try:
            office = create_office(fill_from(OfficeData("", "", "", ""), form, FIELDS), actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Office {office.code} added.", "info")
            return redirect(url_for("offices.index"))
    return render_template("offices/form.html", form=form, office=None)


@bp.route("/<code>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit(code):
    try:
        office = get_office(code)
    except DomainError:
        abort(404)
    form = _with_subdivisions(OfficeForm(obj=office))
    form.code.render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            update_office(office, fill_from(OfficeData("", "", "", ""), form, FIELDS), form.version.data,
                          actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"Office {office.code} saved.", "info")
            return redirect(url_for("offices.index"))
    return render_template("offices/form.html", form=form, office=office)
