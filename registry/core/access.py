"""Access control: deny by default, then role checks, then office scoping; and the security headers.

Every view must say who may open it, with `@public`, `@office_signed` (the sync API, which checks the
office's signature itself) or `@roles_required(...)`; a view that says nothing
is refused to everyone, so a forgotten decorator fails closed (docs/access.md has the role matrix).
"""
import time

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from registry.core.errors import DomainError

OFFICER, SUPERVISOR, STATISTICIAN, ADMIN = "officer", "supervisor", "statistician", "admin"
ALL_ROLES = (OFFICER, SUPERVISOR, STATISTICIAN, ADMIN)
# Roles that may see personal data of migrants. Statisticians never do.
PERSONAL_DATA_ROLES = (OFFICER, SUPERVISOR, ADMIN)
ROLE_LABELS = {
    OFFICER: "Labour officer",
    SUPERVISOR: "Office supervisor",
    STATISTICIAN: "Statistician",
    ADMIN: "Administrator",
}


def public(view):
    view.access_public = True
    return view


def office_signed(view):
    """For the sync API: no user session; the view itself checks the office's request signature."""
    view.access_office_signed = True
    return view


def roles_required(*roles):
    unknown = set(roles) - set(ALL_ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown}" if unknown else "name at least one role")

    def mark(view):
        view.access_roles = frozenset(roles)
        return view

    return mark


def check_access():
    """before_request: allow public views, send strangers to the login page, refuse wrong roles."""
    if request.endpoint is None:
        return None  # 404 follows
    view = current_app.view_functions[request.endpoint]
    if request.endpoint == "static" or getattr(view, "access_public", False) \
            or getattr(view, "access_office_signed", False):
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    expired = _session_expired()
    if expired:
        from flask import flash
        from flask_login import logout_user

        from registry.audit.services import record_event

        record_event("user.session_expired", current_user, details={"reason": expired})
        logout_user()
        session.clear()
        flash(f"You were logged out {expired}. Log in again to go on.", "info")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    allowed = getattr(view, "access_roles", None)
    if not allowed or current_user.role not in allowed:
        abort(403)
    return None


def _session_expired():
    """Why the logged-in session must end now (idle too long, or open too long), or None; notes this
    request as the session's latest activity. Times are Unix seconds kept in the signed session cookie."""
    now = int(time.time())
    config = current_app.config
    seen, started = session.get("seen_at"), session.get("logged_in_at")
    if isinstance(seen, int) and now - seen > config["IDLE_TIMEOUT_MINUTES"] * 60:
        return f"after {config['IDLE_TIMEOUT_MINUTES']} minutes without activity"
    if isinstance(started, int) and now - started > config["SESSION_MAX_HOURS"] * 3600:
        return f"{config['SESSION_MAX_HOURS']} hours after logging in"
    session["seen_at"] = now
    session.setdefault("logged_in_at", now)
    return None


def refuse_if_managed_centrally():
    """Users and offices belong to head office once an office syncs: changed here, they would be
    overwritten by head office's versions at the next sync, so an office that syncs refuses to change them."""
    config = current_app.config
    if config["REGISTRY_ROLE"] == "office" and config.get("CENTRAL_URL") and config.get("OFFICE_SECRET"):
        raise DomainError("Users and offices are managed at head office; changes made there reach this office "
                          "at its next sync.")


def can_change_office_records(user, office_code):
    """Officers and supervisors change their own office's records only; admins any office's."""
    if user.role == ADMIN:
        return True
    return user.role in (OFFICER, SUPERVISOR) and user.office_code == office_code


SECURITY_HEADERS = {
    # Every asset is local, so the policy can be strict: no inline script, no third-party origin.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated:
        # Pages with personal data must not linger in a shared browser's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
