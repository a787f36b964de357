"""The statistics pages through the test client: tables with x for suppressed cells, downloads with their
checksum, refusals with a message, who may take microdata and personal data, the disclosure log, and the
dashboard's figures against an independent count. The default test app is the office node BBR, whose
figures are BBR's own whatever the request asks."""
import csv
import hashlib
import io
from collections import Counter
from datetime import date
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.codes.geography import country_name
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.statistics.tables import CATALOGUE
from tests.conftest import extract_csrf, make_app
from tests.statistics.test_tables import expected_counts

TODAY = date.today()
YEAR = TODAY.year
THIS_YEAR = SimpleNamespace(start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
THRESHOLD = 5
SEX_CODES = {"Female": "F", "Male": "M"}
TABLE = "outbound-sex-destination"


@pytest.fixture
def data(app):
    """Two years of registrations up to today at BBR and HRE (the dashboard looks at the last 12 months)."""
    with app.app_context():
        load_demo(300, ["BBR", "HRE"], seed=31, today=TODAY)
        db.session.commit()
    return app


@pytest.fixture
def as_user(login):
    def client_for(app, username):
        client = app.test_client()
        login(client, username)
        return client

    return client_for


def audit_count(app, action):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def last_event(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.at.desc())).first()


class FiguresTable(HTMLParser):
    """The rows of <table class="figures"> as lists of cell texts."""

    def __init__(self, html):
        super().__init__()
        self.rows, self.inside, self.cell = [], False, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "figures" in (dict(attrs).get("class") or ""):
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def figures(response):
    rows = FiguresTable(response.get_data(as_text=True)).rows
    assert rows, "no table of figures on the page"
    return rows


def number(cell):
    return None if cell == "x" else int(cell.replace(",", ""))


def check_against_independent_count(rows, app, office, table=TABLE):
    """Rows of a published destination-by-sex table against the count in tests.statistics.test_tables."""
    with app.app_context():
        expected = expected_counts(CATALOGUE[table], THIS_YEAR, office=office)
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header == ["Country of destination", "Female", "Male", "Total"]
    sexes = [SEX_CODES[label] for label in header[1:-1]]
    codes = {country_name(destination): destination for (destination,), _ in expected}
    assert {row[0] for row in body} == set(codes)
    suppressed = 0
    column_totals = Counter()
    for row in body:
        values = [expected.get(((codes[row[0]],), sex), 0) for sex in sexes]
        column_totals.update(dict(zip(sexes, values)))
        for cell, true in zip(row[1:], [*values, sum(values)]):
            shown = number(cell)
            if shown is None:
                suppressed += 1
                assert true > 0, "a zero was suppressed"
            else:
                assert shown == true and not 1 <= true < THRESHOLD
    assert totals[0] == "Total"
    for cell, true in zip(totals[1:], [*(column_totals[s] for s in sexes), sum(column_totals.values())]):
        assert number(cell) in (None, true)
    return suppressed, sum(expected.values())


# Pages --------------------------------------------------------------------------------------------------

