from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.codes.geography import country_choices
from registry.offices.models import OFFICE_KINDS
from registry.slips.labels import LANGUAGES


class OfficeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(min=2, max=5)],
                       description="2 to 5 capital letters; part of every registration number, so it never changes.")
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=[SelectChoice(k, v) for k, v in OFFICE_KINDS.items()])
    country = SelectField("Country", default="ZW")
    subdivision = SelectField("Province or region", validators=[Optional()], validate_choice=False)
    address = StringField("Address", validators=[Optional(), Length(max=255)])
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    default_destination = SelectField("Usual destination (pre-selected on the form)", default="ZA")
    # The service checks the value (a missing field on an office without one is None, not a choice).
    slip_language = SelectField("Second language on registration slips", default="", validate_choice=False,
                                choices=[SelectChoice("", "None (English only)")]
                                + [SelectChoice(k, v) for k, v in LANGUAGES.items()])
    helpline = TextAreaField("Helplines on registration slips", validators=[Optional(), Length(max=500)],
                             render_kw={"rows": 3},
                             description="Numbers and addresses where migrants get help, one a line; printed "
                                         "on every slip this office prints, with its address and phone.")
    active = BooleanField("Active", default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.default_destination.choices = [("", "—")] + country_choices()
        self.subdivision.choices = [("", "—")]
