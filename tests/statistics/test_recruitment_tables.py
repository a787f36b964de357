"""The recruitment tables (placements by employer, agency, country and time to departure; returns by employer,
agency and country with the reason; complaints by employer, agency, kind and status) against an independent
computation over the same rows.

The rows are made by the real services (employers, agencies, job orders, referrals, selection steps to
departure, returns, complaints), read back here with plain SQL and counted in Python, never through
registry.statistics; the two must agree cell by cell, for several periods and filters. Then: the categories
and labels a reader sees, small counts shown as x, bad requests refused, and the command's three formats.
"""
import csv
import io
import random
import uuid
import zipfile
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.recruitment.complaints import ComplaintData, change_complaint_status, file_complaint
from registry.recruitment.models import RETURN_REASONS, STEP_ORDER
from registry.recruitment.returns import ReturnData, record_return
from registry.recruitment.selection import record_step
from registry.referrals.services import issue_referral, record_outcome
from registry.registration.services import change_status
from registry.statistics.publish import publish
from registry.statistics.tables import CATALOGUE, NOT_STATED, UnknownTable, compute, date_range, make_request
from tests.conftest import user
from tests.recruitment.helpers import candidate, make_agency
from tests.referrals.helpers import as_node, make_employer, make_vacancy
from tests.statistics.test_tables import OWN_TABLES, computed_counts

TODAY = date.today()
THRESHOLD = 5

# table: (population, row, column), as the docs define them (docs/statistics.md).
TABLES = {
    "placements-employer-sex": ("placements", "employer", "sex"),
    "placements-country-sex": ("placements", "country", "sex"),
    "placements-agency-sex": ("placements", "agency", "sex"),
    "placements-duration-sex": ("placements", "band", "sex"),
    "returns-employer-reason": ("returns", "employer", "reason"),
    "returns-country-reason": ("returns", "country", "reason"),
    "returns-agency-reason": ("returns", "agency", "reason"),
    "complaints-employer-kind": ("complaints", "employer", "kind"),
    "complaints-agency-kind": ("complaints", "agency", "kind"),
    "complaints-kind-status": ("complaints", "kind", "status"),
}
BANDS = ((0, 30, "D0T30"), (31, 60, "D31T60"), (61, 90, "D61T90"), (91, 180, "D91T180"), (181, 365, "D181T365"))


def ago(days):
    return TODAY - timedelta(days=days)


def _place(actor, order, *, registered_on, left_on, **person):
    """A candidate registered on one day, referred that day and taken through every step to departure."""
    registration = candidate(actor, today=registered_on, **person)
    referral = issue_referral(registration, order, registered_on + timedelta(days=10), actor, today=registered_on)
    for step in STEP_ORDER:
        record_step(referral, step, left_on, actor, today=TODAY)
    return referral


