"""`/healthz`: is the app up and its database reachable (for monitors and the reverse proxy)."""
from flask import Blueprint, current_app
from sqlalchemy import text

from registry.core.access import public
from registry.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any driver error means the same thing to a monitor
        database = "unreachable"
    body = {"status": "ok" if database == "ok" else "error", "database": database,
            "role": current_app.config["REGISTRY_ROLE"], "office": current_app.config["OFFICE_CODE"]}
    return body, 200 if database == "ok" else 503
