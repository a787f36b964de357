"""The dashboard's figures: the last twelve months of registrations of nationals, counted in the database.

Each chart is a small table of counts (labels, series); counts from 1 to the disclosure threshold less one
are withheld (None: a gap in the chart, x in its CSV), as in published tables. Results are kept for a few
minutes per node and office, so the page stays quick on a million registrations while new ones still show
within minutes.
"""
import time
from dataclasses import dataclass
from datetime import date, timedelta
from threading import Lock

from flask import current_app
from sqlalchemy import and_, func, select

from registry.codes.geography import country_name
from registry.codes.isco import occupation_title
from registry.extensions import db
from registry.people.models import SEXES, Person
from registry.referrals.models import REFERRAL_STATUSES, Referral
from registry.registration.models import Registration
from registry.statistics.sql import AGE_GROUPS, age_group, age_on, month_of

CACHE_SECONDS = 300
TOP = 10
_cache = {}
_lock = Lock()


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # line, bar, pyramid, doughnut
    labels: list
    series: dict  # series name -> list of counts (None: withheld)
    unit: str
    note: str = ""

    def rows(self):
        """For the CSV and the table under the chart: header, then one row per label."""
        names = list(self.series)
        return [[self.title.split(" (")[0], *names]] + [
            [label, *("x" if self.series[name][i] is None else self.series[name][i] for name in names)]
            for i, label in enumerate(self.labels)]

    def as_json(self):
        return {"key": self.key, "title": self.title, "kind": self.kind, "labels": self.labels,
                "series": self.series, "unit": self.unit, "note": self.note}


CHARTS = {
    "trend": "Registrations by month and sex",
    "destinations": "Top countries of destination",
    "occupations": "Top occupations (ISCO-08 unit groups)",
    "referrals": "Referrals by outcome",
    "ages": "Age pyramid",
}


def _window(today):
    first = date(today.year - 1, today.month, 1) + timedelta(days=32)
    start = date(first.year, first.month, 1)
    return start, today


def _months(start, end):
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _withhold(value, threshold):
    return None if 0 < value < threshold else value


def _registrations(office, start, end):
    conditions = [Registration.deleted_at.is_(None), Registration.status != "cancelled",
                  Registration.registered_on.between(start, end),
                  Person.citizenship == current_app.config["HOME_COUNTRY"]]
    if office:
        conditions.append(Registration.office_code == office)
    return and_(*conditions)


def _grouped(columns, where, limit=None, order_by_count=False):
    query = (select(*columns, func.count().label("n")).select_from(Registration)
             .join(Person, Person.id == Registration.person_id).where(where).group_by(*columns))
    if order_by_count:
        query = query.order_by(func.count().desc()).limit(limit)
    return db.session.execute(query).all()


def chart(key, office=None, today=None):
    """One chart's figures, from the cache when fresh."""
    if key not in CHARTS:
        raise KeyError(key)
    today = today or date.today()
    threshold = current_app.config["DISCLOSURE_THRESHOLD"]
    cache_key = (current_app.config["SQLALCHEMY_DATABASE_URI"], key, office, today, threshold)
    with _lock:
        hit = _cache.get(cache_key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    made = _BUILDERS[key](office, today, threshold)
    with _lock:
        _cache[cache_key] = (time.monotonic(), made)
    return made


def forget_cached():
    with _lock:
        _cache.clear()


def _trend(office, today, threshold):
    start, end = _window(today)
    month = month_of(Registration.registered_on)
    counted = {(m, s): n for m, s, n in _grouped([month, Person.sex], _registrations(office, start, end))}
    months = _months(start, end)
    series = {SEXES[s]: [_withhold(counted.get((m, s), 0), threshold) for m in months] for s in SEXES}
    return Chart("trend", f"{CHARTS['trend']} (nationals, last 12 months)", "line", months, series,
                 "registrations")


def _top(key, column, labeller, office, today, threshold):
    start, end = _window(today)
    rows = _grouped([column], _registrations(office, start, end), limit=TOP, order_by_count=True)
    # A name listed with its count withheld would still say "1 to 4 registrations there": leave it out.
    rows = [(code, n) for code, n in rows if n >= threshold]
    labels = [labeller(code) for code, _ in rows]
    return Chart(key, f"{CHARTS[key]} (last 12 months)", "bar", labels,
                 {"Registrations": [n for _, n in rows]}, "registrations",
                 note=f"Only places with at least {threshold} registrations are listed.")


def _destinations(office, today, threshold):
    return _top("destinations", Registration.destination_country, lambda c: country_name(c) or c, office, today,
                threshold)


def _occupations(office, today, threshold):
    return _top("occupations", Registration.occupation_code,
                lambda c: f"{c} {occupation_title(c) or ''}".strip(), office, today, threshold)


def _referrals(office, today, threshold):
    start, end = _window(today)
    conditions = [Referral.deleted_at.is_(None), Referral.issued_on.between(start, end)]
    if office:
        conditions.append(Referral.office_code == office)
    counted = dict(db.session.execute(select(Referral.status, func.count()).where(*conditions)
                                      .group_by(Referral.status)).all())
    labels = list(REFERRAL_STATUSES.values())
    return Chart("referrals", f"{CHARTS['referrals']} (issued in the last 12 months)", "bar", labels,
                 {"Referrals": [_withhold(counted.get(code, 0), threshold) for code in REFERRAL_STATUSES]},
                 "referrals")


def _ages(office, today, threshold):
    start, end = _window(today)
    group = age_group(age_on(Person.date_of_birth, Registration.registered_on))
    counted = {(g, s): n for g, s, n in _grouped([group, Person.sex], _registrations(office, start, end))}
    labels = [label for label, *_ in AGE_GROUPS]
    series = {SEXES[s]: [_withhold(counted.get((g, s), 0), threshold) for g in labels] for s in SEXES}
    return Chart("ages", f"{CHARTS['ages']} (age on registration, last 12 months)", "pyramid", labels, series,
                 "registrations")


_BUILDERS = {"trend": _trend, "destinations": _destinations, "occupations": _occupations,
             "referrals": _referrals, "ages": _ages}
