"""The catalogue of standard tables and how each is computed (docs/statistics.md states the definitions).

A table counts one population (registered outbound migrant workers, registered returning migrant workers,
referrals, placements, returns recorded at a post, complaints; registry.statistics.populations) in a date
range, optionally for one office and one destination, cross-classified by row dimensions (one, or two for a
three-way table) and one column dimension. Person-level tables count each person once in the range: a
person's latest registration in the range decides the cells they fall in, and people linked as the same
person at head office count once. Counting happens in the database (one GROUP BY a table); the result is a
grid with every category of a fixed classification, a "not stated" row where data can be missing, and
totals, before disclosure control.
"""
import calendar
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import func, select

from registry.codes.classifications import ISCED_LEVELS, ISIC_SECTIONS
from registry.codes.geography import country_name, subdivision_name
from registry.codes.isco import occupation_title
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.offices.models import Office
from registry.people.models import SEXES
from registry.recruitment.models import COMPLAINT_KINDS, COMPLAINT_STATUSES, RETURN_REASONS, Agency
from registry.referrals.models import REFERRAL_STATUSES, TARGET_KINDS, Employer
from registry.statistics.populations import (
    COMPLAINTS, DEPARTURE_BANDS, DIRECT, NO_PLACEMENT, NONE_NAMED, OUTBOUND, PLACEMENTS, REFERRALS, RETURNING,
    RETURNS, Population, population_query,
)
from registry.statistics.populations import person_key  # noqa: F401 (read from here by microdata)
from registry.statistics.sql import AGE_GROUPS, NOT_STATED
from registry.statistics.sql import age_group, age_on  # noqa: F401 (read from here by microdata)

NOT_STATED_LABEL = "Not stated"
MAX_DAYS = 366 * 10 + 3


class UnknownTable(NotFound):
    pass


# Dimensions ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dimension:
    """One way of classifying what a table counts: the column of the population it reads, the categories it
    always shows (None: those found, in label order), how a code reads, and its SDMX concept."""

    key: str
    label: str
    column: str  # the population's column
    categories: tuple | None = None  # fixed (code, label) pairs, in order
    labeller: object = None  # code -> label, for categories found in the data
    sdmx: str = ""  # the SDMX-style column of tidy extracts
    sdmx_prefix: str = ""  # prepended to codes in tidy extracts, e.g. ISCO08_
    not_stated: bool = False  # the data can be missing: a "not stated" category is always shown
    sort_by_code: bool = False
    # (code, label) of units with nothing to classify them by (no agency, no placement), coded so by the
    # population's query: always shown, after the categories found
    absent: tuple = ()

    def label_of(self, code):
        if code == NOT_STATED:
            return NOT_STATED_LABEL
        if code in dict(self.absent):
            return dict(self.absent)[code]
        if self.categories:
            return dict(self.categories).get(code, code)
        return (self.labeller(code) if self.labeller else None) or code


def _isco_label(code):
    title = occupation_title(code)
    return f"{code} {title}" if title else code


def _stored(model, code):
    """The row a code (an id as 32 hexadecimal digits) names, removed or not: a removed employer or agency
    still labels what was counted under it."""
    try:
        return db.session.get(model, uuid.UUID(hex=code))
    except ValueError:
        return None


def _employer_label(code):
    employer = _stored(Employer, code)
    return employer and f"{employer.name} ({employer.country})"


def _agency_label(code):
    agency = _stored(Agency, code)
    return agency and f"{agency.name} (licence {agency.licence_number})"


SEX = Dimension("sex", "Sex", "sex", tuple(SEXES.items()), sdmx="SEX")
AGE = Dimension("age_group", "Age group", "age_group", tuple((label, label) for label, *_ in AGE_GROUPS),
                sdmx="AGE")
DESTINATION = Dimension("destination", "Country of destination", "destination", labeller=country_name,
                        sdmx="COUNTERPART_AREA")
RETURNED_FROM = Dimension("returned_from", "Country returned from", "destination", labeller=country_name,
                          sdmx="COUNTERPART_AREA")
