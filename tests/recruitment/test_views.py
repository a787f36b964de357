"""The recruitment pages through the test client: who may open them, the agency and job-order forms, the
vetting form, referring from the shortlist, recording selection steps for a group, the group list PDF, and
the open job orders on a registration's page."""
import html
import re
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.recruitment.models import SelectionStep
from registry.recruitment.orders import CHECKLIST
from registry.referrals.models import Referral, Vacancy
from registry.referrals.services import issue_referral
from registry.registration.models import Registration
from tests.conftest import extract_csrf, user
from tests.recruitment.helpers import candidate, counts_in, make_agency, make_order
from tests.referrals.helpers import make_employer
from tests.registration.helpers import field_error, flashes
from tests.slips.helpers import pdf_text

TODAY = date.today()
ROLES = ("officer", "supervisor", "statistician", "admin")


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def data(app):
    with app.app_context():
        supervisor, officer = user("supervisor"), user("officer")
        agency = make_agency(supervisor)
        employer = make_employer(supervisor)
        order = make_order(supervisor, employer=employer, agency_id=agency.id, places=3,
                           skills_required="fruit picking")
        people = [candidate(officer, surname=surname, given_names=given, passport_number=passport,
                            passport_country="ZW", registration={"skills": skills})
                  for surname, given, passport, skills in (("Ncube", "Sipho", "FN123456", "fruit picking"),
                                                           ("Dube", "Rudo", "FN654321", ""))]
        db.session.commit()
        return SimpleNamespace(agency=str(agency.id), employer=str(employer.id), order=str(order.id),
                               ids=[str(p.id) for p in people], numbers=[p.registration_number for p in people])


def logged_in(app, login, username):
    client = app.test_client()
    login(client, username)
    return client


def token(client, url):
    return extract_csrf(client.get(url).get_data(as_text=True))


def test_who_may_open_the_recruitment_pages(app, login, data):
    pages = {
        "/agencies/": ROLES, f"/agencies/{data.agency}": ROLES, "/agencies/new": ("supervisor", "admin"),
        f"/agencies/{data.agency}/edit": ("supervisor", "admin"),
        f"/vacancies/{data.order}/vetting": ("officer", "supervisor", "admin"),
        f"/vacancies/{data.order}/shortlist": ("officer", "supervisor", "admin"),
        f"/vacancies/{data.order}/selection": ("officer", "supervisor", "admin"),
    }
    for role in ROLES:
        client = logged_in(app, login, role)
        for url, allowed in pages.items():
            assert client.get(url).status_code == (200 if role in allowed else 403), (role, url)
        job_order = text_of(client.get(f"/vacancies/{data.order}"))
        assert "Limpopo Farm Labour Services" in job_order
        assert ("Shortlist" in job_order) is (role != "statistician")
    anonymous = app.test_client().get(f"/vacancies/{data.order}/shortlist")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_an_agency_through_its_form(app, login, data):
    client = logged_in(app, login, "supervisor")
    before = counts_in(app)
    form = {"csrf_token": token(client, "/agencies/new"), "name": "Musina Recruiters", "licence_number": "ZA-77",
            "licence_valid_from": TODAY.isoformat(), "licence_valid_until": (TODAY - timedelta(days=1)).isoformat(),
            "status": "active", "country": "ZA", "subdivision": "ZA-LP", "version": "0"}
    page = text_of(client.post("/agencies/new", data=form))
    assert field_error(page, "licence_valid_until") == "The licence cannot expire before it was granted."
    page = text_of(client.post("/agencies/new", data={**form, "licence_valid_until": "2026-02-30"}))
    assert field_error(page, "licence_valid_until") == "'2026-02-30' is not a date that exists; enter it as YYYY-MM-DD."
    assert counts_in(app) == before
    made = client.post("/agencies/new", data={**form, "licence_valid_until": (TODAY + timedelta(days=9)).isoformat()})
    assert made.status_code == 302
    page = text_of(client.get(made.headers["Location"]))
    assert "Musina Recruiters" in page and "ZA-77: Active" in page
    listing = text_of(client.get("/agencies/"))
    assert "Musina Recruiters" in listing and "Yes" in listing


