from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from registry.core.forms import StrictDateField

LAYOUT_CHOICES = [SelectChoice("a4", "A4 page"), SelectChoice("receipt", "80 mm receipt roll")]


class PrintForm(FlaskForm):
    layout = SelectField("Layout", choices=LAYOUT_CHOICES)


class VoidForm(FlaskForm):
    short_code = StringField("Short code", validators=[DataRequired("Say which slip: its short code."), Length(max=12)])
    reason = StringField("Why is this slip void?", validators=[DataRequired("Say why the slip is void."),
                                                               Length(max=200)],
                         render_kw={"placeholder": "lost; misprinted; taken from its owner"})


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # checking changes nothing but the audit trail; a QR code may also link here directly

    code = StringField("Scanned code", validators=[Optional(), Length(max=1000)],
                       description="Scan the QR code on the slip (the scanner types it here), or paste its text.",
                       render_kw={"autocomplete": "off", "autofocus": True, "spellcheck": "false"})
    number = StringField("Registration number", validators=[Optional(), Length(max=40)],
                         render_kw={"placeholder": "BBR-2026-000123-K", "autocomplete": "off"})
    short_code = StringField("Short code", validators=[Optional(), Length(max=20)],
                             description="Printed under the QR code, e.g. K7Q2-9XMD.",
                             render_kw={"autocomplete": "off", "spellcheck": "false"})


class BatchForm(FlaskForm):
    office_code = StringField("Office", validators=[Optional(), Length(max=5)])
    on = StrictDateField("Registered on", validators=[Optional()])
    numbers = TextAreaField("Or these registration numbers, one a line", validators=[Optional(), Length(max=200_000)],
                            render_kw={"rows": 6, "spellcheck": "false"})
    layout = SelectField("Layout", choices=LAYOUT_CHOICES)
