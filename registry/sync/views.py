"""Sync pages: an office's status and 'Sync now'; head office's view of every office, conflicts and secrets."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.auth.forms import ConfirmForm
from registry.core.access import ADMIN, ALL_ROLES, OFFICER, SUPERVISOR, roles_required
from registry.core.errors import DomainError
from registry.extensions import db
from registry.sync import central, office
from registry.sync.services import differing_columns, get_conflict, resolve_conflict
from registry.sync.transport import SyncUnavailable

bp = Blueprint("sync", __name__, url_prefix="/sync")


def _is_central():
    return current_app.config["REGISTRY_ROLE"] == "central"


@bp.get("/")
@roles_required(*ALL_ROLES)
def index():
    if _is_central():
        return render_template("sync/central.html", offices=central.office_health(),
                               conflicts=central.open_conflicts(), feed=central.feed_position(), confirm=ConfirmForm())
    return render_template("sync/office.html", status=office.status(), confirm=ConfirmForm())


@bp.post("/now")
@roles_required(OFFICER, SUPERVISOR, ADMIN)
def now():
    if _is_central() or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        pushed, pulled = office.run_round()
    except SyncUnavailable as exc:
        flash(f"Sync failed: {exc}", "error")
    else:
        flash(f"Synced: {pushed} change(s) sent, {pulled} received.", "info")
    return redirect(request.form.get("back") or url_for("sync.index"))


@bp.route("/conflicts/<uuid:conflict_id>", methods=["GET", "POST"])
@roles_required(SUPERVISOR, ADMIN)
def conflict(conflict_id):
    if not _is_central():
        abort(404)
    try:
        item = get_conflict(conflict_id)
    except DomainError:
        abort(404)
    columns = differing_columns(item)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        picks = {column: request.form.get(f"pick-{column}", "winner") for column in columns}
        try:
            resolve_conflict(item, picks, current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash("Conflict resolved; the result reaches every office at its next sync.", "info")
            return redirect(url_for("sync.index"))
    return render_template("sync/conflict.html", conflict=item, columns=columns, form=form)


@bp.post("/offices/<code>/secret")
@roles_required(ADMIN)
def issue_secret(code):
    if not _is_central() or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        secret = central.issue_secret(code, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("sync.index"))
    # Shown once; central keeps it to check signatures, but no page shows it again.
    return render_template("sync/secret.html", code=code.upper(), secret=secret)
