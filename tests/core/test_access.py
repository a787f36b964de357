"""The access matrix: every route of the app, for anonymous visitors and every role.

The routes come from `app.url_map`, so a new route is walked as soon as it exists. What each role may open
comes from the route's marking in `registry/core/access.py` (`@public`, `@office_signed`, `@roles_required`);
on top of that the policies that must never change are asserted outright: statisticians never reach personal
data, user and office administration is for administrators only, and an unmarked view is refused to all.
"""
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from flask import Blueprint
from sqlalchemy import select

from registry.auth.models import User
from registry.core.access import ADMIN, ALL_ROLES, OFFICER, STATISTICIAN, SUPERVISOR, public, roles_required
from registry.core.db import command_transaction
from registry.extensions import db
from registry.recruitment.agencies import AgencyData, create_agency
from registry.recruitment.complaints import ComplaintData, file_complaint
from registry.referrals.services import issue_referral
from registry.referrals.targets import (
    EmployerData, ServiceData, VacancyData, create_employer, create_service, create_vacancy,
)
from tests.conftest import extract_csrf, make_app
from tests.support.factories import create_registration

ANONYMOUS = None
# A seeded user for each role; the records the matrix opens belong to BBR, the officer's and supervisor's office.
USER_FOR_ROLE = {OFFICER: "officer", SUPERVISOR: "supervisor", STATISTICIAN: "statistician", ADMIN: "admin"}
# /verify: anyone holding a slip may check it; it shows no more than the slip in their hand.
# /login/code: the second step of a login, open only with the first step's half-finished session.
ALWAYS_PUBLIC = {"static", "auth.login", "auth.login_code", "health.healthz", "slips.verify"}
# Pages that show personal data of migrants (people, their registrations and slips, the audit trail of who saw them).
PERSONAL_DATA_BLUEPRINTS = ("people", "registration", "audit", "matching", "slips", "referrals", "recruitment")
NO_PERSONAL_DATA = {"registration.summary", "slips.verify"}  # counts only; what the slip itself shows
ADMIN_ONLY = {"auth.users", "auth.new_user", "auth.edit_user", "auth.user_password", "auth.unlock_user",
              "statistics.full_extract", "statistics.disclosures", "auth.second_factor_page",
              "auth.reset_second_factor"}
ADMIN_ONLY_BLUEPRINTS = ("offices",)
# URL arguments with no real record behind them in the test database: the view may answer 404 there.
NO_REAL_SAMPLE = {"conflict_id", "candidate_id"}
# A download's filters come in the query string: without them the answer is a 400 that says which are missing.
NO_REAL_SAMPLE |= {"file_format"}


def marking(app, endpoint):
    view = app.view_functions[endpoint]
    if endpoint == "static" or getattr(view, "access_public", False):
        return "public"
    if getattr(view, "access_office_signed", False):
        return "office_signed"
    return frozenset(getattr(view, "access_roles", ()))


def shows_personal_data(endpoint):
    return endpoint.split(".")[0] in PERSONAL_DATA_BLUEPRINTS and endpoint not in NO_PERSONAL_DATA


def admin_only(endpoint):
    return endpoint in ADMIN_ONLY or endpoint.split(".")[0] in ADMIN_ONLY_BLUEPRINTS


