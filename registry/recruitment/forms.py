from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.core.forms import StrictDateField
from registry.recruitment.models import (
    AGENCY_STATUSES, COMPLAINANTS, COMPLAINT_KINDS, COMPLAINT_STATUSES, RETURN_REASONS, SELECTION_STEPS,
)
from registry.recruitment.orders import CHECKLIST
from registry.referrals.forms import WAGE_CURRENCIES, _PlaceForm
from registry.referrals.services import DEFAULT_DAYS_TO_ATTEND


CURRENCY_CHOICES = [SelectChoice("", "—")] + [SelectChoice(c, c) for c in WAGE_CURRENCIES]


class AgencyForm(_PlaceForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160)])
    licence_number = StringField("Licence number", validators=[DataRequired(), Length(max=64)])
    licence_valid_from = StrictDateField("Licence valid from", validators=[InputRequired("Enter the day the "
                                                                                         "licence was granted.")])
    licence_valid_until = StrictDateField("Licence valid until", validators=[InputRequired("Enter the day the "
                                                                                           "licence expires.")])
    status = SelectField("Licence", choices=[SelectChoice(k, v) for k, v in AGENCY_STATUSES.items()],
                         validate_choice=False)
    address = StringField("Address", validators=[Optional(), Length(max=255)])
    phone = StringField("Phone", validators=[Optional(), Length(max=30)])
    email = StringField("Email", validators=[Optional(), Length(max=160)])
    contact_name = StringField("Contact person", validators=[Optional(), Length(max=160)])
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()], default=0)


VETTING_CHOICES = [SelectChoice("pass", "Met"), SelectChoice("fail", "Not met")]


class VettingForm(FlaskForm):
    """One met / not met answer for every point of the contract-vetting checklist."""

    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])

    def results(self):
        """{point: True|False|None} as answered."""
        return {point: {"pass": True, "fail": False}.get(getattr(self, point).data) for point in CHECKLIST}


for _point, _label in CHECKLIST.items():
    setattr(VettingForm, _point, RadioField(_label, choices=VETTING_CHOICES, validate_choice=False,
                                            validators=[Optional()]))


class ReferCandidatesForm(FlaskForm):
    # The chosen registrations come as repeated `registration` values; the view resolves them.
    due_by = StrictDateField("Attend the interview by", validators=[InputRequired("Enter the day to attend by.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.due_by.data is None and not self.is_submitted():
            self.due_by.data = date.today() + timedelta(days=DEFAULT_DAYS_TO_ATTEND)


class StepForm(FlaskForm):
    # The chosen referrals come as repeated `referral` values.
    step = SelectField("Step", choices=[SelectChoice(k, v) for k, v in SELECTION_STEPS.items()],
                       validate_choice=False)
    on = StrictDateField("Date", validators=[InputRequired("Enter the date of the step.")])
    note = StringField("Note", validators=[Optional(), Length(max=255)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.on.data is None and not self.is_submitted():
            self.on.data = date.today()


class GroupListForm(FlaskForm):
    departure_on = StrictDateField("Departure", validators=[InputRequired("Enter the day the group leaves.")])


class UndoStepForm(FlaskForm):
    step = HiddenField()


class ShortlistForm(FlaskForm):
    class Meta:
        csrf = False  # only reads

    limit = IntegerField("Show", default=50, validators=[Optional()])


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=255)])


class FindReturningForm(FlaskForm):
    """Looking a returning worker up: by registration number, or by who they are (identity matching)."""

    class Meta:
        csrf = False  # only reads

    number = StringField("Registration number", validators=[Optional(), Length(max=30)])
    surname = StringField("Surname", validators=[Optional(), Length(max=80)])
    given_names = StringField("Given names", validators=[Optional(), Length(max=120)])
    date_of_birth = StrictDateField("Date of birth", validators=[Optional()])
    national_id = StringField("National ID", validators=[Optional(), Length(max=30)])
    passport_number = StringField("Passport number", validators=[Optional(), Length(max=30)])


class ReturnForm(FlaskForm):
    returned_on = StrictDateField("Day of return", validators=[InputRequired("Enter the day the worker came back.")])
    reason = SelectField("Why they came back", choices=[SelectChoice("", "—")] + [
        SelectChoice(k, v) for k, v in RETURN_REASONS.items()], validate_choice=False)
    wages_owed_amount = IntegerField("Wages owed by the employer", validators=[Optional()],
                                     description="Whole units; leave empty when nothing is owed.")
    wages_owed_currency = SelectField("Currency of the wages owed", choices=CURRENCY_CHOICES, validate_choice=False)
    note = TextAreaField("What the worker reports (complaints, needs)", validators=[Optional(), Length(max=500)])
    services = SelectMultipleField("Refer to", choices=[], validate_choice=False, coerce=str)
    due_by = StrictDateField("Attend the services by", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.returned_on.data = self.returned_on.data or date.today()
            self.due_by.data = self.due_by.data or date.today() + timedelta(days=DEFAULT_DAYS_TO_ATTEND)


class ComplaintForm(FlaskForm):
    received_on = StrictDateField("Received on", validators=[InputRequired("Enter the day it was received.")])
    kind = SelectField("What about", choices=[SelectChoice("", "—")] + [
        SelectChoice(k, v) for k, v in COMPLAINT_KINDS.items()], validate_choice=False)
    complainant = SelectField("Who complains", choices=[SelectChoice(k, v) for k, v in COMPLAINANTS.items()],
                              validate_choice=False)
    complainant_name = StringField("Their name", validators=[Optional(), Length(max=160)])
    complainant_phone = StringField("Their phone", validators=[Optional(), Length(max=30)])
    employer_id = SelectField("Against the employer", choices=[], validate_choice=False)
    agency_id = SelectField("Against the agency", choices=[], validate_choice=False)
    registration_number = StringField("Registration of the worker (if known)", validators=[Optional(),
                                                                                         Length(max=30)])
    description = TextAreaField("What happened", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and self.received_on.data is None:
            self.received_on.data = date.today()


class ComplaintStatusForm(FlaskForm):
    status = SelectField("New state", choices=[SelectChoice(k, v) for k, v in COMPLAINT_STATUSES.items()
                                               if k != "received"], validate_choice=False)
    on = StrictDateField("On", validators=[InputRequired("Enter the day of the change.")])
    note = TextAreaField("What was done", validators=[Optional(), Length(max=500)])
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and self.on.data is None:
            self.on.data = date.today()