SUBDIVISION = Dimension("destination_subdivision", "Province or region of destination", "subdivision",
                        labeller=subdivision_name, sdmx="COUNTERPART_AREA_SUB", not_stated=True)
ISCO_MAJOR = Dimension("isco_major", "Occupation (ISCO-08 major group)", "isco_major", labeller=_isco_label,
                       sdmx="OCCUPATION", sdmx_prefix="ISCO08_", not_stated=True, sort_by_code=True)
ISCO_SUBMAJOR = Dimension("isco_submajor", "Occupation (ISCO-08 sub-major group)", "isco_submajor",
                          labeller=_isco_label, sdmx="OCCUPATION", sdmx_prefix="ISCO08_", not_stated=True,
                          sort_by_code=True)
EDUCATION = Dimension("isced", "Education (ISCED 2011 level)", "isced",
                      tuple((code, f"{code} {label}") for code, label in ISCED_LEVELS.items()),
                      sdmx="EDUCATION", sdmx_prefix="ISCED11_", not_stated=True)
INDUSTRY = Dimension("isic", "Intended industry (ISIC Rev.4 section)", "isic",
                     tuple((code, f"{code} {label}") for code, label in ISIC_SECTIONS.items()),
                     sdmx="ECONOMIC_ACTIVITY", sdmx_prefix="ISIC4_", not_stated=True)
HOME_AREA = Dimension("home_area", "Home province (ISO 3166-2)", "home_area", labeller=subdivision_name,
                      sdmx="HOME_AREA", not_stated=True)
OFFICE = Dimension("office", "Registering office", "office", sdmx="OFFICE", sort_by_code=True)
MONTH = Dimension("month", "Month", "month", sdmx="TIME_PERIOD_MONTH", sort_by_code=True)
QUARTER = Dimension("quarter", "Quarter", "quarter", sdmx="TIME_PERIOD_QUARTER", sort_by_code=True)
TARGET = Dimension("target", "Referred to", "target", tuple(TARGET_KINDS.items()), sdmx="REFERRAL_TARGET")
OUTCOME = Dimension("outcome", "Status of the referral", "outcome", tuple(REFERRAL_STATUSES.items()),
                    sdmx="REFERRAL_STATUS")
VACANCY_COUNTRY = Dimension("vacancy_country", "Country of the job", "destination", labeller=country_name,
                            sdmx="COUNTERPART_AREA")
NO_PLACEMENT_RECORDED = (NO_PLACEMENT, "No placement recorded")
DIRECT_HIRE = (DIRECT, "No agency (direct hire)")
EMPLOYER = Dimension("employer", "Employer", "employer", labeller=_employer_label, sdmx="EMPLOYER")
AGENCY = Dimension("agency", "Recruitment agency", "agency", labeller=_agency_label, sdmx="AGENCY",
                   absent=(DIRECT_HIRE,))
RETURN_EMPLOYER = replace(EMPLOYER, label="Employer of the placement", absent=(NO_PLACEMENT_RECORDED,))
RETURN_AGENCY = replace(AGENCY, label="Recruitment agency of the placement",
                        absent=(DIRECT_HIRE, NO_PLACEMENT_RECORDED))
COMPLAINT_EMPLOYER = replace(EMPLOYER, label="Employer complained against", absent=((NONE_NAMED, "No employer named"),))
COMPLAINT_AGENCY = replace(AGENCY, label="Agency complained against", absent=((NONE_NAMED, "No agency named"),))
RETURN_REASON = Dimension("reason", "Reason for return", "reason", tuple(RETURN_REASONS.items()),
                          sdmx="RETURN_REASON")
COMPLAINT_KIND = Dimension("kind", "Kind of complaint", "kind", tuple(COMPLAINT_KINDS.items()),
                           sdmx="COMPLAINT_KIND")
COMPLAINT_STATUS = Dimension("status", "Status of the complaint", "status", tuple(COMPLAINT_STATUSES.items()),
                             sdmx="COMPLAINT_STATUS")
