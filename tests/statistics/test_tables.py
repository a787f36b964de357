"""Every standard table against an independent computation over the same rows.

The rows are read back with plain SQL and counted here in Python (ages from the dates, each person once by
their latest registration in the period, linked people as one), never through registry.statistics; the
two must agree cell by cell for every table, for whole years, quarters, months and filters.
"""
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import text

from registry.core.errors import ValidationFailed
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.statistics.tables import CATALOGUE, NOT_STATED, compute, date_range, make_request, parse_period

TODAY = date(2026, 6, 30)
# The tables counted independently here; those of recruitment (by employer, agency, time to departure, returns,
# complaints) are in test_recruitment_tables.py, which checks that the two cover the whole catalogue.
OWN_TABLES = sorted(name for name, spec in CATALOGUE.items() if spec.population.key in ("outbound", "returning",
                                                                                           "referrals")) + [
    "placements-destination-occupation"]


@pytest.fixture
def demo_rows(ctx):
    """Two years of synthetic registrations at two offices, plus the awkward cases."""
    load_demo(600, ["BBR", "HRE"], seed=11, today=TODAY)
    people = db.session.execute(text("SELECT id FROM person ORDER BY id")).scalars().all()
    # A foreign national (not counted), missing details ("not stated"), and two records linked as one person.
    db.session.execute(text("UPDATE person SET citizenship = 'MZ' WHERE id = :id"), {"id": people[0]})
    db.session.execute(text("UPDATE person SET education_level = NULL, home_subdivision = NULL WHERE id IN "
                            "(:a, :b)"), {"a": people[1], "b": people[2]})
    db.session.execute(text("UPDATE registration SET destination_subdivision = NULL, intended_sector = NULL "
                            "WHERE person_id = :id"), {"id": people[3]})
    db.session.execute(text("UPDATE person SET same_as_id = :b WHERE id = :a"), {"a": people[4], "b": people[5]})
    db.session.execute(text("UPDATE registration SET deleted_at = registered_on WHERE person_id = :id"),
                       {"id": people[6]})
    _refer_some(TODAY)
    db.session.commit()
    return people


def _refer_some(today):
    """Referrals of 40 BBR registrations to two services and a vacancy, issued on their registration day, and
    most of them with an outcome some days later."""
    from datetime import timedelta

    from registry.referrals.services import issue_referral, record_outcome
    from registry.referrals.targets import (
        EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy,
    )
    from registry.people.models import Person
    from registry.registration.models import Registration
    from tests.conftest import user

    officer, supervisor = user("officer"), user("supervisor")
    clinic = create_service(ServiceData(kind="medical", name="Clinic", address="Main Road"), supervisor)
    course = create_service(ServiceData(kind="orientation", name="Course", address="Border Road"), supervisor)
    employer = create_employer(EmployerData(name="Mopani Citrus", country="ZA", subdivision="ZA-LP"), supervisor)
    farm = create_vacancy(employer, VacancyData(title="Pickers", occupation_code="9211", country="ZA", places=100,
                                                starts_on=date(2024, 1, 1)), supervisor)
    # Adults only: no one under 18 is referred to or placed in work abroad (docs/recruitment.md).
    registrations = db.session.scalars(
        db.select(Registration).join(Registration.person)
        .where(Registration.office_code == "BBR", Registration.status == "registered",
               Person.date_of_birth <= today - timedelta(days=366 * 20))
        .order_by(Registration.registration_number).limit(40)).all()
    outcomes = ("attended", "placed", "declined", "cancelled", None)
    for index, registration in enumerate(registrations):
        issued = min(registration.registered_on, today - timedelta(days=20))
        target = (clinic, course, farm)[index % 3]
        referral = issue_referral(registration, target, issued + timedelta(days=10), officer, today=issued)
        outcome = outcomes[index % len(outcomes)]
        if target is farm and index % 2 == 0:
            outcome = "placed"
        elif outcome == "placed":
            outcome = "attended"
        if outcome:
            record_outcome(referral, outcome, issued + timedelta(days=5), referral.version, officer, today=today)


