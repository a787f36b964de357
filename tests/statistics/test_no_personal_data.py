"""Statisticians never see personal data (issue 5, item 7): log in as the statistician and open every page a
statistician can open, at an office node and at central, with every table, chart and download format; no
name, national ID, passport number, phone or date of birth of a registered person (placed, returned and
complained about too, for the recruitment tables), nor a complainant's name or phone, may appear in any
answer (HTML, JSON, CSV, or the XML inside an XLSX).

The routes come from `app.url_map` and their marking (see tests/core/test_access.py), so a new page a
statistician can open is walked as soon as it exists.
"""
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import select, text

from registry.auth.models import User
from registry.core.access import STATISTICIAN
from registry.core.db import command_transaction
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.recruitment.agencies import AgencyData, create_agency
from registry.recruitment.complaints import ComplaintData, file_complaint
from registry.recruitment.models import STEP_ORDER
from registry.recruitment.returns import ReturnData, record_return
from registry.recruitment.selection import record_step
from registry.referrals.services import issue_referral
from registry.referrals.targets import (
    EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy,
)
from registry.statistics.dashboard import CHARTS
from registry.statistics.extracts import TABLE_FORMATS
from registry.statistics.tables import CATALOGUE, compute, make_request, parse_period
from tests.conftest import extract_csrf, make_app
from tests.core.test_access import marking
from tests.support.factories import create_registration

YEAR = date.today().year
# People whose every detail is unlike anything else in the registry, so any sighting is a leak.
DISTINCT = [
    dict(surname="Quaxtonbury", given_names="Zephyrine Olwethu", sex="F", date_of_birth=date(1988, 7, 19),
         national_id="63-9876543 Q 21", passport_number="ZQ7766554", passport_country="ZW", phone="0773 456 789"),
    dict(surname="Vundlakazi", given_names="Xolisweyo", sex="M", date_of_birth=date(1979, 11, 3),
         national_id="08-4455667 W 42", passport_number="KX3141592", passport_country="ZW", phone="0712 918 273"),
    dict(surname="Mbuyazwe-Hlathikhulu", given_names="Ntombizodwa Pretty", sex="F", date_of_birth=date(2001, 2, 27),
         national_id="42-1029384 J 07", passport_number="JJ2718281", passport_country="ZW", phone="0783 660 144"),
]

COMPLAINANT = dict(name="Ruvimbo Zwelithinibesa", phone="0718 642 097")


def date_forms(day):
    return {day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d.%m.%Y"), day.strftime("%Y/%m/%d"),
            f"{day.day} {day:%B %Y}", f"{day.day} {day:%b %Y}", day.strftime("%d %b %Y"), day.strftime("%d %B %Y"),
            day.strftime("%B %d, %Y").replace(" 0", " ")}


@pytest.fixture
def records(app):
    """Demo registrations for the tables and charts, the distinctive people registered today and referred to a
    service and a vacancy, and a real value for every URL argument a statistician's page takes."""
    with app.app_context():
        load_demo(150, ["BBR", "HRE"], seed=41, today=date.today())
        db.session.commit()
    with app.app_context(), command_transaction():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        service = create_service(ServiceData(kind="medical", name="Clinic", address="Main Road"), supervisor)
        employer = create_employer(EmployerData(name="Mopani Citrus", country="ZA", subdivision="ZA-LP"), supervisor)
        vacancy = create_vacancy(employer, VacancyData(title="Pickers", occupation_code="9211", places=5,
                                                       starts_on=date.today()), supervisor)
        placements = []
        for details in DISTINCT:
            registration = create_registration(actor=officer, **details)
            to_vacancy = issue_referral(registration, vacancy, date.today(), officer)
            placements.append(to_vacancy)
            issue_referral(registration, service, date.today(), officer)
        agency = create_agency(AgencyData(name="Musina Recruiters", licence_number="ZA-1", country="ZA",
                                          licence_valid_from=date.today(), licence_valid_until=date.today()),
                               supervisor)
        # The recruitment tables count them too: two depart, one of them comes back, and a relative complains.
        for referral in placements[:2]:
            for step in STEP_ORDER:
                record_step(referral, step, date.today(), officer)
        record_return(placements[0].registration, ReturnData(returned_on=date.today(), reason="abuse"), officer)
        complaint = file_complaint(ComplaintData(
            received_on=date.today(), kind="abuse", complainant="family", complainant_name=COMPLAINANT["name"],
            complainant_phone=COMPLAINANT["phone"], employer_id=str(employer.id), agency_id=str(agency.id),
            registration_number=placements[1].registration_number, description="Beaten at the farm."), officer)
        samples = {"employer_id": employer.id, "vacancy_id": vacancy.id, "country": "ZA", "agency_id": agency.id,
                   "referral_id": to_vacancy.id, "complaint_id": complaint.id}
    with app.app_context():
        stored = db.session.execute(text(
            "SELECT surname, given_names, national_id, passport_number, phone, date_of_birth FROM person")).all()
    secrets = {COMPLAINANT["name"], *COMPLAINANT["name"].split(), COMPLAINANT["phone"], "+263718642097"}
    for details in DISTINCT:
        secrets |= {details["surname"], *details["surname"].split("-"), *details["given_names"].split(),
                    details["passport_number"], details["national_id"], details["phone"]}
        secrets |= date_forms(details["date_of_birth"])
    for surname, given, national_id, passport, phone, born in stored:
        if surname in {d["surname"] for d in DISTINCT}:
            # As stored: the compact ID and the E.164 phone, and those as pages print them.
            compact = national_id
            secrets |= {compact, f"{compact[:2]}-{compact[2:-3]} {compact[-3]} {compact[-2:]}", phone,
                        f"{phone[:4]} {phone[4:6]} {phone[6:9]} {phone[9:]}", "0" + phone[4:]}
        # Every stored person's numbers (names of the synthetic people are ordinary words; not checked here).
        secrets |= {value for value in (national_id, passport, phone) if value}
    return samples, secrets