@pytest.fixture
def rows(app):
    """Placements, returns and complaints at BBR and HRE over two years, with the awkward cases: a direct hire,
    a placement that fell through, returns without a placement, a foreign national, a removed employer."""
    rng = random.Random(8)
    with app.app_context():
        supervisor, officers = user("supervisor"), {"BBR": user("officer"), "HRE": user("officer.hre")}
        licensed = dict(licence_valid_from=ago(1300), licence_valid_until=ago(-300))
        farm_agency = make_agency(supervisor, **licensed)
        builders_agency = make_agency(supervisor, name="Kalahari Labour Brokers", licence_number="BW-LB-2020-0042",
                                      country="BW", subdivision="", **licensed)
        citrus = make_employer(supervisor)
        tomatoes = make_employer(supervisor, name="Musina Tomato Farms")
        builders = make_employer(supervisor, name="Gaborone Builders", country="BW", subdivision="BW-SE")
        window = dict(starts_on=ago(1300), ends_on=ago(-200), closes_on=None, places=200)
        orders = [make_vacancy(supervisor, citrus, agency_id=farm_agency.id, **window),
                  make_vacancy(supervisor, citrus, title="Packers", **window),  # a direct hire
                  make_vacancy(supervisor, tomatoes, agency_id=farm_agency.id, title="Tomato pickers", **window),
                  make_vacancy(supervisor, builders, agency_id=builders_agency.id, title="Bricklayers",
                               occupation_code="7112", country="BW", subdivision="BW-SE", **window)]
        placed = []
        for index in range(44):
            office = "HRE" if index % 4 == 0 else "BBR"
            order = rng.choice([orders[0]] * 3 + orders[1:])
            left = rng.randint(25, 700)
            waited = rng.choice([0, 12, 30, 31, 59, 60, 61, 90, 91, 150, 180, 181, 365, 366, 430])
            person = dict(sex=rng.choice("FM"))
            if index == 5:  # a foreign national: placed (an event) but not among nationals' returns
                person.update(citizenship="MZ", national_id="", passport_number="MZ7312045", phone="",
                              home_subdivision="", home_district="")
            with as_node(app, office):
                referral = _place(officers[office], order, registered_on=ago(left + waited), left_on=ago(left),
                                  **person)
                if index % 11 == 7:  # the placement fell through: no longer a placement
                    record_outcome(referral, "cancelled", ago(left), referral.version, officers[office], today=TODAY)
            if index % 11 != 7:
                placed.append((referral, left))
        for referral, left in placed:
            if rng.random() < 0.55:
                record_return(referral.registration, ReturnData(returned_on=ago(rng.randint(0, left - 1)),
                                                                reason=rng.choice(list(RETURN_REASONS))),
                              officers["BBR"], today=TODAY)
        for index in range(6):  # went abroad with no placement recorded, and came back
            office = "HRE" if index % 3 == 0 else "BBR"
            with as_node(app, office):
                registration = candidate(officers[office], today=ago(600), sex="FM"[index % 2])
                change_status(registration, "departed", ago(500), registration.version, officers[office],
                              today=TODAY)
            record_return(registration, ReturnData(returned_on=ago(20 * index + 5), reason="deported"),
                          officers["BBR"], today=TODAY)
        against = [(citrus, farm_agency), (citrus, None), (None, farm_agency), (tomatoes, farm_agency),
                   (builders, builders_agency), (None, builders_agency), (builders, None)]
        for index in range(30):
            office = "HRE" if index % 5 == 0 else "BBR"
            employer, agency = rng.choice(against)
            with as_node(app, office):
                complaint = file_complaint(ComplaintData(
                    received_on=ago(rng.randint(0, 720)), kind=rng.choice(["unpaid_wages"] * 3 + [
                        "contract_substitution", "abuse", "trafficking", "other"]),
                    complainant_name="Rudo Moyo", employer_id=str(employer.id) if employer else "",
                    agency_id=str(agency.id) if agency else "", description="Wages not paid."),
                    officers[office], today=TODAY)
                if index % 3:
                    change_complaint_status(complaint, rng.choice(["investigating", "resolved", "closed"]),
                                            TODAY, "Followed up", complaint.version, officers[office], today=TODAY)
        builders.mark_deleted()  # removed (a tombstone, as sync applies it): it still labels its rows
        db.session.commit()
        names = {"citrus": citrus.id.hex, "builders": builders.id.hex, "farm_agency": farm_agency.id.hex}
    return names


# The independent count -----------------------------------------------------------------------------------

