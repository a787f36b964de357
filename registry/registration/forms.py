from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.codes.classifications import ISIC_SECTIONS
from registry.codes.geography import country_choices, subdivisions_of
from registry.core.forms import StrictDateField
from registry.people.forms import PersonFieldsForm
from registry.people.models import SEXES
from registry.registration.models import STATUSES


class RegistrationFieldsForm(FlaskForm):
    """Where the person wants to go and what they can do."""

    destination_country = SelectField("Destination country", validate_choice=False)  # checked by the service
    destination_subdivision = SelectField("Destination province or region", validate_choice=False)
    intended_sector = SelectField("Intended industry (ISIC Rev.4)",
                                  choices=[SelectChoice("", "—")]
                                  + [SelectChoice(k, f"{k} — {v}") for k, v in ISIC_SECTIONS.items()])
    occupation_code = StringField("Occupation sought (ISCO-08)", validators=[Length(max=4)],
                                  description="Type a code or words, e.g. 9211 or farm; pick with the arrow keys.",
                                  render_kw={"data-isco-picker": "single", "autocomplete": "off"})
    other_occupation_codes = StringField("Other occupations the person can do (ISCO-08)", validators=[Length(max=100)],
                                         render_kw={"data-isco-picker": "multi", "autocomplete": "off"})
    skills = TextAreaField("Skills", validators=[Length(max=500)], render_kw={"rows": 2})
    certificates = TextAreaField("Certificates and licences", validators=[Length(max=500)], render_kw={"rows": 2})
    prior_learning_recognised = BooleanField("Prior learning recognised (RPL)")
    years_experience = IntegerField("Years of experience", validators=[Optional(), NumberRange(0, 65)])
    has_job_offer = BooleanField("Has a job offer")
    employer_name = StringField("Employer", validators=[Length(max=160)])
    agency_name = StringField("Recruitment agency", validators=[Length(max=160)])

    def __init__(self, *args, default_destination="ZA", **kwargs):
        """`default_destination` is a country code, or a function giving one: called only when the form has
        no destination yet (a new form), so a submitted form costs no lookup."""
        super().__init__(*args, **kwargs)
        self.destination_country.choices = country_choices()
        if not self.destination_country.data:
            self.destination_country.data = default_destination() if callable(default_destination) \
                else default_destination
        self.destination_subdivision.choices = [("", "—")] + list(subdivisions_of(self.destination_country.data))


class NewRegistrationForm(PersonFieldsForm, RegistrationFieldsForm):
    override_duplicates = BooleanField("I have checked: this is a different person")
    use_person = HiddenField()


class EditRegistrationForm(RegistrationFieldsForm):
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=[SelectChoice(k, v) for k, v in STATUSES.items()])
    on = StrictDateField("Date of the change", validators=[InputRequired("Enter the date of the change.")])
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class FindForm(FlaskForm):
    class Meta:
        csrf = False

    number = StringField("Registration number", render_kw={"placeholder": "BBR-2026-000123-K", "autocomplete": "off"})


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # filters only read

    registered_from = StrictDateField("From", validators=[Optional()])
    registered_to = StrictDateField("To", validators=[Optional()])
    destination_country = SelectField("Destination", validators=[Optional()])
    occupation = StringField("Occupation (ISCO-08 code, any level)", validators=[Optional(), Length(max=4)],
                             render_kw={"data-isco-picker": "any", "autocomplete": "off"})
    status = SelectField("Status", validators=[Optional()],
                         choices=[SelectChoice("", "Any")] + [SelectChoice(k, v) for k, v in STATUSES.items()])
    sex = SelectField("Sex", choices=[SelectChoice("", "Any")] + [SelectChoice(k, v) for k, v in SEXES.items()],
                      validators=[Optional()])
    office_code = StringField("Office", validators=[Optional(), Length(max=5)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.destination_country.choices = [("", "Any")] + country_choices()
