from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from registry.core.access import ALL_ROLES, ROLE_LABELS


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(min=3, max=64)],
                           render_kw={"autocapitalize": "none"})
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ALL_ROLES])
    office_code = SelectField("Office", choices=[])
    active = BooleanField("Active", default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)


class NewUserForm(UserForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "new-password", "autofocus": True})
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class ConfirmForm(FlaskForm):
    """A bare form for POST-only buttons (log out, unlock): it carries the CSRF token."""