@pytest.fixture
def samples(app):
    """A real value for every URL argument the app's routes take."""
    with app.app_context(), command_transaction():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        registration = create_registration(actor=officer)
        service = create_service(ServiceData(kind="medical", name="Clinic", address="Main Road"), supervisor)
        employer = create_employer(EmployerData(name="Mopani Citrus", country="ZA", subdivision="ZA-LP"), supervisor)
        vacancy = create_vacancy(employer, VacancyData(title="Pickers", occupation_code="9211", places=5,
                                                       starts_on=date.today()), supervisor)
        referral = issue_referral(registration, service, date.today(), officer)
        to_vacancy = issue_referral(registration, vacancy, date.today(), officer)
        agency = create_agency(AgencyData(name="Musina Recruiters", licence_number="ZA-1", country="ZA",
                                          licence_valid_from=date.today(), licence_valid_until=date.today()),
                               supervisor)
        complaint = file_complaint(ComplaintData(received_on=date.today(), kind="trafficking", agency_id=agency.id,
                                                 description="Passport kept by the agency"), officer)
        values = {"person_id": registration.person_id, "number": registration.registration_number,
                  "service_id": service.id, "employer_id": employer.id, "vacancy_id": vacancy.id,
                  "sequence": referral.sequence, "agency_id": agency.id, "referral_id": to_vacancy.id,
                  "complaint_id": complaint.id}
    values.update(username="officer", code="BBR", country="ZA", filename="css/registry.css",
                  conflict_id=uuid.uuid4(), candidate_id=uuid.uuid4(), action="distinct", key="trend",
                  file_format="csv")
    return values


def url_for_rule(rule, samples):
    missing = set(rule.arguments) - set(samples)
    assert not missing, f"{rule.endpoint} takes {missing}: add a sample value to the access matrix"
    return rule.build({name: samples[name] for name in rule.arguments}, append_unknown=False)[1]


def rules_of(app):
    # Log out last: it ends the session the rest of the walk needs.
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.endpoint == "auth.logout", rule.rule))


def visit(client, rule, url, token):
    if "GET" in rule.methods:
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token})
    response.get_data()
    response.close()  # static files are streamed from an open file
    return response


def is_login_redirect(response):
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("node_role", ["office", "central"])
def test_every_route_is_marked_and_keeps_the_fixed_policies(tmp_path, node_role):
    # Only the routing is looked at: this app never opens its database.
    app = make_app(f"sqlite:///{tmp_path}/unused.db", REGISTRY_ROLE=node_role,
                   OFFICE_CODE="HQ" if node_role == "central" else "BBR")
    seen = 0
    for rule in app.url_map.iter_rules():
        seen += 1
        mark = marking(app, rule.endpoint)
        if rule.endpoint in ALWAYS_PUBLIC:
            assert mark == "public", rule.endpoint
            continue
        assert mark != "public", f"{rule.endpoint} is public but not on the short public allowlist"
        if mark == "office_signed":
            assert rule.rule.startswith("/api/"), f"{rule.endpoint}: only the sync API is office-signed"
            continue
        assert mark <= set(ALL_ROLES)
        if shows_personal_data(rule.endpoint):
            assert STATISTICIAN not in mark, f"statisticians must not open {rule.endpoint}"
        if admin_only(rule.endpoint):
            assert mark == {ADMIN}, f"{rule.endpoint} must be for administrators only"
    assert seen >= 25


def walk(app, login, samples, role, rules):
    """Open each rule as `role` and check the answer is exactly what the route's marking allows."""
    client = app.test_client()
    if role is not ANONYMOUS:
        login(client, USER_FOR_ROLE[role])
    token = extract_csrf(client.get("/login" if role is ANONYMOUS else "/account/password").get_data(as_text=True))
    walked = 0
    for rule in rules:
        url = url_for_rule(rule, samples)
        response = visit(client, rule, url, token)
        mark = marking(app, rule.endpoint)
        where = f"{role or 'anonymous'} {sorted(rule.methods - {'HEAD', 'OPTIONS'})} {url} -> {response.status_code}"
        assert response.status_code < 500, where
        if mark == "public":
            # The login page sends someone already logged in on to their start page; the code page sends
            # anyone without a half-finished login back to the login page.
            assert response.status_code == 200 or (role and rule.endpoint == "auth.login"
                                                   and response.status_code == 302) \
                or (rule.endpoint == "auth.login_code" and is_login_redirect(response)), where
        elif mark == "office_signed":
            # No signature: refused with the API's JSON error, never a login page.
            assert 400 <= response.status_code < 500 and response.is_json, where
        elif role is ANONYMOUS:
            assert is_login_redirect(response), where
            if "GET" in rule.methods:
                assert "next=" in response.headers["Location"], where
        elif role in mark and rule.endpoint == "auth.logout":
            # Logging out ends at the login page; that it ran shows in the next request.
            assert is_login_redirect(response) and is_login_redirect(client.get("/")), where
        elif role in mark:
            assert response.status_code not in (401, 403) and not is_login_redirect(response), where
            if not set(rule.arguments) & NO_REAL_SAMPLE and "GET" in rule.methods:
                assert response.status_code in (200, 302), where
        else:
            assert response.status_code == 403, where
        walked += 1
    return walked


