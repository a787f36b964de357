from flask import render_template
from flask_login import current_user

from registry.audit import bp
from registry.audit.services import recent_events
from registry.core.access import ADMIN, SUPERVISOR, roles_required


@bp.get("/")
@roles_required(SUPERVISOR, ADMIN)
def recent():
    """Supervisors see their own office's trail; admins see every office's."""
    office = None if current_user.role == ADMIN else current_user.office_code
    return render_template("audit/recent.html", events=recent_events(office_code=office), office=office)