def test_statistics_page_lists_the_standard_tables(app, as_user):
    page = as_user(app, "statistician").get("/statistics/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in CATALOGUE:
        assert name in html
    assert "Figures of BBR only" in html


def test_table_page_shows_x_for_suppressed_cells_and_right_numbers(data, as_user):
    client = as_user(data, "statistician")
    response = client.get(f"/statistics/table?table={TABLE}&period={YEAR}")
    assert response.status_code == 200
    suppressed, people = check_against_independent_count(figures(response), data, "BBR")
    assert suppressed >= 1 and people >= THRESHOLD
    assert "Download CSV" in response.get_data(as_text=True)


def test_an_office_node_shows_its_own_figures_even_when_asked_for_another_office(data, as_user):
    client = as_user(data, "statistician")
    own = figures(client.get(f"/statistics/table?table={TABLE}&period={YEAR}"))
    asked = client.get(f"/statistics/table?table={TABLE}&period={YEAR}&office=HRE")
    assert asked.status_code == 200
    assert figures(asked) == own
    assert "office BBR" in asked.get_data(as_text=True)
    _, bbr = check_against_independent_count(own, data, "BBR")
    with data.app_context():
        hre = sum(expected_counts(CATALOGUE[TABLE], THIS_YEAR, office="HRE").values())
    assert bbr != hre  # the two offices' figures differ, so the check above could fail
    download = client.get(f"/statistics/table.csv?table={TABLE}&period={YEAR}&office=HRE")
    assert last_event(data, "extract.created").details["filters"]["office"] == "BBR"
    assert list(csv.reader(io.StringIO(download.get_data(as_text=True))))[-1] == [
        cell.replace(",", "") for cell in own[-1]]


def test_central_shows_any_office_and_refuses_one_that_does_not_exist(data, as_user, database_url):
    central = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    try:
        client = as_user(central, "statistician")
        hre = client.get(f"/statistics/table?table={TABLE}&period={YEAR}&office=HRE")
        assert hre.status_code == 200
        check_against_independent_count(figures(hre), data, "HRE")
        everyone = client.get(f"/statistics/table?table={TABLE}&period={YEAR}")
        check_against_independent_count(figures(everyone), data, None)
        unknown = client.get(f"/statistics/table?table={TABLE}&period={YEAR}&office=XYZ")
        assert unknown.status_code == 400
        assert "There is no office XYZ." in unknown.get_data(as_text=True)
    finally:
        with central.app_context():
            db.engine.dispose()


# Downloads ----------------------------------------------------------------------------------------------

DOWNLOADS = [
    ("csv", "text/csv", ".csv"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("sdmx-csv", "text/csv", ".sdmx.csv"),
]


def test_downloads_are_attachments_with_their_checksum(data, as_user):
    client = as_user(data, "statistician")
    page = figures(client.get(f"/statistics/table?table={TABLE}&period={YEAR}"))
    for file_format, media_type, suffix in DOWNLOADS:
        check_download(data, client, page, file_format, media_type, suffix)
    assert client.get(f"/statistics/table.pdf?table={TABLE}&period={YEAR}").status_code == 404


def check_download(data, client, page, file_format, media_type, suffix):
    before = audit_count(data, "extract.created")
    response = client.get(f"/statistics/table.{file_format}?table={TABLE}&period={YEAR}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"{TABLE}-{YEAR}{suffix}" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data()
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        assert rows == [[cell.replace(",", "") for cell in row] for row in page]
    elif file_format == "xlsx":
        book = load_workbook(io.BytesIO(body), read_only=True)
        table = [[("" if v is None else str(v)) for v in row] for row in book["Table"].iter_rows(values_only=True)]
        metadata = {row[0]: row[1] for row in book["Metadata"].iter_rows(values_only=True)}
        book.close()
        start = table.index(page[0])
        assert table[start:start + len(page)] == [[cell.replace(",", "") for cell in row] for row in page]
        assert metadata["Office"] == "BBR" and metadata["Extracted by"] == "statistician"
    else:
        observations = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        blanks = sum(1 for o in observations if o["OBS_VALUE"] == "")
        assert blanks == sum(row.count("x") for row in page) >= 1
        assert all(o["CONF_STATUS"] in ("C", "D") for o in observations if o["OBS_VALUE"] == "")
    assert audit_count(data, "extract.created") == before + 1
    event = last_event(data, "extract.created")
    assert event.actor == "statistician" and event.details["sha256"] == response.headers["X-Content-SHA256"]
    assert event.details["format"] == file_format


BAD_FILTERS = [
    (f"table=people-by-name&period={YEAR}", "Not a valid choice"),
    ("table=outbound-sex-age&period=2026-13", "months run from 01 to 12"),
    ("table=outbound-sex-age&period=Q1-2026", "is not a period"),
    ("table=outbound-sex-age&date_from=2026-02-01&date_to=2026-01-01", "before it starts (2026-02-01)"),
    ("table=outbound-sex-age&date_from=2026-02-30&date_to=2026-03-01", "is not a date that exists"),
    (f"table=outbound-sex-age&period={YEAR}&date_from=2026-01-01", "not both"),
    ("table=outbound-sex-age", "Give a period"),
    (f"table=outbound-sex-age&period={YEAR}&destination=QQ", "Not a valid choice"),
]


def test_bad_filters_get_400_with_a_message_and_no_file(data, as_user):
    client = as_user(data, "statistician")
    before = audit_count(data, "extract.created")
    for query, message in BAD_FILTERS:
        page = client.get(f"/statistics/table?{query}")
        assert page.status_code == 400, query
        assert message in page.get_data(as_text=True), query
        for file_format in ("csv", "xlsx", "sdmx-csv"):
            download = client.get(f"/statistics/table.{file_format}?{query}")
            assert download.status_code == 400, (query, file_format)
            assert "Content-Disposition" not in download.headers and download.mimetype == "text/html"
            assert message in download.get_data(as_text=True), (query, file_format)
    assert audit_count(data, "extract.created") == before


# Microdata and personal data ----------------------------------------------------------------------------

MICRODATA_HEADER = ["person_key", "month", "office", "status", "sex", "age_group", "home_area", "destination",
                    "occupation", "education", "industry"]


def post_form(client, url, **fields):
    token = extract_csrf(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def test_microdata_downloads_for_statisticians_and_administrators(data, as_user):
    for username in ("statistician", "admin"):
        check_microdata_download(data, as_user(data, username), username)


def check_microdata_download(data, client, username):
    assert client.get("/statistics/microdata").status_code == 200
    before = audit_count(data, "extract.created")
    response = post_form(client, "/statistics/microdata", period=str(YEAR), office="HRE", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data()
    response.close()  # the file is streamed from an open handle
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == MICRODATA_HEADER
    assert len(rows) > 1 and {row[2] for row in rows[1:]} == {"BBR"}  # this node's own registrations
    with data.app_context():
        expected = db.session.execute(text(
            "SELECT COUNT(*) FROM registration r JOIN person p ON p.id = r.person_id WHERE r.office_code = 'BBR' "
            "AND r.deleted_at IS NULL AND p.citizenship = 'ZW' AND r.registered_on BETWEEN :a AND :b"),
            {"a": THIS_YEAR.start, "b": THIS_YEAR.end}).scalar()
    assert len(rows) - 1 == expected
    assert audit_count(data, "extract.created") == before + 1
    assert last_event(data, "extract.created").actor == username


def test_a_refused_microdata_request_says_why_and_writes_nothing(data, as_user):
    client = as_user(data, "statistician")
    before = audit_count(data, "extract.created")
    response = post_form(client, "/statistics/microdata", date_from="2026-05-01", date_to="2026-04-01",
                         format="csv")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "before it starts" in response.get_data(as_text=True)
    assert audit_count(data, "extract.created") == before


def test_officers_and_supervisors_get_no_microdata(app, as_user):
    for username in ("officer", "supervisor"):
        client = as_user(app, username)
        assert client.get("/statistics/microdata").status_code == 403
        token = extract_csrf(client.get("/account/password").get_data(as_text=True))
        refused = client.post("/statistics/microdata", data={"csrf_token": token, "period": str(YEAR),
                                                             "format": "csv"})
        assert refused.status_code == 403 and refused.mimetype == "text/html", username
    assert audit_count(app, "extract.created") == 0


def test_only_administrators_open_the_full_extract_and_the_disclosure_log(app, as_user):
    for username in ("officer", "supervisor", "statistician"):
        client = as_user(app, username)
        assert client.get("/statistics/full-extract").status_code == 403, username
        assert client.get("/statistics/disclosures").status_code == 403, username
        token = extract_csrf(client.get("/account/password").get_data(as_text=True))
        refused = client.post("/statistics/full-extract", data={
            "csrf_token": token, "period": str(YEAR), "format": "csv", "recipient": "IOM Harare",
            "purpose": "Research", "agreement": "MoU 2026/04"})
        assert refused.status_code == 403 and refused.mimetype == "text/html", username
    assert audit_count(app, "extract.disclosed") == 0


def test_full_extract_needs_recipient_purpose_and_agreement_then_is_logged(data, as_user):
    client = as_user(data, "admin")
    assert client.get("/statistics/full-extract").status_code == 200
    missing = post_form(client, "/statistics/full-extract", period=str(YEAR), format="csv")
    assert missing.status_code == 400 and missing.mimetype == "text/html"
    html = missing.get_data(as_text=True)
    for message in ("Say who receives the data", "Say what the data is for",
                    "Say the data-sharing agreement it is given under"):
        assert message in html
    assert audit_count(data, "extract.disclosed") == 0

    response = post_form(client, "/statistics/full-extract", period=str(YEAR), format="csv",
                         recipient="Ministry of Public Service", purpose="Reintegration follow-up",
                         agreement="MoU MPS-MOL 2026/07")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data()
    response.close()
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    with data.app_context():
        expected = db.session.execute(text(
            "SELECT r.registration_number, p.national_id, p.surname FROM registration r "
            "JOIN person p ON p.id = r.person_id WHERE r.office_code = 'BBR' AND r.deleted_at IS NULL "
            "AND r.registered_on BETWEEN :a AND :b"), {"a": THIS_YEAR.start, "b": THIS_YEAR.end}).all()
    header = rows[0]
    got = {(row[header.index("registration_number")], row[header.index("national_id")],
            row[header.index("surname")]) for row in rows[1:]}
    assert got == {tuple(row) for row in expected} and expected
    assert audit_count(data, "extract.disclosed") == 1
    event = last_event(data, "extract.disclosed")
    assert event.actor == "admin" and event.details["recipient"] == "Ministry of Public Service"
    log = client.get("/statistics/disclosures")
    assert log.status_code == 200
    html = log.get_data(as_text=True)
    for shown in ("Ministry of Public Service", "Reintegration follow-up", "MoU MPS-MOL 2026/07", "admin",
                  str(YEAR), event.details["sha256"][:16]):
        assert shown in html


# The dashboard ------------------------------------------------------------------------------------------

def last_twelve_months():
    months, year, month = [], TODAY.year, TODAY.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def dashboard_rows(app, office):
    """Registrations of nationals in the dashboard's window, read with plain SQL."""
    start = date.fromisoformat(last_twelve_months()[0] + "-01")
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT r.registered_on, r.office_code, r.destination_country, r.occupation_code, p.sex, "
            "p.date_of_birth FROM registration r JOIN person p ON p.id = r.person_id WHERE r.deleted_at IS NULL "
            "AND r.status <> 'cancelled' AND p.citizenship = 'ZW' AND r.registered_on BETWEEN :a AND :b"),
            {"a": start, "b": TODAY}).all()
    as_date = lambda value: value if isinstance(value, date) else date.fromisoformat(str(value)[:10])  # noqa: E731
    return [SimpleNamespace(day=as_date(r.registered_on), office=r.office_code, destination=r.destination_country,
                            occupation=r.occupation_code, sex=r.sex, born=as_date(r.date_of_birth))
            for r in rows if office is None or r.office_code == office]


def shown(count):
    return None if 0 < count < THRESHOLD else count


def test_dashboard_page_and_every_chart_for_a_statistician(data, as_user):
    client = as_user(data, "statistician")
    page = client.get("/statistics/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    keys = ["trend", "destinations", "occupations", "referrals", "ages"]
    for key in keys:
        assert f"/statistics/dashboard/{key}.json" in html and f"/statistics/dashboard/{key}.csv" in html
    assert "/statistics/vendor/chart.umd.min.js" in html and "cdn" not in html.lower()
    withheld = 0
    for key in keys:
        made = client.get(f"/statistics/dashboard/{key}.json")
        assert made.status_code == 200 and made.is_json
        chart = made.get_json()
        assert chart["key"] == key and chart["labels"]
        for values in chart["series"].values():
            assert len(values) == len(chart["labels"])
            assert all(value is None or value == 0 or value >= THRESHOLD for value in values), key
            withheld += values.count(None)
        download = client.get(f"/statistics/dashboard/{key}.csv")
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert download.headers["Content-Disposition"].startswith("attachment")
        rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
        assert rows[0][1:] == list(chart["series"])
        assert [row[0] for row in rows[1:]] == chart["labels"]
        for i, row in enumerate(rows[1:]):
            assert row[1:] == ["x" if s[i] is None else str(s[i]) for s in chart["series"].values()]
    assert withheld >= 1, "small counts are in the data: some must be withheld"


def test_dashboard_figures_are_the_offices_own_and_match_an_independent_count(data, as_user):
    client = as_user(data, "statistician")
    rows = dashboard_rows(data, "BBR")
    assert len(rows) != len(dashboard_rows(data, None))  # HRE has registrations too
    trend = client.get("/statistics/dashboard/trend.json?office=HRE").get_json()
    months = last_twelve_months()
    assert trend["labels"] == months
    counted = Counter((row.day.isoformat()[:7], row.sex) for row in rows)
    assert trend["series"] == {"Female": [shown(counted[(m, "F")]) for m in months],
                               "Male": [shown(counted[(m, "M")]) for m in months]}

    ages = client.get("/statistics/dashboard/ages.json").get_json()

    def group(row):
        age = row.day.year - row.born.year - ((row.day.month, row.day.day) < (row.born.month, row.born.day))
        low = 15 + 5 * ((age - 15) // 5)
        return "65+" if age >= 65 else f"{low}-{low + 4}"

    by_age = Counter((group(row), row.sex) for row in rows)
    assert ages["series"]["Female"] == [shown(by_age[(label, "F")]) for label in ages["labels"]]
    assert ages["series"]["Male"] == [shown(by_age[(label, "M")]) for label in ages["labels"]]
    assert sum(by_age.values()) == len(rows)

    destinations = client.get("/statistics/dashboard/destinations.json").get_json()
    by_destination = Counter(row.destination for row in rows)
    names = {country_name(code): code for code in by_destination}
    values = destinations["series"]["Registrations"]
    assert [shown(by_destination[names[label]]) for label in destinations["labels"]] == values
    listed = [by_destination[names[label]] for label in destinations["labels"]]
    assert listed == sorted(listed, reverse=True)
    assert all(count <= min(listed) for code, count in by_destination.items() if country_name(code) not in
               destinations["labels"])


def test_an_unknown_chart_is_not_found(app, as_user):
    client = as_user(app, "statistician")
    assert client.get("/statistics/dashboard/names.json").status_code == 404
    assert client.get("/statistics/dashboard/names.csv").status_code == 404


def test_the_chart_library_is_served_locally_as_javascript(app, as_user):
    response = as_user(app, "statistician").get("/statistics/vendor/chart.umd.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data()
    response.close()
    assert b"Chart" in body and len(body) > 50_000

