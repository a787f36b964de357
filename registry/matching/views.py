from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from registry.auth.forms import ConfirmForm
from registry.core.access import ADMIN, roles_required
from registry.core.errors import DomainError
from registry.extensions import db
from registry.matching import bp
from registry.matching.services import get_candidate, link, mark_distinct, open_candidates, people_of, recent_decisions, undo

ACTIONS = {"link": link, "distinct": mark_distinct, "undo": undo}


@bp.get("/")
@roles_required(ADMIN)
def index():
    pairs = []
    for candidate in open_candidates():
        try:
            pairs.append((candidate, *people_of(candidate)))
        except DomainError:
            continue
    return render_template("matching/index.html", pairs=pairs, decided=recent_decisions(), form=ConfirmForm(),
                           central=current_app.config["REGISTRY_ROLE"] == "central")


@bp.post("/<uuid:candidate_id>/<action>")
@roles_required(ADMIN)
def decide(candidate_id, action):
    if action not in ACTIONS or not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ACTIONS[action](get_candidate(candidate_id), current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash({"link": "Linked as one person.", "distinct": "Marked as different people.",
               "undo": "Decision undone."}[action], "info")
    return redirect(url_for("matching.index"))
