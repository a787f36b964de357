from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.core.forms import StrictDateField
from registry.recruitment.models import AGENCY_STATUSES, SELECTION_STEPS
from registry.recruitment.orders import CHECKLIST
from registry.referrals.forms import _PlaceForm
from registry.referrals.services import DEFAULT_DAYS_TO_ATTEND


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
