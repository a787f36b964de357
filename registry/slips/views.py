"""Print slips from the registration page, print many at once, void one, and `/verify` for anyone."""
from datetime import date
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.core.access import PERSONAL_DATA_ROLES, public, roles_required
from registry.core.errors import DomainError, NotFound
from registry.core.forms import show_errors
from registry.extensions import db
from registry.registration.numbering import InvalidRegistrationNumber
from registry.registration.services import get_registration
from registry.slips.forms import BatchForm, PrintForm, VerifyForm, VoidForm
from registry.slips.services import print_batch, print_slip, registrations_for_batch, void_slip
from registry.slips.verification import NotASlip, verify_payload, verify_typed

bp = Blueprint("slips", __name__)


def pdf_response(data, name):
    # An attachment, not inline: each print is recorded, so the browser must not fetch it again by itself.
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name,
                         conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept in a shared browser's cache
    return response


def _registration_or_404(number):
    try:
        return get_registration(number)
    except (NotFound, InvalidRegistrationNumber):
        abort(404)


@bp.post("/registrations/<number>/slip")
@roles_required(*PERSONAL_DATA_ROLES)
def print_one(number):
    registration = _registration_or_404(number)
    back = url_for("registration.show", number=registration.registration_number)
    form = PrintForm()
    if not form.validate_on_submit():
        flash("Choose a layout (A4 or receipt) to print the slip.", "error")
        return redirect(back)
    try:
        pdf, issued = print_slip(registration.registration_number, current_user, form.layout.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    copy = f"-copy{issued.record.copy_number}" if issued.record.copy_number else ""
    return pdf_response(pdf, f"slip-{registration.registration_number}{copy}-{form.layout.data}.pdf")


@bp.post("/registrations/<number>/slip/void")
@roles_required(*PERSONAL_DATA_ROLES)
def void(number):
    registration = _registration_or_404(number)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            void_slip(registration, form.short_code.data, form.reason.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(f"Slip {form.short_code.data.upper()} is void: it now answers \"revoked\" at /verify.", "info")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("registration.show", number=registration.registration_number))


@bp.route("/slips/batch", methods=["GET", "POST"])
@roles_required(*PERSONAL_DATA_ROLES)
def batch():
    form = BatchForm()
    if request.method == "GET":
        form.office_code.data = current_app.config["OFFICE_CODE"]
        form.on.data = date.today()
    if form.validate_on_submit():
        try:
            numbers = [line for line in (form.numbers.data or "").split() if line.strip()]
            registrations = registrations_for_batch(form.office_code.data, form.on.data, numbers)
            pdf, issued = print_batch(registrations, current_user, form.layout.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            name = "slips-list" if numbers else f"slips-{form.office_code.data.upper()}-{form.on.data.isoformat()}"
            return pdf_response(pdf, f"{name}-{len(issued)}-{form.layout.data}.pdf")
    return render_template("slips/batch.html", form=form)


def _verifier():
    return current_user.username if current_user.is_authenticated else "public"


@bp.get("/verify")
@public
def verify():
    """Anyone may check a slip: scan its QR code, or type its registration number and short code."""
    form = VerifyForm(request.args)
    result = None
    asked = any((getattr(form, name).data or "").strip() for name in ("code", "number", "short_code"))
    if asked and form.validate():
        try:
            if (form.code.data or "").strip():
                result = verify_payload(form.code.data, actor=_verifier())
            else:
                result = verify_typed(form.number.data, form.short_code.data, actor=_verifier())
        except NotASlip as exc:
            show_errors(form, exc)
        else:  # ready for the next slip: a scanner types into an empty field
            form.code.raw_data, form.code.data = [], ""
    return render_template("slips/verify.html", form=form, result=result)