def url_arguments(rule, samples):
    """Every value worth walking for the rule's URL arguments: each chart, each format, a few static files."""
    if rule.endpoint == "static":
        return [{"filename": name} for name in ("css/registry.css", "js/dashboard.js")]
    if "key" in rule.arguments:
        return [{"key": key} for key in CHARTS]
    if "file_format" in rule.arguments:
        return [{"file_format": name} for name in TABLE_FORMATS]
    missing = set(rule.arguments) - set(samples)
    assert not missing, f"{rule.endpoint} takes {missing}: add a sample value to this walk"
    return [{name: samples[name] for name in rule.arguments}]


def query_strings(rule):
    if rule.endpoint in ("statistics.table", "statistics.download"):
        return [f"?table={name}&period={YEAR}" for name in CATALOGUE] + [
            f"?table=outbound-sex-destination&period={YEAR}&office=HRE"]
    return [""]


def readable(response):
    """The answer as text a person could read: XLSX and other zip files are opened and their parts joined."""
    body = response.get_data()
    response.close()
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return body.decode("utf-8", "replace")


def assert_clean(where, content, secrets):
    lowered = content.lower()
    found = sorted(secret for secret in secrets if secret.lower() in lowered)
    assert not found, f"{where} shows personal data: {found}"


def walk(app, login, samples, secrets):
    client = app.test_client()
    login(client, "statistician")
    walked, endpoints = 0, set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        mark = marking(app, rule.endpoint)
        if "GET" not in rule.methods or not (mark == "public" or STATISTICIAN in mark):
            continue
        for values in url_arguments(rule, samples):
            path = rule.build(values, append_unknown=False)[1]
            for query in query_strings(rule):
                response = client.get(path + query)
                assert response.status_code in (200, 302), f"{path}{query} -> {response.status_code}"
                assert_clean(path + query, readable(response), secrets)
                walked += 1
        endpoints.add(rule.endpoint)
    # Downloads a statistician makes by posting a form: the microdata, in both formats.
    token = extract_csrf(client.get("/statistics/microdata").get_data(as_text=True))
    for file_format in ("csv", "xlsx"):
        response = client.post("/statistics/microdata", data={"csrf_token": token, "period": str(YEAR),
                                                              "format": file_format})
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        assert_clean(f"microdata ({file_format})", readable(response), secrets)
        walked += 1
    return walked, endpoints


STATISTICS_PAGES = {"statistics.index", "statistics.table", "statistics.download", "statistics.dashboard",
                    "statistics.chart_json", "statistics.chart_csv", "statistics.microdata",
                    "statistics.chart_library", "registration.summary"}


def test_the_secrets_are_really_in_the_registry(app, login, records):
    """The walk below means something only if an officer does see these details."""
    samples, secrets = records
    client = app.test_client()
    login(client, "officer")
    page = client.get("/people/?q=Quaxtonbury").get_data(as_text=True)
    assert "Quaxtonbury" in page
    vacancy = client.get(f"/vacancies/{samples['vacancy_id']}").get_data(as_text=True)
    assert "VUNDLAKAZI" in vacancy.upper()
    complaint = client.get(f"/complaints/{samples['complaint_id']}").get_data(as_text=True)
    assert COMPLAINANT["name"] in complaint
    # And the recruitment tables the walk opens do count them.
    with app.app_context():
        for name in ("placements-employer-sex", "returns-employer-reason", "complaints-agency-kind"):
            assert compute(make_request(name, parse_period(str(YEAR)))).total >= 1, name


def test_no_page_a_statistician_opens_at_an_office_shows_personal_data(app, login, records):
    samples, secrets = records
    walked, endpoints = walk(app, login, samples, secrets)
    assert STATISTICS_PAGES <= endpoints
    assert walked >= 4 * len(CATALOGUE) + 2 * len(CHARTS)


def test_no_page_a_statistician_opens_at_central_shows_personal_data(database_url, login, records):
    samples, secrets = records
    central = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    try:
        walked, endpoints = walk(central, login, samples, secrets)
        assert STATISTICS_PAGES <= endpoints
        assert walked >= 4 * len(CATALOGUE) + 2 * len(CHARTS)
    finally:
        with central.app_context():
            db.engine.dispose()