DEPARTURE_DAYS = Dimension("departure_days", "Days from registration to departure", "departure_days",
                           tuple((code, f"{low}-{high} days" if high < DEPARTURE_BANDS[-1][2] else
                                  f"More than {low - 1} days") for code, low, high in DEPARTURE_BANDS),
                           sdmx="DURATION")


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    population: Population
    rows: tuple  # one Dimension, or two for a three-way table
    column: Dimension
    coarser: str | None = None  # a table with a coarser breakdown, offered when this one is mostly suppressed
    note: str = ""  # what the table's own dimension means, added to the population's definition

    @property
    def dimensions(self):
        return (*self.rows, self.column)


CATALOGUE = {spec.name: spec for spec in (
    TableSpec("outbound-sex-destination", "Registered outbound migrant workers by sex and country of destination",
              OUTBOUND, (DESTINATION,), SEX),
    TableSpec("outbound-sex-age", "Registered outbound migrant workers by sex and age group", OUTBOUND, (AGE,), SEX),
    TableSpec("outbound-sex-occupation", "Registered outbound migrant workers by sex and occupation "
              "(ISCO-08 major group)", OUTBOUND, (ISCO_MAJOR,), SEX),
    TableSpec("outbound-sex-occupation-submajor", "Registered outbound migrant workers by sex and occupation "
              "(ISCO-08 sub-major group)", OUTBOUND, (ISCO_SUBMAJOR,), SEX, coarser="outbound-sex-occupation"),
    TableSpec("outbound-sex-education", "Registered outbound migrant workers by sex and level of education "
              "(ISCED 2011)", OUTBOUND, (EDUCATION,), SEX),
    TableSpec("outbound-sex-industry", "Registered outbound migrant workers by sex and intended industry "
              "(ISIC Rev.4 section)", OUTBOUND, (INDUSTRY,), SEX),
    TableSpec("outbound-destination-occupation", "Registered outbound migrant workers by country of destination "
              "and occupation (ISCO-08 major group)", OUTBOUND, (DESTINATION,), ISCO_MAJOR),
    TableSpec("outbound-sex-subdivision", "Registered outbound migrant workers by sex and province or region of "
              "destination (ISO 3166-2)", OUTBOUND, (SUBDIVISION,), SEX, coarser="outbound-sex-destination"),
    TableSpec("outbound-sex-home-area", "Registered outbound migrant workers by sex and home province",
              OUTBOUND, (HOME_AREA,), SEX),
    TableSpec("outbound-office-month", "Registered outbound migrant workers by registering office and month",
              OUTBOUND, (OFFICE,), MONTH, coarser="outbound-office-quarter"),
    TableSpec("outbound-office-quarter", "Registered outbound migrant workers by registering office and quarter",
              OUTBOUND, (OFFICE,), QUARTER),
    TableSpec("outbound-sex-age-destination", "Registered outbound migrant workers by sex, age group and country "
              "of destination", OUTBOUND, (AGE, DESTINATION), SEX),
    TableSpec("referrals-target-outcome", "Referrals by target and outcome", REFERRALS, (TARGET,), OUTCOME),
    TableSpec("placements-destination-occupation", "Placements in vacancies by country and occupation "
              "(ISCO-08 major group)", PLACEMENTS, (VACANCY_COUNTRY,), ISCO_MAJOR),
    TableSpec("returning-sex-country", "Registered returning migrant workers by sex and country returned from",
              RETURNING, (RETURNED_FROM,), SEX),
    TableSpec("placements-employer-sex", "Placements in vacancies by employer and sex", PLACEMENTS, (EMPLOYER,), SEX,
              coarser="placements-country-sex"),
    TableSpec("placements-country-sex", "Placements in vacancies by country of the job and sex", PLACEMENTS,
              (VACANCY_COUNTRY,), SEX),
    TableSpec("placements-agency-sex", "Placements in vacancies by recruitment agency and sex", PLACEMENTS,
              (AGENCY,), SEX),
    TableSpec("placements-duration-sex", "Placements in vacancies by time from registration to departure and sex",
              PLACEMENTS, (DEPARTURE_DAYS,), SEX,
              note="Time from registration to departure: days from the day the registration was made to the day "
                   "the worker departed (the placement's day, which also dates the period)."),
    TableSpec("returns-employer-reason", "Returns of registered migrant workers by employer of the placement and "
              "reason for return", RETURNS, (RETURN_EMPLOYER,), RETURN_REASON, coarser="returns-country-reason"),
    TableSpec("returns-country-reason", "Returns of registered migrant workers by country returned from and "
              "reason for return", RETURNS, (RETURNED_FROM,), RETURN_REASON),
    TableSpec("returns-agency-reason", "Returns of registered migrant workers by recruitment agency of the "
              "placement and reason for return", RETURNS, (RETURN_AGENCY,), RETURN_REASON),
    TableSpec("complaints-employer-kind", "Complaints by employer complained against and kind of complaint",
              COMPLAINTS, (COMPLAINT_EMPLOYER,), COMPLAINT_KIND),
    TableSpec("complaints-agency-kind", "Complaints by agency complained against and kind of complaint",
              COMPLAINTS, (COMPLAINT_AGENCY,), COMPLAINT_KIND),
    TableSpec("complaints-kind-status", "Complaints by kind and status", COMPLAINTS, (COMPLAINT_KIND,),
              COMPLAINT_STATUS),
)}


