"""Authentication and user management. Services add and flush; the caller commits."""
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from registry.audit.services import record_event
from registry.auth.models import LoginThrottle, User
from registry.core.access import ALL_ROLES, refuse_if_managed_centrally
from registry.core.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from registry.core.types import utcnow
from registry.extensions import db
from registry.offices.models import Office

MIN_PASSWORD = 12  # OWASP ASVS 2.1.1
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# Checked against when the username is unknown, so a wrong name costs as long as a wrong password:
# hashed with the configured method, one per method, since the methods differ widely in cost.
_DUMMY_HASHES = {}


class LoginFailed(DomainError):
    pass


def _hash(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash():
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a password of anyone's", method=method)
    return _DUMMY_HASHES[method]


def check_password_policy(password, username=""):
    problems = []
    if len(password or "") < MIN_PASSWORD:
        problems.append(f"Use at least {MIN_PASSWORD} characters.")
    if password and username and username.lower() in password.lower():
        problems.append("Do not put the username in the password.")
    if password and len(set(password)) < 4:
        problems.append("Use more varied characters.")
    if not problems:
        problems.extend(_guessable(password, username))
    return problems


def _guessable(password, username):
    """zxcvbn's verdict (OWASP ASVS 2.1.7): a password from its list of 30,000 most common ones, taken from
    password breaches, or one it scores as guessable in few attempts (words, keyboard runs, dates)."""
    from zxcvbn import zxcvbn  # its dictionaries take a moment to load: only when a password is set

    verdict = zxcvbn(password[:100], user_inputs=[username] if username else [])
    sequence = verdict["sequence"]
    if len(sequence) == 1 and sequence[0].get("dictionary_name") == "passwords":
        return ["This password is one of the most common ones, known from password breaches. Choose another."]
    if verdict["score"] < 2:
        hint = verdict["feedback"].get("warning") or "it is easy to guess"
        return [f"This password is too easy to guess ({hint.rstrip('.').lower()}). Add words or characters."]
    return []


def authenticate(username, password):
    """Return the user, or raise LoginFailed; repeated failures lock the name for a while."""
    name = (username or "").strip().lower()
    now = utcnow()
    throttle = db.session.get(LoginThrottle, name) if name else None
    if throttle and throttle.locked_until and throttle.locked_until > now:
        raise _locked(throttle, now)
    user = db.session.scalar(select(User).where(User.username == name)) if name else None
    valid = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user and valid and user.is_active:
        if user.second_factor_required:
            # Not in yet: the code comes next (registry.auth.second_factor), and until it is right the
            # failures counted so far stand, so the password alone never resets the lockout.
            return user
        if throttle:
            db.session.delete(throttle)
        record_event("user.logged_in", user, actor=user)
        return user
    throttle = _count_failure(name or "(empty)", now)
    if throttle.locked_until and throttle.locked_until > now:
        raise _locked(throttle, now)  # this failure was the last one allowed: say so now, not on the next try
    if user and valid:
        raise LoginFailed("This account is disabled. Ask an administrator.")
    raise LoginFailed("Wrong username or password.")


def _count_failure(name, now):
    throttle = db.session.get(LoginThrottle, name)
    if throttle is None:
        throttle = LoginThrottle(username=name, failures=0)
        db.session.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if throttle.failures >= limit:
        throttle.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        throttle.failures = 0
        record_event("user.locked_out", details={"username": name, "after_failures": limit})
    db.session.flush()
    return throttle


def _locked(throttle, now):
    minutes = max(1, math.ceil((throttle.locked_until - now).total_seconds() / 60))
    return LoginFailed(f"Too many failed attempts: this account is locked for about {minutes} more minute(s), "
                       "or until an administrator unlocks it.")


def is_locked(username):
    throttle = db.session.get(LoginThrottle, username)
    return bool(throttle and throttle.locked_until and throttle.locked_until > utcnow())


def unlock(username, actor=None):
    throttle = db.session.get(LoginThrottle, username)
    if throttle:
        db.session.delete(throttle)
        record_event("user.unlocked", details={"username": username}, actor=actor)


def load_user(session_id):
    """Flask-Login's loader: the id carries the session epoch, so a password change ends old sessions."""
    try:
        raw_id, epoch = session_id.split(":")
        user = db.session.get(User, uuid.UUID(raw_id))
    except (ValueError, AttributeError):
        return None
    if user is None or not user.is_active or str(user.session_epoch) != epoch:
        return None
    return user


@dataclass
class UserData:
    username: str
    full_name: str
    role: str
    office_code: str
    active: bool = True


def _validated(data, password=None, check_password=True):
    errors = {}
    username = (data.username or "").strip().lower()
    if not (3 <= len(username) <= 64) or not set(username) <= USERNAME_CHARS:
        errors["username"] = ["Use 3 to 64 lower-case letters, digits, dots, hyphens or underscores."]
    if not (data.full_name or "").strip():
        errors["full_name"] = ["Give the person's full name."]
    if data.role not in ALL_ROLES:
        errors["role"] = [f"Choose one of: {', '.join(ALL_ROLES)}."]
    if not db.session.scalar(select(Office.id).where(Office.code == data.office_code, Office.deleted_at.is_(None))):
        errors["office_code"] = [f"No office with code {data.office_code!r}."]
    if check_password:
        problems = check_password_policy(password, username)
        if problems:
            errors["password"] = problems
    if errors:
        raise ValidationFailed(errors)
    return username


def get_user(username):
    user = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None or user.is_deleted:
        raise NotFound(f"No user {username!r}.")
    return user


def list_users():
    return db.session.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.office_code, User.username)).all()


def create_user(data, password, actor=None):
    refuse_if_managed_centrally()
    username = _validated(data, password)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed({"username": [f"The username {username} is taken."]})
    user = User(username=username, full_name=data.full_name.strip(), role=data.role, office_code=data.office_code,
                password_hash=_hash(password), active=data.active)
    db.session.add(user)
    db.session.flush()
    record_event("user.created", user, actor=actor, details={"role": user.role, "office": user.office_code})
    return user


def update_user(user, data, expected_version, actor=None):
    refuse_if_managed_centrally()
    if user.version != expected_version:
        raise StaleVersion("Someone changed this user since you opened the form. Reload it and try again.")
    username = _validated(data, check_password=False)
    if username != user.username:
        raise DomainError("A username never changes; create a new user instead.", field="username")
    if actor is not None and actor.id == user.id and (data.role != user.role or not data.active):
        raise DomainError("You cannot change your own role or disable your own account.", field="role")
    before = {"role": user.role, "office": user.office_code, "active": user.active, "full_name": user.full_name}
    user.full_name, user.role, user.office_code = data.full_name.strip(), data.role, data.office_code
    if user.active and not data.active:
        user.session_epoch += 1
    user.active = data.active
    db.session.flush()
    record_event("user.updated", user, actor=actor, details={"before": before, "after": {
        "role": user.role, "office": user.office_code, "active": user.active, "full_name": user.full_name}})
    return user


def set_password(user, password, actor=None):
    refuse_if_managed_centrally()
    problems = check_password_policy(password, user.username)
    if problems:
        raise ValidationFailed({"password": problems})
    user.password_hash = _hash(password)
    user.session_epoch += 1
    db.session.flush()
    record_event("user.password_set", user, actor=actor)
    return user
