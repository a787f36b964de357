"""`/healthz`: is the app up and its database reachable, and at an office how far behind its sync is
(for monitors and the reverse proxy). No personal data, no login needed."""
from flask import Blueprint, current_app
from sqlalchemy import text

from registry.core.access import public
from registry.core.types import utcnow
from registry.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any driver error means the same thing to a monitor
        db.session.rollback()
        database = "unreachable"
    body = {"status": "ok" if database == "ok" else "error", "database": database,
            "role": current_app.config["REGISTRY_ROLE"], "office": current_app.config["OFFICE_CODE"]}
    if database == "ok" and current_app.config["REGISTRY_ROLE"] == "office":
        body["sync"] = _sync_lag()
    return body, 200 if database == "ok" else 503


def _sync_lag():
    """Sync lag as a monitor reads it: seconds since the last successful round (None: never), changes
    waiting, and the last error. A lagging office is still healthy: it works offline by design."""
    from registry.sync.office import badge

    state = badge()
    last = state["last_success_at"]
    return {"last_success_at": last.isoformat() if last else None,
            "lag_seconds": int((utcnow() - last).total_seconds()) if last else None,
            "pending": state["pending"], "last_error": state["last_error"]}
