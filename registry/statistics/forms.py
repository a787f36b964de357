from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from registry.codes.geography import country_choices
from registry.core.forms import StrictDateField
from registry.statistics.tables import CATALOGUE


class _FilterFields(FlaskForm):
    period = StringField("Period", validators=[Optional(), Length(max=7)],
                         description="A year (2026), a quarter (2026-Q1) or a month (2026-03); or leave it empty "
                                     "and give the first and last day.",
                         render_kw={"placeholder": "2026-Q1", "autocomplete": "off"})
    date_from = StrictDateField("First day", validators=[Optional()])
    date_to = StrictDateField("Last day", validators=[Optional()])
    office = StringField("Office", validators=[Optional(), Length(max=5)], description="Empty: every office.")
    destination = SelectField("Country of destination", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.destination.choices = [("", "Every destination")] + country_choices()


class TableForm(_FilterFields):
    class Meta:
        csrf = False  # a table only reads

    table = SelectField("Table", choices=[SelectChoice(name, spec.title) for name, spec in CATALOGUE.items()])


EXTRACT_FORMATS = [SelectChoice("csv", "CSV (UTF-8)"), SelectChoice("xlsx", "Excel workbook (XLSX)")]


class MicrodataForm(_FilterFields):
    format = SelectField("Format", choices=EXTRACT_FORMATS)


class FullExtractForm(_FilterFields):
    format = SelectField("Format", choices=EXTRACT_FORMATS)
    recipient = StringField("Recipient", validators=[Length(max=200)],
                            description="Who receives the data, e.g. a partner ministry or IOM.")
    purpose = StringField("Purpose", validators=[Length(max=200)])
    agreement = StringField("Data-sharing agreement", validators=[Length(max=200)],
                            description="Its reference, e.g. MoU MOL-IOM 2026/04.")

