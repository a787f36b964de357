from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from registry.auth import bp
from registry.auth.forms import ConfirmForm, LoginForm, NewUserForm, PasswordForm, UserForm
from registry.auth.services import (
    LoginFailed, UserData, authenticate, create_user, get_user, is_locked, list_users, set_password, unlock,
    update_user,
)
from registry.audit.services import record_event
from registry.core.access import ADMIN, ALL_ROLES, OFFICER, STATISTICIAN, SUPERVISOR, public, roles_required
from registry.core.errors import DomainError
from registry.core.forms import fill_from, show_errors
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
        login_user(user)
        return redirect(_safe_next(form.next.data) or url_for("auth.home"))
    return render_template("auth/login.html", form=form)


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
