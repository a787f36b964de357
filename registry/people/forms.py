from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from registry.codes.classifications import ISCED_LEVELS
from registry.codes.geography import country_choices, language_choices, subdivisions_of
from registry.core.forms import StrictDateField
from registry.people.models import SEXES


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PersonFieldsForm(FlaskForm):
    """The person's identity. Used alone to edit a person, and inside the new-registration form."""

    surname = StringField("Surname", validators=[InputRequired("Enter the surname."), Length(max=80)],
                          render_kw={"autocomplete": "off", "autocapitalize": "words"})
    given_names = StringField("Given names", validators=[InputRequired("Enter the given names."), Length(max=80)],
                              render_kw={"autocomplete": "off", "autocapitalize": "words"})
    sex = RadioField("Sex", choices=[SelectChoice(k, v) for k, v in SEXES.items()],
                     validators=[InputRequired("Choose female or male.")])
    date_of_birth = StrictDateField("Date of birth", validators=[InputRequired("Enter the date of birth.")])
    # Country lists are long; the services check every country code, so the forms need not (saves time
    # on every registration).
    citizenship = SelectField("Citizenship", default="ZW", validate_choice=False)
    national_id = StringField("National ID number", validators=[Length(max=40)],
                              description="Zimbabwe: 63-123456 A 78. Leave empty if the person has none.",
                              render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    passport_number = StringField("Passport number", validators=[Length(max=40)],
                                  render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    passport_country = SelectField("Passport issued by", validators=[Optional()], validate_choice=False)
    phone = StringField("Phone", validators=[Length(max=30)], description="e.g. 077 212 3456 or +27 82 123 4567",
                        render_kw={"type": "tel", "autocomplete": "off"})
    home_subdivision = SelectField("Home province", validate_choice=False)
    home_district = StringField("Home district", validators=[Length(max=80)])
    languages = MultiCheckboxField("Languages spoken")
    education_level = SelectField("Highest education completed (ISCED 2011)",
                                  choices=[SelectChoice("", "—")]
                                  + [SelectChoice(k, f"{k} — {v}") for k, v in ISCED_LEVELS.items()])
    consent = BooleanField("The person consents to the processing of their data for labour migration services")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.citizenship.choices = country_choices()
        self.passport_country.choices = [("", "Same as citizenship")] + country_choices()
        self.home_subdivision.choices = [("", "—")] + list(subdivisions_of(self.citizenship.data or "ZW"))
        self.languages.choices = language_choices()


class PersonEditForm(PersonFieldsForm):
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    consent = None  # consent was recorded when the person was first registered


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("National ID, passport number or name", validators=[Length(max=120)],
                    render_kw={"autofocus": True, "autocomplete": "off", "type": "search"})
    dob = StrictDateField("Date of birth", validators=[Optional()])
