from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.codes.classifications import ISIC_SECTIONS
from registry.codes.geography import country_choices, subdivisions_of
from registry.core.forms import StrictDateField
from registry.referrals.models import REFERRAL_STATUSES, SERVICE_KINDS, TARGET_KINDS, WAGE_PERIODS
from registry.referrals.services import DEFAULT_DAYS_TO_ATTEND

# The currencies wages in the region are offered in come first; any ISO 4217 code is accepted.
WAGE_CURRENCIES = ("ZAR", "BWP", "NAD", "ZMW", "MZN", "MWK", "LSL", "SZL", "ZWG", "USD", "EUR", "GBP")


class _PlaceForm(FlaskForm):
    """A country and one of its provinces or regions; the choices of the second follow the first."""

    country = SelectField("Country", validate_choice=False)  # checked by the service
    subdivision = SelectField("Province or region", validate_choice=False)

    def __init__(self, *args, default_country="ZA", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        if not self.country.data:
            self.country.data = default_country
        self.subdivision.choices = [("", "—")] + list(subdivisions_of(self.country.data))


class ServiceForm(_PlaceForm):
    kind = SelectField("Kind of service", choices=[SelectChoice(k, v) for k, v in SERVICE_KINDS.items()])
    name = StringField("Name", validators=[DataRequired(), Length(max=160)])
    address = StringField("Address", validators=[DataRequired(), Length(max=255)])
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    hours = StringField("Opening hours", validators=[Optional(), Length(max=160)],
                        render_kw={"placeholder": "Mon-Fri 08:00-16:30"})
    what_to_bring = TextAreaField("What to bring", validators=[Optional(), Length(max=500)], render_kw={"rows": 3},
                                  description="One item a line; printed on every referral slip to this service.")
    active = BooleanField("Takes referrals", default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)


class EmployerForm(_PlaceForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160)])
    address = StringField("Address", validators=[Optional(), Length(max=255)])
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    email = StringField("Email", validators=[Optional(), Length(max=160)])
    contact_name = StringField("Contact person", validators=[Optional(), Length(max=160)])
    registration_number = StringField("Company or licence number", validators=[Optional(), Length(max=64)])
    sector = SelectField("Sector (ISIC Rev.4)", validate_choice=False, choices=[SelectChoice("", "—")] + [
        SelectChoice(k, f"{k} {v}") for k, v in ISIC_SECTIONS.items()])
    verified = BooleanField("Verified by the labour office",
                            description="The employer exists and recruits lawfully; who and when are stamped.")
    active = BooleanField("Active", default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)