@pytest.mark.parametrize("role", [ANONYMOUS, *ALL_ROLES])
def test_each_role_gets_exactly_the_access_its_routes_name(app, login, samples, role):
    rules = rules_of(app)
    assert walk(app, login, samples, role, rules) == len(rules) >= 25


def test_routes_only_central_serves_give_each_role_exactly_their_access(database_url, login, samples):
    """Central adds routes of its own (the sync API, the duplicate queue): walked here for every role."""
    office_endpoints = {rule.endpoint for rule in make_app(database_url).url_map.iter_rules()}
    app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    try:
        central_only = [rule for rule in rules_of(app) if rule.endpoint not in office_endpoints]
        assert sum(marking(app, rule.endpoint) == "office_signed" for rule in central_only) >= 2  # push, pull
        for role in (ANONYMOUS, *ALL_ROLES):
            assert walk(app, login, samples, role, central_only) == len(central_only)
        # Anonymous visitors of central reach nothing else but the public pages.
        assert walk(app, login, samples, ANONYMOUS, rules_of(app)) == len(rules_of(app))
    finally:
        with app.app_context():
            db.engine.dispose()


def test_statisticians_are_refused_every_page_with_personal_data(app, client, login, samples):
    login(client, "statistician")
    refused = []
    for rule in app.url_map.iter_rules():
        if shows_personal_data(rule.endpoint) and "GET" in rule.methods:
            response = visit(client, rule, url_for_rule(rule, samples), None)
            assert response.status_code == 403, rule.endpoint
            refused.append(rule.endpoint)
    assert {"people.search", "people.show", "registration.index", "registration.show", "audit.recent"} <= set(refused)
    assert client.get("/registrations/summary").status_code == 200


def test_admin_pages_refuse_officers_and_supervisors(app, login, samples):
    for username in ("officer", "supervisor"):
        client = app.test_client()
        login(client, username)
        token = extract_csrf(client.get("/account/password").get_data(as_text=True))
        checked = []
        for rule in app.url_map.iter_rules():
            if admin_only(rule.endpoint):
                response = visit(client, rule, url_for_rule(rule, samples), token)
                assert response.status_code == 403, (username, rule.endpoint)
                checked.append(rule.endpoint)
        assert {"auth.users", "auth.new_user", "offices.index", "offices.new", "offices.edit"} <= set(checked)


def test_a_view_without_a_roles_decorator_is_refused_to_everyone(database_url, login):
    app = make_app(database_url)
    extra = Blueprint("throwaway", __name__, url_prefix="/throwaway")

    @extra.get("/forgotten")
    def forgotten():
        return "should never be seen"

    @extra.get("/admins")
    @roles_required(ADMIN)
    def admins():
        return "admins only"

    @extra.get("/open")
    @public
    def open_page():
        return "anyone"

    app.register_blueprint(extra)
    try:
        anonymous = app.test_client()
        assert is_login_redirect(anonymous.get("/throwaway/forgotten"))
        assert anonymous.get("/throwaway/open").get_data(as_text=True) == "anyone"
        for username in USER_FOR_ROLE.values():
            client = app.test_client()
            login(client, username)
            response = client.get("/throwaway/forgotten")
            assert response.status_code == 403, username
            assert "should never be seen" not in response.get_data(as_text=True)
            assert client.get("/throwaway/admins").status_code == (200 if username == "admin" else 403)
        assert marking(app, "throwaway.forgotten") == frozenset()
    finally:
        with app.app_context():
            db.engine.dispose()


