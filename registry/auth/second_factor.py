"""An optional second factor for administrators: a code from an authenticator app (TOTP, RFC 6238, with
pyotp), asked after the password.

It is set up and checked at head office only: the secret never leaves central's database
(`SecondFactor` does not sync). Offices learn, through the synced user row, that an account needs a
second factor, and refuse its logins with a message pointing to head office, so a stolen password alone
opens no office either. A code works once; wrong codes count towards the same lockout as wrong passwords.
"""
import base64
import hmac

import pyotp
from flask import current_app

from registry.audit.services import record_event
from registry.auth.models import LoginThrottle, SecondFactor
from registry.auth.services import LoginFailed, _count_failure, _locked, is_locked
from registry.core.access import ADMIN
from registry.core.errors import DomainError, Forbidden
from registry.core.types import utcnow
from registry.extensions import db

ISSUER = "Labour migration registry"
# A code from the step before or after the current one is accepted too: phones' clocks drift.
DRIFT_STEPS = 1


def available():
    return current_app.config["REGISTRY_ROLE"] == "central"


def check_may_enrol(user):
    if user.role != ADMIN:
        raise Forbidden("A second factor is for administrators' accounts.")
    if not available():
        raise DomainError("Second factors are set up at head office; log in there to set one up.")


def new_secret():
    return pyotp.random_base32()


def provisioning(user, secret):
    """(otpauth URI, QR code as a data: URI of an SVG) for an authenticator app to scan."""
    # ReportLab is loaded here, not when the app starts: every process (sync rounds, commands) would pay for it.
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    widget = QrCodeWidget(uri, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(right - left, top - bottom, transform=[4, 0, 0, 4, 0, 0])
    drawing.width, drawing.height = 4 * (right - left), 4 * (top - bottom)
    drawing.add(widget)
    svg = renderSVG.drawToString(drawing)
    return uri, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _step_of(secret, code, now):
    """The 30-second step whose code `code` is (within the allowed drift), or None."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(user, secret, code, actor):
    """Turn the second factor on once the user proved their app shows the right codes for `secret`."""
    check_may_enrol(user)
    if db.session.get(SecondFactor, user.id) is not None:
        raise DomainError("A second factor is already set up for this account.")
    step = _step_of(secret, code, utcnow())
    if step is None:
        raise DomainError("That code is not right. Check the app shows this account, then enter the code it shows now.")
    db.session.add(SecondFactor(user_id=user.id, secret=secret, enabled_at=utcnow(), last_step=step))
    user.second_factor_required = True
    record_event("user.second_factor_enabled", user, actor=actor)


def disable(user, code, actor):
    """The user turns it off, with a current code (so a session left open cannot)."""
    factor = db.session.get(SecondFactor, user.id)
    if factor is None:
        raise DomainError("No second factor is set up for this account.")
    step = _step_of(factor.secret, code, utcnow())
    if step is None or step <= factor.last_step:
        raise DomainError("That code is not right (or was used already). Enter the code the app shows now.")
    _remove(user, actor, "user.second_factor_disabled")


def reset(user, actor):
    """An administrator removes another user's second factor (a lost phone); that user sets it up again."""
    if not available():
        raise DomainError("Second factors are managed at head office.")
    if user.id == actor.id:
        raise DomainError("Turn off your own second factor on your account page, with a code.")
    if not user.second_factor_required:
        raise DomainError(f"{user.username} has no second factor.")
    _remove(user, actor, "user.second_factor_reset")


def _remove(user, actor, action):
    factor = db.session.get(SecondFactor, user.id)
    if factor is not None:
        db.session.delete(factor)
    user.second_factor_required = False
    record_event(action, user, actor=actor)


def check_login_allowed_here(user):
    """After the right password: refuse at a node that does not hold the account's second factor."""
    if user.second_factor_required and db.session.get(SecondFactor, user.id) is None:
        raise LoginFailed("This account needs a code from its authenticator app, which is checked at head office "
                          "only. Log in at head office.")


def verify_login(user, code):
    """The second step of a login: the user if `code` is right, else LoginFailed (counted like a wrong
    password, towards the lockout)."""
    now = utcnow()
    throttle = db.session.get(LoginThrottle, user.username)
    if is_locked(user.username):
        raise _locked(throttle, now)
    factor = db.session.get(SecondFactor, user.id)
    if factor is None:
        check_login_allowed_here(user)
    step = _step_of(factor.secret, code, now)
    if step is None or step <= factor.last_step:
        throttle = _count_failure(user.username, now)
        if throttle.locked_until and throttle.locked_until > now:
            raise _locked(throttle, now)
        raise LoginFailed("That code is not right (or was used already). Enter the code your authenticator app "
                          "shows now.")
    factor.last_step = step
    if throttle is not None:
        db.session.delete(throttle)
    record_event("user.logged_in", user, actor=user, details={"second_factor": True})
    return user