class VacancyForm(_PlaceForm):
    title = StringField("Job", validators=[DataRequired(), Length(max=160)],
                        render_kw={"placeholder": "Citrus pickers"})
    occupation_code = StringField("Occupation (ISCO-08)", validators=[DataRequired(), Length(max=4)],
                                  description="Type a code or words, e.g. 9211 or farm; pick with the arrow keys.",
                                  render_kw={"data-isco-picker": "single", "autocomplete": "off"})
    address = StringField("Where to report (if not the employer's address)", validators=[Optional(), Length(max=255)])
    places = IntegerField("Workers wanted", validators=[InputRequired("Enter how many workers are wanted.")])
    starts_on = StrictDateField("Work starts", validators=[InputRequired("Enter the day the work starts.")])
    ends_on = StrictDateField("Work ends", validators=[Optional()])
    closes_on = StrictDateField("Last day to refer candidates", validators=[Optional()])
    wage_amount = IntegerField("Wage", validators=[Optional()])
    wage_currency = SelectField("Currency", validate_choice=False,
                                choices=[SelectChoice("", "—")] + [SelectChoice(c, c) for c in WAGE_CURRENCIES])
    wage_period = SelectField("Paid", choices=[SelectChoice("", "—")]
                              + [SelectChoice(k, v) for k, v in WAGE_PERIODS.items()], validate_choice=False)
    what_to_bring = TextAreaField("What to bring", validators=[Optional(), Length(max=500)], render_kw={"rows": 3},
                                  description="One item a line; printed on every referral slip to this vacancy.")
    # The job order's recruitment terms (registry.recruitment.orders).
    agency_id = SelectField("Recruitment agency", validate_choice=False,
                            description="Only agencies with a valid licence can be chosen for a new job order.")
    season = StringField("Season", validators=[Optional(), Length(max=80)],
                         render_kw={"placeholder": "Citrus harvest 2026"})
    duration_months = IntegerField("Duration in months (if the end date is not known)", validators=[Optional()])
    skills_required = TextAreaField("Skills required", validators=[Optional(), Length(max=500)], render_kw={"rows": 2},
                                    description="Separated by commas, e.g. pruning, tractor driving.")
    certificates_required = TextAreaField("Certificates required", validators=[Optional(), Length(max=500)],
                                          render_kw={"rows": 2}, description="Separated by commas.")
    housing_provided = BooleanField("Housing provided")
    transport_provided = BooleanField("Transport provided")
    provisions_note = StringField("Housing and transport: details", validators=[Optional(), Length(max=255)])
    worker_fee_amount = IntegerField("Recruitment fee charged to the worker", validators=[Optional()],
                                     description="Workers pay no recruitment fee: a job order that charges one stays "
                                                 "a draft.")
    worker_fee_currency = SelectField("Fee currency", validate_choice=False,
                                      choices=[SelectChoice("", "—")] + [SelectChoice(c, c) for c in WAGE_CURRENCIES])
    draft = BooleanField("Keep as a draft until the contract is vetted",
                         description="A draft is not offered to job seekers and no one can be referred to it.")
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_id.choices = [SelectChoice("", "None: the employer recruits directly")] + [
            SelectChoice(str(agency.id), f"{agency.name} ({agency.licence_number})") for agency in agencies]
        if self.agency_id.data is not None and not isinstance(self.agency_id.data, str):
            self.agency_id.data = str(self.agency_id.data)


class VacancyStatusForm(FlaskForm):
    status = HiddenField()
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class ReferForm(FlaskForm):
    # Choices are "service:<id>" and "vacancy:<id>", grouped; the view resolves and the service checks them.
    target = SelectField("Refer to", validate_choice=False, validators=[DataRequired("Choose a service or vacancy.")])
    due_by = StrictDateField("Attend by", validators=[InputRequired("Enter the day to attend by.")])
    note = TextAreaField("Note for the slip's record", validators=[Optional(), Length(max=500)], render_kw={"rows": 2})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.due_by.data is None and not self.is_submitted():
            self.due_by.data = date.today() + timedelta(days=DEFAULT_DAYS_TO_ATTEND)


class OutcomeForm(FlaskForm):
    status = SelectField("Outcome", choices=[SelectChoice(k, v) for k, v in REFERRAL_STATUSES.items()
                                             if k != "issued"], validate_choice=False)
    on = StrictDateField("Date", validators=[InputRequired("Enter the date of the outcome.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)], render_kw={"rows": 2})
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class ReferralFilterForm(FlaskForm):
    class Meta:
        csrf = False  # filters only read

    state = SelectField("Show", default="open", validators=[Optional()], choices=[
        SelectChoice("open", "Open (issued or attended)"), SelectChoice("overdue", "Overdue (not attended in time)"),
        SelectChoice("all", "All")] + [SelectChoice(k, v) for k, v in REFERRAL_STATUSES.items()])
    kind = SelectField("Kind", validators=[Optional()],
                       choices=[SelectChoice("", "Any")] + [SelectChoice(k, v) for k, v in TARGET_KINDS.items()])
    office_code = StringField("Office", validators=[Optional(), Length(max=5)])


class VacancyFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField("Show", default="open", validators=[Optional()],
                        choices=[SelectChoice("open", "Taking referrals"), SelectChoice("all", "All")])
    country = SelectField("Country", validators=[Optional()])
    occupation = StringField("Occupation (ISCO-08 code, any level)", validators=[Optional(), Length(max=4)],
                             render_kw={"data-isco-picker": "any", "autocomplete": "off"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", "Any")] + country_choices()