def test_roles_required_refuses_unknown_or_missing_roles():
    with pytest.raises(ValueError, match="unknown roles"):
        roles_required("superuser")
    with pytest.raises(ValueError, match="name at least one role"):
        roles_required()


# -- the role matrix in docs/access.md agrees with the code ------------------------------------------------

ACCESS_DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"
DOC_COLUMNS = (ANONYMOUS, OFFICER, SUPERVISOR, STATISTICIAN, ADMIN)


def doc_matrix():
    """The rows of the route table in docs/access.md: ([path regexes], {column: cell text})."""
    rows = []
    for line in ACCESS_DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[0].startswith("`"):
            continue
        patterns = []
        for written in re.findall(r"`([^`]+)`", cells[0]):
            if not written.startswith(("/", "...")):
                continue  # `.xlsx` and the like: other extensions of the path before
            prefix = written.endswith("...")
            body = written.removesuffix("...")
            leading = body.startswith("...")
            body = body.removeprefix("...")
            regex = re.escape(body)
            # Upper-case words stand for a URL argument: ID, NUMBER, CODE, N, PERSON, CC, ...
            regex = re.sub(r"(?<![A-Za-z])[A-Z][A-Z_]*(?![A-Za-z])", "[^/]+", regex)
            regex = (".*" if leading else "^") + regex + (".*" if prefix else "/?$")
            patterns.append((re.compile(regex), prefix or leading))
        rows.append((patterns, dict(zip(DOC_COLUMNS, cells[1:]))))
    return rows


def documented_row(rows, url):
    """The row naming `url`: an exact pattern first, else the longest prefix pattern."""
    exact = [(regex.pattern.count("[^/]+"), -len(regex.pattern), index)
             for index, row in enumerate(rows) for regex, loose in row[0] if not loose and regex.match(url)]
    if exact:
        return rows[min(exact)[2]]  # the one with the fewest arguments: /employers/new before /employers/ID
    loose = [(len(regex.pattern), row) for row in rows for regex, is_loose in row[0] if is_loose and regex.match(url)]
    return max(loose, key=lambda pair: pair[0])[1] if loose else None


def test_the_documented_role_matrix_is_what_the_code_enforces(database_url, samples):
    """Every route of both roles is in docs/access.md, and each role's cell says what the route allows:
    "yes" (or a scoped yes, such as "own office") exactly where the code lets the role in, "no" where it
    refuses, "login" for anonymous visitors of a non-public page, "signed" for the sync API."""
    rows = doc_matrix()
    assert len(rows) >= 25
    problems = []
    for node_role in ("office", "central"):
        app = make_app(database_url, REGISTRY_ROLE=node_role, OFFICE_CODE="HQ" if node_role == "central" else "BBR")
        try:
            for rule in app.url_map.iter_rules():
                url = url_for_rule(rule, samples).split("?")[0]
                row = documented_row(rows, url)
                if row is None:
                    problems.append(f"{node_role}: {rule.rule} ({rule.endpoint}) is not in docs/access.md")
                    continue
                cells, mark = row[1], marking(app, rule.endpoint)
                for column in DOC_COLUMNS:
                    cell = cells[column].lower()
                    if mark == "office_signed":
                        expected = column is ANONYMOUS and "signed" in cell or column is not ANONYMOUS
                    elif mark == "public":
                        expected = cell.startswith("yes")
                    elif column is ANONYMOUS:
                        expected = cell.startswith("login")
                    else:
                        expected = cell.startswith("no") != (column in mark)
                    if not expected:
                        problems.append(f"{node_role}: {rule.rule} ({rule.endpoint}), column "
                                        f"{column or 'anonymous'}: the doc says {cells[column]!r}, the code "
                                        f"{'public' if mark == 'public' else sorted(mark) if mark != 'office_signed' else mark}")
        finally:
            with app.app_context():
                db.engine.dispose()
    assert not problems, "\n".join(problems)