def _day(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _code(value):
    return None if value is None else uuid.UUID(str(value)).hex


def _band(days):
    return next((code for low, high, code in BANDS if low <= days <= high), "D_GE366" if days > 365 else NOT_STATED)


def placements():
    for row in db.session.execute(text(
            "SELECT f.outcome_on, f.office_code, f.status, f.deleted_at, r.registered_on, p.sex, v.employer_id, "
            "v.agency_id, v.country FROM referral f JOIN vacancy v ON v.id = f.vacancy_id "
            "JOIN registration r ON r.id = f.registration_id JOIN person p ON p.id = r.person_id")):
        if row.status != "placed" or row.deleted_at is not None:
            continue
        day = _day(row.outcome_on)
        yield day, row.office_code, row.country, {
            "employer": _code(row.employer_id), "agency": _code(row.agency_id) or "DIRECT", "sex": row.sex,
            "country": row.country, "band": _band((day - _day(row.registered_on)).days)}


def returns():
    for row in db.session.execute(text(
            "SELECT w.returned_on, w.reason, w.deleted_at, r.office_code, r.destination_country, "
            "r.deleted_at AS registration_deleted, p.citizenship, p.deleted_at AS person_deleted, "
            "f.deleted_at AS referral_deleted, v.id AS vacancy_id, v.employer_id, v.agency_id, v.country "
            "FROM worker_return w JOIN registration r ON r.id = w.registration_id "
            "JOIN person p ON p.id = r.person_id LEFT JOIN referral f ON f.id = w.referral_id "
            "LEFT JOIN vacancy v ON v.id = f.vacancy_id")):
        if row.citizenship != "ZW" or any(value is not None for value in (
                row.deleted_at, row.registration_deleted, row.person_deleted)):
            continue
        placed = row.vacancy_id is not None and row.referral_deleted is None
        country = row.country if placed else row.destination_country
        yield _day(row.returned_on), row.office_code, country, {
            "reason": row.reason, "country": country,
            "employer": _code(row.employer_id) if placed else "NO_PLACEMENT",
            "agency": (_code(row.agency_id) or "DIRECT") if placed else "NO_PLACEMENT"}


def complaints():
    for row in db.session.execute(text(
            "SELECT c.received_on, c.office_code, c.kind, c.status, c.deleted_at, c.employer_id, c.agency_id, "
            "e.country FROM complaint c LEFT JOIN employer e ON e.id = c.employer_id")):
        if row.deleted_at is None:
            yield _day(row.received_on), row.office_code, row.country, {
                "kind": row.kind, "status": row.status, "employer": _code(row.employer_id) or "NONE",
                "agency": _code(row.agency_id) or "NONE"}


def expected_counts(name, period, office=None, destination=None):
    population, row, column = TABLES[name]
    counted = Counter()
    for day, at, country, values in {"placements": placements, "returns": returns,
                                     "complaints": complaints}[population]():
        if period.start <= day <= period.end and (not office or at == office) and (
                not destination or country == destination):
            counted[((values[row],), values[column])] += 1
    return dict(counted)


# Tests ---------------------------------------------------------------------------------------------------

def test_every_table_of_the_catalogue_is_checked_independently():
    assert set(TABLES) <= set(CATALOGUE)
    assert set(TABLES) | set(OWN_TABLES) == set(CATALOGUE)


def test_every_recruitment_table_matches_an_independent_count(rows, ctx):
    periods = (date_range(ago(800), TODAY), date_range(ago(800), ago(300)), date_range(ago(299), TODAY),
               date_range(ago(40), ago(10)))
    for name in TABLES:
        for period in periods:
            counts = compute(make_request(name, period))
            expected = expected_counts(name, period)
            assert computed_counts(counts) == expected, (name, period.label)
            assert counts.total == sum(expected.values())
        assert sum(expected_counts(name, periods[0]).values()) >= 20, f"{name}: too little data to prove much"
        for office, destination in (("HRE", None), ("BBR", "ZA"), (None, "BW")):
            filtered = compute(make_request(name, periods[0], office=office, destination=destination))
            wanted = expected_counts(name, periods[0], office, destination)
            assert wanted, (name, office, destination)
            assert computed_counts(filtered) == wanted, (name, office, destination)


def test_the_tables_of_one_population_agree_on_its_total(rows, ctx):
    period = date_range(ago(800), TODAY)
    for population in ("placements", "returns", "complaints"):
        totals = {name: compute(make_request(name, period)).total for name, spec in CATALOGUE.items()
                  if spec.population.key == population}
        assert len(set(totals.values())) == 1 and len(totals) >= 3, totals


def test_categories_and_labels(rows, ctx):
    period = date_range(ago(800), TODAY)
    agency = compute(make_request("placements-agency-sex", period))
    labels = [label for (label,) in agency.row_labels()]
    assert labels == ["Kalahari Labour Brokers (licence BW-LB-2020-0042)",
                      "Limpopo Farm Labour Services (licence ZA-PEA-2024-0117)", "No agency (direct hire)"]
    assert agency.row_keys[0][0] == uuid.UUID(hex=agency.row_keys[0][0]).hex and agency.row_keys[-1] == ("DIRECT",)
    employer = compute(make_request("placements-employer-sex", period))
    by_code = dict(zip((key for (key,) in employer.row_keys), (label for (label,) in employer.row_labels())))
    assert by_code[rows["builders"]] == "Gaborone Builders (BW)"  # removed, still named
    assert by_code[rows["citrus"]] == "Mopani Citrus Estates (ZA)"
    assert employer.column_labels() == ["Female", "Male"]
    durations = compute(make_request("placements-duration-sex", period))
    assert [label for (label,) in durations.row_labels()] == [
        "0-30 days", "31-60 days", "61-90 days", "91-180 days", "181-365 days", "More than 365 days"]
    returned = compute(make_request("returns-agency-reason", period))
    assert [key for (key,) in returned.row_keys][-2:] == ["DIRECT", "NO_PLACEMENT"]
    assert returned.row_labels()[-1] == ("No placement recorded",)
    assert returned.column_keys == list(RETURN_REASONS)
    status = compute(make_request("complaints-kind-status", period))
    assert status.column_labels()[-1] == "Closed without action" and status.row_keys[0] == ("unpaid_wages",)
    named = compute(make_request("complaints-employer-kind", period))
    assert named.row_labels()[-1] == ("No employer named",)
    # A period with nothing in it still shows every fixed category, and the categories without an organisation.
    empty = compute(make_request("returns-employer-reason", date_range(ago(2000), ago(1900))))
    assert empty.row_keys == [("NO_PLACEMENT",)] and empty.total == 0


def test_small_counts_are_shown_as_x_and_cannot_be_worked_out(rows, ctx):
    period = date_range(ago(800), TODAY)
    suppressed = 0
    for name in TABLES:
        counts = compute(make_request(name, period))
        published = publish(counts, THRESHOLD)
        cells = published.protected.cells
        for i, row in enumerate(counts.grid):
            for j, value in enumerate(row):
                if 1 <= value < THRESHOLD:
                    assert cells[i][j] is None, (name, i, j)
                    suppressed += 1
                assert cells[i][j] in (None, value)
        shown = [value for line in published.body() + [published.total_row()] for value in line[1:]]
        assert not any(isinstance(value, int) and 1 <= value < THRESHOLD for value in shown), name
        assert "x" in shown or not any(1 <= v < THRESHOLD for line in counts.grid for v in line)
    assert suppressed >= 10  # the data does have small cells: the check above means something
    coarser = publish(compute(make_request("placements-employer-sex", date_range(ago(100), TODAY))), 50).coarser
    assert coarser is not None and coarser.name == "placements-country-sex"


def test_bad_requests_for_the_new_tables_are_refused(rows, ctx):
    with pytest.raises(UnknownTable, match="no standard table"):
        make_request("placements-by-worker-name", date_range(ago(10), TODAY))
    with pytest.raises(ValidationFailed, match="ends"):
        date_range(TODAY, ago(1))
    with pytest.raises(ValidationFailed, match="no office XYZ"):
        make_request("complaints-kind-status", date_range(ago(10), TODAY), office="XYZ")
    with pytest.raises(ValidationFailed, match="not an ISO 3166-1"):
        make_request("returns-employer-reason", date_range(ago(10), TODAY), destination="QQ")


def _extract_events(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "extract.created"))


