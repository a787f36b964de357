from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.codes.geography import country_choices
from registry.offices.models import OFFICE_KINDS


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
    active = BooleanField("Active", default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.default_destination.choices = [("", "—")] + country_choices()
        self.subdivision.choices = [("", "—")]