def test_a_job_order_with_a_fee_is_saved_as_a_draft_then_vetted_and_published(app, login, data):
    client = logged_in(app, login, "supervisor")
    new_url = f"/employers/{data.employer}/vacancies/new"
    form = {"csrf_token": token(client, new_url), "title": "Packhouse workers", "occupation_code": "9329",
            "country": "ZA", "subdivision": "ZA-LP", "places": "5", "starts_on": TODAY.isoformat(),
            "agency_id": data.agency, "season": "Citrus harvest", "worker_fee_amount": "900",
            "worker_fee_currency": "ZAR", "housing_provided": "y", "version": "0"}
    made = client.post(new_url, data=form)
    assert made.status_code == 302
    page = text_of(client.get(made.headers["Location"]))
    assert "Job order Packhouse workers saved as a draft: it cannot be published while it charges the worker a " \
           "recruitment fee (ZAR 900)" in " ".join(flashes(page))
    assert "Draft. Not taking referrals: it is a draft, not yet published" in page
    order_id = made.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        order = db.session.get(Vacancy, uuid.UUID(order_id))
        assert (order.status, order.worker_fee_amount, order.housing_provided, str(order.agency_id)) == (
            "draft", 900, True, data.agency)
        version = order.version
    publish = client.post(f"/vacancies/{order_id}/status", data={
        "csrf_token": token(client, f"/vacancies/{order_id}"), "version": str(version), "status": "open"})
    assert publish.status_code == 302
    page = text_of(client.get(f"/vacancies/{order_id}"))
    assert "Packhouse workers cannot be published: it charges the worker a recruitment fee" in " ".join(flashes(page))

    # The fee removed, the contract vetted with every point met: published.
    edit_url = f"/vacancies/{order_id}/edit"
    saved = client.post(edit_url, data={**form, "csrf_token": token(client, edit_url), "worker_fee_amount": "",
                                        "worker_fee_currency": "", "version": str(version)})
    assert saved.status_code == 302
    officer = logged_in(app, login, "officer")
    vetting_url = f"/vacancies/{order_id}/vetting"
    answers = dict.fromkeys(CHECKLIST, "pass")
    page = text_of(officer.post(vetting_url, data={"csrf_token": token(officer, vetting_url),
                                                   "version": str(version + 1), **{**answers, "wage": ""}}))
    assert "Say whether the contract meets this point: wage, pay days" in page
    vetted = officer.post(vetting_url, data={"csrf_token": token(officer, vetting_url), "version": str(version + 1),
                                             **answers})
    assert vetted.status_code == 302
    publish = client.post(f"/vacancies/{order_id}/status", data={
        "csrf_token": token(client, f"/vacancies/{order_id}"), "version": str(version + 2), "status": "open"})
    page = text_of(client.get(f"/vacancies/{order_id}"))
    assert "The job order is published: it takes referrals." in flashes(page)
    assert "Vetted by officer on " + TODAY.isoformat() + ": every point met" in page


def test_referring_from_the_shortlist_and_recording_steps_for_the_group(app, login, data):
    client = logged_in(app, login, "officer")
    url = f"/vacancies/{data.order}/shortlist"
    page = text_of(client.get(url))
    assert page.index("NCUBE, Sipho") < page.index("DUBE, Rudo")
    assert "same occupation (9211 crop farm labourers); wants to go to ZA-LP; skill: fruit picking (1 of 1)" in page
    csrf = token(client, url)
    before = counts_in(app)
    refused = client.post(url, data={"csrf_token": csrf, "due_by": (TODAY - timedelta(days=1)).isoformat(),
                                     "registration": data.ids})
    assert refused.status_code == 422
    assert f"{data.numbers[0]}: The day to attend by cannot be in the past." in text_of(refused)
    assert counts_in(app) == before
    # One click on a candidate's own button refers that candidate only.
    one = client.post(url, data={"csrf_token": csrf, "due_by": (TODAY + timedelta(days=7)).isoformat(),
                                 "registration": data.ids, "only": data.ids[1]})
    assert one.status_code == 302
    both = client.post(url, data={"csrf_token": csrf, "due_by": (TODAY + timedelta(days=7)).isoformat(),
                                  "registration": [data.ids[0]]})
    assert both.status_code == 302 and both.headers["Location"].endswith(f"/vacancies/{data.order}/selection")
    with app.app_context():
        referrals = db.session.scalars(select(Referral).where(Referral.vacancy_id == uuid.UUID(data.order))
                                       .order_by(Referral.registration_number)).all()
        assert [r.registration_number for r in referrals] == sorted(data.numbers)
        ids = [str(r.id) for r in referrals]

    selection = f"/vacancies/{data.order}/selection"
    steps = f"{selection}/steps"
    csrf = token(client, selection)
    before = counts_in(app)
    bad = client.post(steps, data={"csrf_token": csrf, "step": "medical", "on": TODAY.isoformat(), "referral": ids})
    assert bad.status_code == 422 and "record interviewed before medical done" in text_of(bad)
    assert counts_in(app) == before
    for step in ("interviewed", "medical", "documents", "contract"):
        done = client.post(steps, data={"csrf_token": csrf, "step": step, "on": TODAY.isoformat(), "referral": ids})
        assert done.status_code == 302, step
    page = text_of(client.get(selection))
    assert "Contract signed on " + TODAY.isoformat() + " recorded for" in " ".join(flashes(page))
    assert page.count(">Undo contract signed<") == 2

    pdf = client.post(f"/vacancies/{data.order}/group-list", data={
        "csrf_token": csrf, "departure_on": TODAY.isoformat(), "referral": ids})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "NCUBE" in text and "FN654321 (ZW)" in text and "Workers 2" in text
    with app.app_context():
        assert len(db.session.scalars(select(SelectionStep)).all()) == 2 * 4


def test_the_registration_page_shows_the_open_job_orders_that_fit(app, login, data):
    client = logged_in(app, login, "officer")
    page = text_of(client.get(f"/registrations/{data.numbers[0]}"))
    assert "Open job orders that fit" in page
    assert re.search(r"Citrus pickers, Mopani Citrus Estates.*same occupation \(9211 crop farm labourers\)", page, re.S)
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(
            Registration.registration_number == data.numbers[0]))
        issue_referral(registration, db.session.get(Vacancy, uuid.UUID(data.order)), TODAY + timedelta(days=3),
                       user("officer"))
        db.session.commit()
    assert "Open job orders that fit" not in text_of(client.get(f"/registrations/{data.numbers[0]}"))