def test_the_command_extracts_a_recruitment_table_in_every_format(app, rows, runner, tmp_path):
    first, last = ago(800).isoformat(), TODAY.isoformat()
    with app.app_context():
        published = publish(compute(make_request("placements-agency-sex", date_range(ago(800), TODAY))))
        table = [[str(value) for value in line] for line in published.rows()]
    result = runner.invoke(args=["extract", "list"])
    assert all(name in result.output for name in TABLES)
    paths = {}
    for file_format, suffix in (("csv", ".csv"), ("xlsx", ".xlsx"), ("sdmx-csv", ".sdmx.csv")):
        paths[file_format] = tmp_path / f"agency{suffix}"
        result = runner.invoke(args=["extract", "placements-agency-sex", "--from", first, "--to", last,
                                     "--format", file_format, "-o", str(paths[file_format])])
        assert result.exit_code == 0, result.output
    with open(paths["csv"], newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == table
    assert table[-2][0] == "No agency (direct hire)" and table[0][:3] == ["Recruitment agency", "Female", "Male"]
    with zipfile.ZipFile(paths["xlsx"]) as book:
        sheets = "".join(book.read(name).decode("utf-8") for name in book.namelist())
    assert "Limpopo Farm Labour Services (licence ZA-PEA-2024-0117)" in sheets and "direct hire" in sheets
    with open(paths["sdmx-csv"], newline="", encoding="utf-8") as handle:
        tidy = list(csv.DictReader(handle))
    assert {row["UNIT_MEASURE"] for row in tidy} == {"PLACEMENTS"}
    assert {row["CLASSIF"] for row in tidy} >= {f"AGENCY_{rows['farm_agency'].upper()}", "AGENCY_DIRECT", "_T"}
    total = next(row for row in tidy if row["CLASSIF"] == "_T" and row["SEX"] == "_T")
    assert total["OBS_VALUE"] == table[-1][-1]
    # Refused: nothing written, nothing audited.
    before = _extract_events(app)
    for args in (["complaints-by-name", "--from", first, "--to", last],
                 ["complaints-kind-status", "--from", last, "--to", first],
                 ["returns-agency-reason", "--from", first, "--to", last, "--office", "XYZ"]):
        target = tmp_path / "refused.csv"
        result = runner.invoke(args=["extract", *args, "-o", str(target)])
        assert result.exit_code != 0 and "Error:" in result.output and "Traceback" not in result.output, args
        assert not target.exists() and not list(tmp_path.glob(".refused*"))
    assert _extract_events(app) == before


def test_the_pages_list_and_show_the_new_tables(app, rows, login):
    client = app.test_client()
    login(client, "statistician")
    index = client.get("/statistics/").get_data(as_text=True)
    for name, spec in CATALOGUE.items():
        if name in TABLES:
            assert name in index and spec.title in index
    page = client.get(f"/statistics/table?table=complaints-agency-kind&date_from={ago(800)}&date_to={TODAY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kalahari Labour Brokers" in html and "No agency named" in html
    reversed_dates = client.get(f"/statistics/table?table=complaints-agency-kind&date_from={TODAY}&date_to={ago(9)}")
    assert reversed_dates.status_code == 400 and "before it starts" in reversed_dates.get_data(as_text=True)
    download = client.get(f"/statistics/table.csv?table=returns-country-reason&date_from={ago(800)}&date_to={TODAY}")
    assert download.status_code == 200
    lines = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert lines[0][:2] == ["Country returned from", "Contract ended"] and lines[-1][0] == "Total"
