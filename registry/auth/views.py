import time
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from registry.auth import bp
from registry.auth import second_factor
from registry.auth.forms import CodeForm, ConfirmForm, LoginForm, NewUserForm, PasswordForm, UserForm
from registry.auth.services import (
    LoginFailed, UserData, authenticate, create_user, get_user, is_locked, list_users, set_password, unlock,
    update_user,
)
from registry.audit.services import record_event
from registry.core.access import ADMIN, ALL_ROLES, OFFICER, STATISTICIAN, SUPERVISOR, public, roles_required
from registry.core.errors import DomainError
from registry.core.forms import fill_from, show_errors
from registry.extensions import limiter
from registry.offices.services import list_offices


def _safe_next(target):
    """Only same-site paths: a crafted ?next= must not send an officer to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
@roles_required(*ALL_ROLES)
def home():
    if current_user.role in (OFFICER, SUPERVISOR):
        return redirect(url_for("people.search"))
    if current_user.role == STATISTICIAN:
        return redirect(url_for("registration.summary"))
    return redirect(url_for("auth.users"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginFailed as exc:
            # The failure count must be kept, so no rollback here: the request commits it.
            form.password.errors = [exc.message]
            return render_template("auth/login.html", form=form), 200
        if user.second_factor_required:
            try:
                second_factor.check_login_allowed_here(user)
            except LoginFailed as exc:
                form.password.errors = [exc.message]
                return render_template("auth/login.html", form=form), 200
            # Half way: the password was right; the code page finishes the login within five minutes.
            session["pending_login"] = {"user": user.username, "at": int(time.time()), "next": form.next.data or ""}
            return redirect(url_for("auth.login_code"))
        return _finish_login(user, form.next.data)
    return render_template("auth/login.html", form=form)


def _finish_login(user, next_target):
    session.pop("pending_login", None)
    login_user(user)
    session["logged_in_at"] = session["seen_at"] = int(time.time())
    return redirect(_safe_next(next_target) or url_for("auth.home"))


PENDING_LOGIN_SECONDS = 300


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login_code():
    pending = session.get("pending_login") or {}
    try:
        user = get_user(pending["user"]) if pending.get("user") else None
    except DomainError:
        user = None
    if user is None or int(time.time()) - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        session.pop("pending_login", None)
        flash("Log in again: the code must follow the password within five minutes.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            second_factor.verify_login(user, form.code.data)
        except LoginFailed as exc:
            form.code.errors = [exc.message]  # the failure count is kept: the request commits it
            return render_template("auth/login_code.html", form=form), 200
        return _finish_login(user, pending.get("next"))
    return render_template("auth/login_code.html", form=form)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@roles_required(ADMIN)
def second_factor_page():
    """Set up (or turn off) the authenticator-app code for one's own account, at head office."""
    user = current_user._get_current_object()
    form = CodeForm()
    enrolled = user.second_factor_required
    if not enrolled and second_factor.available():
        secret = session.get("second_factor_secret") or second_factor.new_secret()
        session["second_factor_secret"] = secret
    else:
        secret = None
    if form.validate_on_submit():
        try:
            if enrolled:
                second_factor.disable(user, form.code.data, actor=user)
                flash("The second factor is off. Logging in now needs the password only.", "info")
            else:
                second_factor.enable(user, secret, form.code.data, actor=user)
                session.pop("second_factor_secret", None)
                flash("The second factor is on: from now on, logging in asks for the app's code.", "info")
            return redirect(url_for("auth.second_factor_page"))
        except DomainError as exc:
            form.code.errors = [exc.message]
    uri, qr = second_factor.provisioning(user, secret) if secret else (None, None)
    return render_template("auth/second_factor.html", form=form, enrolled=enrolled, secret=secret, uri=uri, qr=qr,
                           available=second_factor.available())


@bp.post("/admin/users/<username>/second-factor/reset")
@roles_required(ADMIN)
def reset_second_factor(username):
    try:
        user = get_user(username)
    except DomainError:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            second_factor.reset(user, actor=current_user)
            flash(f"{user.username}'s second factor was removed; they log in with the password and set it up again.",
                  "info")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("auth.users"))


@bp.post("/logout")
@roles_required(*ALL_ROLES)
def logout():
    if ConfirmForm().validate_on_submit():
        record_event("user.logged_out", current_user)
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/admin/users")
@roles_required(ADMIN)
def users():
    people = list_users()
    locked = {user.username for user in people if is_locked(user.username)}
    return render_template("auth/users.html", users=people, locked=locked, confirm=ConfirmForm())


def _office_choices():
    return [(office.code, f"{office.code} — {office.name}") for office in list_offices(include_inactive=False)]


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def new_user():
    form = NewUserForm()
    form.office_code.choices = _office_choices()
    if form.validate_on_submit():
        data = fill_from(UserData("", "", "", ""), form, ("username", "full_name", "role", "office_code", "active"))
        try:
            user = create_user(data, form.password.data, actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"User {user.username} created.", "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_user(username):
    try:
        user = get_user(username)
    except DomainError:
        abort(404)
    form = UserForm(obj=user)
    form.office_code.choices = _office_choices()
    if form.validate_on_submit():
        data = fill_from(UserData("", "", "", ""), form, ("username", "full_name", "role", "office_code", "active"))
        try:
            update_user(user, data, form.version.data, actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"User {user.username} saved.", "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.route("/admin/users/<username>/password", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_password(username):
    try:
        user = get_user(username)
    except DomainError:
        abort(404)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.password.data, actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(f"New password set for {user.username}; their other sessions have ended.", "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/password.html", form=form, user=user)


@bp.post("/admin/users/<username>/unlock")
@roles_required(ADMIN)
def unlock_user(username):
    if ConfirmForm().validate_on_submit():
        unlock(username.lower(), actor=current_user)
        flash(f"{username} can log in again.", "info")
    return redirect(url_for("auth.users"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def own_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            set_password(current_user, form.password.data, actor=current_user)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            # The epoch moved on: keep this session, end the others. login_user needs the user itself: given
            # the current_user proxy it would store the proxy, which then resolves to itself for ever.
            login_user(current_user._get_current_object())
            flash("Your password is changed.", "info")
            return redirect(url_for("auth.home"))
    return render_template("auth/password.html", form=form, user=current_user)