def _age(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _age_group(age):
    if age >= 65:
        return "65+"
    low = 15 + 5 * ((age - 15) // 5)
    return f"{low}-{low + 4}"


def _quarter(day):
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def expected_counts(spec, period, office=None, destination=None):
    """The table counted independently: {(row codes, column code): count} for the non-zero cells."""
    population = spec.population.key
    if population in ("outbound", "returning"):
        rows = db.session.execute(text(
            "SELECT r.registration_number, r.registered_on, r.status, r.status_changed_on, r.office_code, "
            "r.destination_country, r.destination_subdivision, r.occupation_code, r.intended_sector, "
            "r.deleted_at, p.id, p.same_as_id, p.sex, p.date_of_birth, p.citizenship, p.education_level, "
            "p.home_subdivision FROM registration r JOIN person p ON p.id = r.person_id")).all()
        latest = {}
        for row in rows:
            day = _as_date(row.registered_on if population == "outbound" else row.status_changed_on)
            if row.deleted_at is not None or row.citizenship != "ZW" or not period.start <= day <= period.end:
                continue
            if (population == "outbound" and row.status == "cancelled") or (
                    population == "returning" and row.status != "returned"):
                continue
            if (office and row.office_code != office) or (destination and row.destination_country != destination):
                continue
            key = str(row.same_as_id or row.id)
            if key not in latest or (day, row.registration_number) > latest[key][0]:
                latest[key] = ((day, row.registration_number), row, day)
        values = []
        for _, row, day in latest.values():
            values.append({
                "sex": row.sex, "destination": row.destination_country,
                "subdivision": row.destination_subdivision or NOT_STATED,
                "isco_major": row.occupation_code[:1], "isco_submajor": row.occupation_code[:2],
                "isced": row.education_level or NOT_STATED, "isic": row.intended_sector or NOT_STATED,
                "home_area": row.home_subdivision or NOT_STATED, "office": row.office_code,
                "month": day.isoformat()[:7], "quarter": _quarter(day),
                "age_group": _age_group(_age(_as_date(row.date_of_birth), day)),
            })
    else:
        rows = db.session.execute(text(
            "SELECT f.kind, f.status, f.issued_on, f.outcome_on, f.office_code, v.country, v.occupation_code, "
            "r.destination_country FROM referral f LEFT JOIN vacancy v ON v.id = f.vacancy_id "
            "JOIN registration r ON r.id = f.registration_id")).all()
        values = []
        for row in rows:
            day = _as_date(row.issued_on if population == "referrals" else row.outcome_on) \
                if (row.issued_on if population == "referrals" else row.outcome_on) else None
            if day is None or not period.start <= day <= period.end:
                continue
            if population == "placements" and row.status != "placed":
                continue
            if office and row.office_code != office:
                continue
            where = row.country if population == "placements" else row.destination_country
            if destination and where != destination:
                continue
            values.append({"target": row.kind, "outcome": row.status, "destination": row.country,
                           "isco_major": (row.occupation_code or NOT_STATED)[:1] if row.occupation_code
                           else NOT_STATED})
    counts = Counter()
    for value in values:
        counts[(tuple(value[d.column] for d in spec.rows), value[spec.column.column])] += 1
    return dict(counts)


def computed_counts(counts):
    return {(row, column): value for row, cells in zip(counts.row_keys, counts.grid)
            for column, value in zip(counts.column_keys, cells) if value}


def test_every_table_matches_an_independent_count(demo_rows):
    # One data set for all tables: building it is the slow part.
    for name in OWN_TABLES:
        spec = CATALOGUE[name]
        for period in (parse_period("2025"), parse_period("2026-Q1"), parse_period("2025-11"),
                       date_range(date(2024, 7, 1), TODAY)):
            counts = compute(make_request(name, period))
            expected = expected_counts(spec, period)
            assert computed_counts(counts) == expected, (name, period.label)
            assert counts.total == sum(expected.values())
        assert sum(expected.values()) >= 5, f"{name}: the widest period must hold data, or the check proves little"
        filtered = compute(make_request(name, parse_period("2025"), office="HRE", destination="ZA"))
        assert computed_counts(filtered) == expected_counts(spec, parse_period("2025"), "HRE", "ZA"), name


def test_tables_show_every_category_and_not_stated_rows(demo_rows):
    counts = compute(make_request("outbound-sex-education", parse_period("2025")))
    assert [key[0] for key in counts.row_keys] == [*"012345678", "9", NOT_STATED]
    assert counts.column_keys == ["F", "M"]
    ages = compute(make_request("outbound-sex-age", parse_period("2025")))
    assert [key[0] for key in ages.row_keys][:2] == ["15-19", "20-24"] and ages.row_keys[-1] == ("65+",)
    months = compute(make_request("outbound-office-month", parse_period("2025-Q4")))
    assert months.column_keys == ["2025-10", "2025-11", "2025-12"]


def test_each_person_counts_once_per_period_and_linked_people_as_one(demo_rows):
    period = date_range(date(2020, 1, 1), TODAY)
    people = db.session.execute(text(
        "SELECT COUNT(DISTINCT COALESCE(p.same_as_id, p.id)) FROM registration r JOIN person p ON p.id = r.person_id "
        "WHERE r.status <> 'cancelled' AND r.deleted_at IS NULL AND p.citizenship = 'ZW'")).scalar()
    registrations = db.session.execute(text(
        "SELECT COUNT(*) FROM registration r JOIN person p ON p.id = r.person_id "
        "WHERE r.status <> 'cancelled' AND r.deleted_at IS NULL AND p.citizenship = 'ZW'")).scalar()
    assert registrations > people  # people do come back: the check below means something
    assert compute(make_request("outbound-sex-destination", period)).total == people


def test_bad_requests_are_refused_with_a_message(ctx):
    with pytest.raises(ValidationFailed, match="ends"):
        date_range(date(2026, 2, 1), date(2026, 1, 1))
    for text_ in ("2026-13", "26", "2026-Q5", ""):
        with pytest.raises(ValidationFailed):
            parse_period(text_)
    with pytest.raises(ValidationFailed, match="no office XYZ"):
        make_request("outbound-sex-age", parse_period("2026"), office="XYZ")
    with pytest.raises(ValidationFailed, match="not an ISO 3166-1"):
        make_request("outbound-sex-age", parse_period("2026"), destination="QQ")
    from registry.statistics.tables import UnknownTable

    with pytest.raises(UnknownTable, match="no standard table"):
        make_request("people-by-name", parse_period("2026"))