def get_spec(name):
    spec = CATALOGUE.get((name or "").strip().lower())
    if spec is None:
        raise UnknownTable(f"There is no standard table {name!r}. Choose one of: {', '.join(CATALOGUE)}.",
                           field="table")
    return spec


# Requests -----------------------------------------------------------------------------------------------

PERIOD_RE = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


@dataclass(frozen=True)
class Period:
    """A reference period: a year (2026), a quarter (2026-Q1), a month (2026-03), or a range of days."""

    start: date
    end: date
    frequency: str  # A, Q, M, or D for a range of days
    label: str

    @property
    def sdmx_time(self):
        return self.label if self.frequency != "D" else f"{self.start.isoformat()}/{self.end.isoformat()}"


def parse_period(text):
    match = PERIOD_RE.match((text or "").strip().upper())
    if not match:
        raise ValidationFailed({"period": [f"{text!r} is not a period: write a year (2026), a quarter (2026-Q1) "
                                           "or a month (2026-03)."]})
    year, quarter, month = int(match[1]), match[2], match[3]
    if not 1900 <= year <= 2999:
        raise ValidationFailed({"period": [f"{year} is not a year the registry holds."]})
    if quarter:
        first = 3 * (int(quarter) - 1) + 1
        return Period(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]), "Q",
                      f"{year}-Q{quarter}")
    if month:
        number = int(month)
        if not 1 <= number <= 12:
            raise ValidationFailed({"period": [f"{text!r}: months run from 01 to 12."]})
        return Period(date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1]), "M",
                      f"{year}-{month}")
    return Period(date(year, 1, 1), date(year, 12, 31), "A", str(year))


def date_range(start, end):
    """A period of whole days; a range that ends before it starts is refused."""
    errors = {}
    if not isinstance(start, date):
        errors["date_from"] = ["Enter the first day as YYYY-MM-DD."]
    if not isinstance(end, date):
        errors["date_to"] = ["Enter the last day as YYYY-MM-DD."]
    if not errors and end < start:
        errors["date_to"] = [f"The range ends ({end.isoformat()}) before it starts ({start.isoformat()})."]
    if not errors and (end - start).days > MAX_DAYS:
        errors["date_to"] = ["Ask for at most ten years at a time."]
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end, "D", f"{start.isoformat()} to {end.isoformat()}")


@dataclass(frozen=True)
class TableRequest:
    spec: TableSpec
    period: Period
    office: str | None = None
    destination: str | None = None

    def filters(self):
        """The request as words, for titles and metadata."""
        parts = [f"period {self.period.label}"]
        if self.office:
            parts.append(f"office {self.office}")
        if self.destination:
            parts.append(f"destination {country_name(self.destination) or self.destination}")
        return ", ".join(parts)


def make_request(table, period, office=None, destination=None):
    """A checked request: a known table, an existing office, a known country."""
    spec = get_spec(table)
    office = (office or "").strip().upper() or None
    if office and db.session.scalar(select(Office.id).where(Office.code == office)) is None:
        raise ValidationFailed({"office": [f"There is no office {office}."]})
    destination = (destination or "").strip().upper() or None
    if destination and not country_name(destination):
        raise ValidationFailed({"destination": [f"{destination} is not an ISO 3166-1 country code."]})
    return TableRequest(spec, period, office, destination)


# Computing ----------------------------------------------------------------------------------------------

@dataclass
class Counts:
    """A table before disclosure control: categories and a grid of counts (rows x columns)."""

    request: TableRequest
    row_keys: list  # tuples of codes, one per row dimension
    column_keys: list  # codes
    grid: list  # rows of ints
    notes: list = field(default_factory=list)

    @property
    def spec(self):
        return self.request.spec

    def row_labels(self):
        return [tuple(dim.label_of(code) for dim, code in zip(self.spec.rows, key)) for key in self.row_keys]

    def column_labels(self):
        return [self.spec.column.label_of(code) for code in self.column_keys]

    @property
    def total(self):
        return sum(map(sum, self.grid))


def _categories(dimension, found, request):
    """Every category to show: the fixed list (plus "not stated" where data can be missing), or those
    found; months and quarters cover the whole period."""
    if dimension is MONTH:
        return _months(request.period)
    if dimension is QUARTER:
        return sorted({f"{month[:4]}-Q{(int(month[5:]) + 2) // 3}" for month in _months(request.period)})
    if dimension.categories is not None:
        codes = [code for code, _ in dimension.categories]
        extra = sorted(set(found) - set(codes) - {NOT_STATED})
        return codes + extra + ([NOT_STATED] if dimension.not_stated or NOT_STATED in found else [])
    absent = [code for code, _ in dimension.absent]
    codes = [code for code in found if code != NOT_STATED and code not in absent]
    codes.sort(key=(lambda code: code) if dimension.sort_by_code else (lambda code: dimension.label_of(code)))
    return codes + absent + ([NOT_STATED] if dimension.not_stated or NOT_STATED in found else [])


def _months(period):
    months, year, month = [], period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def compute(request):
    """Count the request's population into its table's grid (one GROUP BY in the database)."""
    spec = request.spec
    names = [dimension.column for dimension in spec.dimensions]
    population = population_query(request, list(dict.fromkeys(names)))
    groups = [population.c[name] for name in names]
    rows = db.session.execute(select(*groups, func.count()).group_by(*groups)).all()
    counted = {}
    for *codes, count in rows:
        codes = [NOT_STATED if code is None else str(code) for code in codes]
        key = (tuple(codes[:len(spec.rows)]), codes[-1])
        counted[key] = counted.get(key, 0) + count
    found_rows = [sorted({key[0][index] for key in counted}) for index in range(len(spec.rows))]
    found_column = sorted({key[1] for key in counted})
    row_lists = [_categories(dim, found, request) for dim, found in zip(spec.rows, found_rows)]
    row_keys = [(code,) for code in row_lists[0]]
    for more in row_lists[1:]:
        # A three-way table lists the second dimension's categories that occur within each first one.
        seen = {key[0][:len(row_keys[0]) + 1] for key in counted}
        row_keys = [key + (code,) for key in row_keys for code in more if key + (code,) in seen]
    column_keys = _categories(spec.column, found_column, request)
    grid = [[counted.get((key, column), 0) for column in column_keys] for key in row_keys]
    return Counts(request, row_keys, column_keys, grid)
