"""The web side of referrals, through the test client: the refer form, the referral page with its outcome
form and slip printing, the lists, and the services, employers and vacancies pages for every role."""
import html
import re
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.referrals.models import Referral, Service, Vacancy
from registry.referrals.services import issue_referral, record_outcome
from registry.referrals.targets import set_vacancy_status, update_service
from registry.registration.models import Registration
from registry.slips.payload import parse_payload
from tests.conftest import extract_csrf, user
from tests.referrals.helpers import as_node, counts_in, make_employer, make_service, make_vacancy, service_data
from tests.registration.helpers import click, field_error, flashes, read_form, submit
from tests.slips.conftest import set_up_office
from tests.slips.helpers import pdf_text, scan_pdf
from tests.support.factories import create_registration

ROLES = ("officer", "supervisor", "statistician", "admin")


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def data(app):
    """Targets (two services taking referrals, one not; a vacancy with 3 places, a closed one), a registration
    of Ṱhivhulawi Nemaṱhaṅwe at BBR, and a service added at HRE. Ids and numbers only: requests load their own."""
    with app.app_context():
        set_up_office()
        supervisor, officer = user("supervisor"), user("officer")
        clinic = make_service(supervisor)
        counselling = make_service(supervisor, kind="counselling", name="Sunrise counselling", address="Main St")
        old = make_service(supervisor, name="Old clinic")
        update_service(old, service_data(name="Old clinic", active=False), old.version, supervisor)
        employer = make_employer(supervisor)
        vacancy = make_vacancy(supervisor, employer=employer)
        closed = make_vacancy(supervisor, employer=employer, title="Closed pickers")
        set_vacancy_status(closed, "closed", closed.version, supervisor)
        registration = create_registration(actor=officer, surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi")
        with as_node(app, "HRE"):
            harare_service = make_service(user("admin"), kind="passport", name="Harare Passport Office",
                                          address="Makombe Building", subdivision="ZW-HA", phone="")
        db.session.commit()
        return SimpleNamespace(clinic=str(clinic.id), counselling=str(counselling.id), old=str(old.id),
                               employer=str(employer.id), vacancy=str(vacancy.id), closed=str(closed.id),
                               number=registration.registration_number, harare_service=str(harare_service.id))


def referral_in(app, number, sequence=1):
    with app.app_context():
        referral = db.session.scalar(select(Referral).where(Referral.registration_number == number,
                                                            Referral.sequence == sequence))
        if referral is None:
            return None
        return SimpleNamespace(status=referral.status, version=referral.version, outcome_on=referral.outcome_on,
                               registration_status=referral.registration.status, reference=referral.reference)


def refer(app, number, target_id, kind="service", days=7):
    """Issue a referral directly (not through the form) and return its reference."""
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.registration_number == number))
        model = Service if kind == "service" else Vacancy
        referral = issue_referral(registration, db.session.get(model, uuid.UUID(target_id)),
                                  date.today() + timedelta(days=days), user("officer"))
        db.session.commit()
        return referral.reference


# The refer form -----------------------------------------------------------------------------------------

def test_the_refer_form_lists_services_by_kind_and_vacancies_with_places_left(client, login, data):
    login(client, "officer")
    response = client.get(f"/registrations/{data.number}/refer")
    assert response.status_code == 200
    page = text_of(response)
    assert "NEMAṰHAṄWE, Ṱhivhulawi" in page
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', page, re.S))
    assert f'value="service:{data.clinic}">Beitbridge District Hospital<' in groups["Medical examination"]
    assert f'value="service:{data.counselling}">Sunrise counselling<' in groups["Counselling"]
    assert f'value="service:{data.harare_service}">Harare Passport Office<' in groups["Passport office"]
    assert (f'value="vacancy:{data.vacancy}">Citrus pickers, Mopani Citrus Estates (ZA; 3 of 3 places left)<'
            in groups["Vacancies"])
    assert "Old clinic" not in page and "Closed pickers" not in page
    assert f'value="{(date.today() + timedelta(days=14)).isoformat()}"' in page  # attend within two weeks

    chosen = text_of(client.get(f"/registrations/{data.number}/refer", query_string={
        "target": f"vacancy:{data.vacancy}"}))
    assert re.search(rf'<option selected value="vacancy:{data.vacancy}">|<option value="vacancy:{data.vacancy}" '
                     r'selected>', chosen)


def test_an_officer_refers_through_the_form(app, client, login, data):
    login(client, "officer")
    page = text_of(client.get(f"/registrations/{data.number}/refer"))
    due = date.today() + timedelta(days=5)
    before = counts_in(app)
    response = client.post(f"/registrations/{data.number}/refer", data=submit(
        read_form(page), target=f"vacancy:{data.vacancy}", due_by=due.isoformat(), note="Bring boots"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/registrations/{data.number}/referrals/1")
    shown = text_of(client.get(response.headers["Location"]))
    assert f"Referral {data.number}/R1 issued. Print its slip for the person to take along." in flashes(shown)
    assert "Citrus pickers" in shown and due.isoformat() in shown and "Bring boots" in shown
    after = counts_in(app)
    assert after["referral"] == before["referral"] + 1
    assert referral_in(app, data.number).registration_status == "referred"

    # The registration page lists it, with the way to refer again.
    registration_page = text_of(client.get(f"/registrations/{data.number}"))
    assert f"{data.number}/R1" in registration_page and "Vacancy: Citrus pickers" in registration_page
    assert "Refer to a service or vacancy" in registration_page
    # Issuing takes no place: only placements fill places.
    assert "(ZA; 3 of 3 places left)" in text_of(client.get(f"/registrations/{data.number}/refer"))


def test_bad_input_on_the_refer_form_is_shown_on_its_field_and_nothing_is_created(app, client, login, data):
    login(client, "officer")
    page = text_of(client.get(f"/registrations/{data.number}/refer"))
    form = read_form(page)
    soon = (date.today() + timedelta(days=3)).isoformat()
    choose = "Choose the service or vacancy to refer the person to."
    cases = [
        ({"target": f"service:{data.clinic}", "due_by": (date.today() - timedelta(days=1)).isoformat()},
         "due_by", "The day to attend by cannot be in the past."),
        ({"target": f"service:{data.clinic}", "due_by": "2026-02-30"},
         "due_by", "'2026-02-30' is not a date that exists; enter it as YYYY-MM-DD."),
        ({"target": f"service:{data.clinic}", "due_by": ""}, "due_by", "Enter the day to attend by."),
        ({"target": "", "due_by": soon}, "target", "Choose a service or vacancy."),
        ({"target": "vacancy:not-a-uuid", "due_by": soon}, "target", choose),
        ({"target": f"vacancy:{uuid.uuid4()}", "due_by": soon}, "target", choose),
        ({"target": f"service:{data.vacancy}", "due_by": soon}, "target", choose),
        ({"target": f"employer:{data.employer}", "due_by": soon}, "target", choose),
        ({"target": "vacancy:", "due_by": soon}, "target", choose),
        ({"target": f"vacancy:{data.closed}", "due_by": soon}, "target",
         "No one can be referred to Closed pickers at Mopani Citrus Estates: it is closed."),
        ({"target": f"service:{data.old}", "due_by": soon}, "target",
         "Old clinic no longer takes referrals: choose another service."),
        ({"target": f"service:{data.clinic}", "due_by": soon, "note": "n" * 501},
         "note", "Field cannot be longer than 500 characters."),
    ]
    before = counts_in(app)
    for changes, field, message in cases:
        response = client.post(f"/registrations/{data.number}/refer", data=submit(form, **changes))
        assert response.status_code == 200, changes
        assert field_error(text_of(response), field) == message, (changes, field_error(text_of(response), field))
    # No CSRF token: refused too.
    response = client.post(f"/registrations/{data.number}/refer", data=submit(
        form, csrf_token=None, target=f"service:{data.clinic}", due_by=soon))
    assert response.status_code == 400
    assert counts_in(app) == before
    assert referral_in(app, data.number) is None


def test_the_refer_form_is_for_the_registrations_office(app, login, data):
    for username, status in (("officer.hre", 403), ("statistician", 403), ("supervisor", 200), ("admin", 200)):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/registrations/{data.number}/refer").status_code == status, username
    client = app.test_client()
    login(client, "officer")
    number = data.number
    wrong_check = number[:-1] + ("A" if number[-1] != "A" else "B")
    assert client.get(f"/registrations/{wrong_check}/refer").status_code == 404
    assert client.get("/registrations/not-a-number/refer").status_code == 404
    # Another office's officer sees the registration's referrals but is offered no way to refer it, nor
    # can post the form (nothing made).
    other = app.test_client()
    login(other, "officer.hre")
    panel = text_of(other.get(f"/registrations/{number}"))
    assert "No referrals yet." in panel and "Refer to a service or vacancy" not in panel
    assert "Refer to a service or vacancy" in text_of(client.get(f"/registrations/{number}"))
    before = counts_in(app)
    token = extract_csrf(other.get("/account/password").get_data(as_text=True))
    assert other.post(f"/registrations/{number}/refer", data={
        "target": f"service:{data.clinic}", "due_by": date.today().isoformat(), "csrf_token": token}).status_code == 403
    assert counts_in(app) == before


# The referral page and its outcome ----------------------------------------------------------------------

def test_the_referral_page_and_its_outcome_form(app, client, login, data):
    reference = refer(app, data.number, data.clinic)
    login(client, "officer")
    url = f"/registrations/{data.number}/referrals/1"
    page = text_of(client.get(url))
    assert reference in page and "Beitbridge District Hospital" in page and "Hospital Road, Beitbridge" in page
    assert "Mon-Fri 08:00-16:00" in page and "NEMAṰHAṄWE, Ṱhivhulawi" in page
    assert "Record outcome" in page and "Print referral slip (A4)" in page
    options = re.findall(r'<option (?:selected )?value="(\w+)"', page[page.index('name="status"'):])
    assert options[:4] == ["attended", "declined", "no_show", "cancelled"]  # never "placed" for a service

    assert client.get(f"/registrations/{data.number}/referrals/2").status_code == 404
    other = app.test_client()
    login(other, "officer.hre")
    seen = text_of(other.get(url))
    assert reference in seen and "Record outcome" not in seen and "Print referral slip" not in seen
    statistician = app.test_client()
    login(statistician, "statistician")
    assert statistician.get(url).status_code == 403

    form = read_form(page, index=_outcome_form_index(page))
    assert form["status"] == "attended" and form["on"] == date.today().isoformat()
    response = client.post(f"{url}/outcome", data=submit(form, note="Seen by Dr Moyo"))
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = text_of(client.get(url))
    assert f"Referral {reference}: attended." in flashes(page)
    assert "Seen by Dr Moyo" in page
    state = referral_in(app, data.number)
    assert (state.status, state.outcome_on, state.version) == ("attended", date.today(), 2)


def _outcome_form_index(page):
    """Index among the page's POST forms of the outcome form."""
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    return [i for i, action in enumerate(actions) if action.endswith("/outcome")][0]


def test_bad_outcomes_are_flashed_and_change_nothing(app, client, login, data):
    reference = refer(app, data.number, data.clinic)
    login(client, "officer")
    url = f"/registrations/{data.number}/referrals/1"
    page = text_of(client.get(url))
    form = read_form(page, index=_outcome_form_index(page))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    cases = [
        ({"on": (date.today() - timedelta(days=1)).isoformat()},
         f"The outcome cannot come before the referral was issued ({date.today()})."),
        ({"on": tomorrow}, "The outcome date cannot be in the future."),
        ({"on": ""}, "Enter the date of the outcome."),
        ({"on": "yesterday"}, "'yesterday' is not a date that exists; enter it as YYYY-MM-DD."),
        ({"status": "placed"}, "Only a referral to a vacancy ends in a placement; a service is attended."),
        ({"status": "issued"}, "Choose the outcome: attended, placed, declined, did not attend or cancelled."),
        ({"status": "no_show"}, f"The person has until {date.today() + timedelta(days=7)} to attend"),
        ({"version": "7"}, "Someone changed this referral since you opened it. Reload it and enter the outcome again."),
        ({"note": "n" * 501}, "Field cannot be longer than 500 characters."),
    ]
    other = app.test_client()
    login(other, "officer.hre")
    before = counts_in(app)
    for changes, message in cases:
        response = client.post(f"{url}/outcome", data=submit(form, **changes))
        assert response.status_code == 302, changes
        shown = flashes(text_of(client.get(url)))
        assert any(message in text for text in shown), (changes, shown)
    assert client.post(f"{url}/outcome", data=submit(form, csrf_token=None)).status_code == 400
    other.post(f"{url}/outcome", data=submit(form, csrf_token=extract_csrf(text_of(other.get(url)))))
    assert any("belongs to BBR" in text for text in flashes(text_of(other.get(url))))
    # Nothing changed but the record of each time the page was seen (an audit event, which travels).
    views = len(cases) + 2
    assert counts_in(app) == {**before, "audit": before["audit"] + views, "outbox": before["outbox"] + views}
    state = referral_in(app, data.number)
    assert (state.status, state.version, state.outcome_on, state.reference) == ("issued", 1, None, reference)


def test_placing_from_the_page_makes_the_registration_departed(app, client, login, data):
    refer(app, data.number, data.vacancy, kind="vacancy")
    login(client, "officer")
    url = f"/registrations/{data.number}/referrals/1"
    page = text_of(client.get(url))
    assert 'value="placed"' in page
    form = read_form(page, index=_outcome_form_index(page))
    client.post(f"{url}/outcome", data=submit(form, status="placed"))
    state = referral_in(app, data.number)
    assert (state.status, state.registration_status) == ("placed", "departed")
    registration_page = text_of(client.get(f"/registrations/{data.number}"))
    assert "Refer to a service or vacancy" not in registration_page


# Printing -----------------------------------------------------------------------------------------------

def test_printing_a_referral_slip_returns_a_pdf_that_verifies(app, client, login, data):
    reference = refer(app, data.number, data.clinic)
    login(client, "officer")
    url = f"/registrations/{data.number}/referrals/1"
    token = extract_csrf(text_of(client.get(url)))
    response = client.post(f"{url}/slip", data={"layout": "a4", "csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=referral-{data.number}-R1-a4.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = response.get_data()
    assert reference in pdf_text(pdf) and "Beitbridge District Hospital" in pdf_text(pdf)
    [[payload]] = scan_pdf(pdf)

    again = client.post(f"{url}/slip", data={"layout": "receipt", "csrf_token": token})
    assert again.headers["Content-Disposition"] == f"attachment; filename=referral-{data.number}-R1-copy1-receipt.pdf"
    page = text_of(client.get(url))
    assert "2 slips printed" in page and "COPY 1" in page and "Original" in page

    public = app.test_client()
    answer = text_of(public.get("/verify", query_string={"code": payload}))
    assert "Genuine" in answer and "Referral slip" in answer and reference in answer
    assert "Medical examination: Beitbridge District Hospital" in answer
    typed = text_of(public.get("/verify", query_string={"number": f"{data.number}/R1",
                                                         "short_code": parse_payload(payload).short_code}))
    assert "Genuine" in typed and reference in typed

    # Voided from the referral page's list of slips.
    form = read_form(page, index=[i for i, a in enumerate(re.findall(r'<form method="post" action="([^"]+)"', page))
                                  if a.endswith("/slip/void")][-1])
    assert form["short_code"] == parse_payload(payload).short_code
    client.post(f"/registrations/{data.number}/slip/void", data=submit(form, reason="lost"))
    assert "Revoked" in text_of(public.get("/verify", query_string={"code": payload}))


def test_printing_refusals_change_nothing(app, client, login, data):
    refer(app, data.number, data.clinic)
    url = f"/registrations/{data.number}/referrals/1"
    before = counts_in(app)
    login(client, "officer")
    token = extract_csrf(text_of(client.get(url)))
    bad = client.post(f"{url}/slip", data={"layout": "letter", "csrf_token": token})
    assert bad.status_code == 302
    assert "Choose a layout (A4 or receipt) to print the slip." in flashes(text_of(client.get(url)))
    assert client.post(f"/registrations/{data.number}/referrals/5/slip",
                       data={"layout": "a4", "csrf_token": token}).status_code == 404
    other = app.test_client()
    login(other, "officer.hre")
    other.post(f"{url}/slip", data={"layout": "a4", "csrf_token": extract_csrf(text_of(other.get(url)))})
    assert any("only that office's officers print its slips" in m for m in flashes(text_of(other.get(url))))
    statistician = app.test_client()
    login(statistician, "statistician")
    token = extract_csrf(statistician.get("/account/password").get_data(as_text=True))
    assert statistician.post(f"{url}/slip", data={"layout": "a4", "csrf_token": token}).status_code == 403
    after = counts_in(app)
    assert (after["print"], after["revocation"]) == (before["print"], before["revocation"])


# Lists --------------------------------------------------------------------------------------------------

def test_the_referrals_list_filters_open_overdue_and_kind(app, client, login, data):
    with app.app_context():
        officer = user("officer")
        start = date.today() - timedelta(days=10)
        late_one = create_registration(actor=officer, surname="Sibanda", today=start)
        late = issue_referral(late_one, db.session.get(Service, uuid.UUID(data.counselling)),
                              start + timedelta(days=2), officer, today=start)
        done_one = create_registration(actor=officer, surname="Dube")
        done = issue_referral(done_one, db.session.get(Service, uuid.UUID(data.clinic)), date.today(), officer)
        db.session.commit()
        record_outcome(done, "declined", date.today(), done.version, officer)
        db.session.commit()
        late_ref, done_ref = late.reference, done.reference
    open_ref = refer(app, data.number, data.vacancy, kind="vacancy")
    login(client, "officer")

    page = text_of(client.get("/referrals/"))
    assert "2 open at BBR" in page and "1 overdue" in page
    assert late_ref in page and open_ref in page and done_ref not in page
    assert page.index(late_ref) < page.index(open_ref)  # oldest due first
    assert "NEMAṰHAṄWE, Ṱhivhulawi" in page
    overdue = text_of(client.get("/referrals/", query_string={"state": "overdue"}))
    assert late_ref in overdue and open_ref not in overdue and "1 referral" in overdue
    assert "overdue</strong>" in overdue
    by_kind = text_of(client.get("/referrals/", query_string={"state": "all", "kind": "vacancy"}))
    assert open_ref in by_kind and late_ref not in by_kind and done_ref not in by_kind
    medical = text_of(client.get("/referrals/", query_string={"state": "all", "kind": "medical"}))
    assert done_ref in medical and open_ref not in medical
    declined = text_of(client.get("/referrals/", query_string={"state": "declined"}))
    assert done_ref in declined and late_ref not in declined
    elsewhere = text_of(client.get("/referrals/", query_string={"state": "all", "office_code": "hre"}))
    assert "No referrals match." in elsewhere
    for bad in ({"state": "lost"}, {"kind": "dentist"}, {"office_code": "TOOLONG"}):
        response = client.get("/referrals/", query_string=bad)
        assert response.status_code == 200 and open_ref not in text_of(response), bad
    assert field_error(text_of(client.get("/referrals/", query_string={"state": "lost"})), "state") == \
        "Not a valid choice."

    statistician = app.test_client()
    login(statistician, "statistician")
    assert statistician.get("/referrals/").status_code == 403


# Services, employers and vacancies ----------------------------------------------------------------------

def test_every_role_sees_services_employers_and_vacancies(app, login, data):
    refer(app, data.number, data.vacancy, kind="vacancy")
    for role in ROLES:
        client = app.test_client()
        login(client, role)
        manages = role in ("supervisor", "admin")
        services = text_of(client.get("/services/"))
        assert "Beitbridge District Hospital" in services and "Harare Passport Office" in services
        assert ("Add service" in services) is manages, role
        # A supervisor edits the services of their own office only; an administrator every one.
        assert (f"/services/{data.clinic}" in services) is manages
        assert (f"/services/{data.harare_service}" in services) is (role == "admin")
        employers = text_of(client.get("/employers/"))
        assert "Mopani Citrus Estates" in employers and ("Add employer" in employers) is manages
        employer = text_of(client.get(f"/employers/{data.employer}"))
        assert "Citrus pickers" in employer and "Closed pickers" in employer
        assert ("Add job order" in employer) is manages
        vacancies = text_of(client.get("/vacancies/"))
        assert "Citrus pickers" in vacancies and "3 of 3" in vacancies and "Closed pickers" not in vacancies
        assert "Closed pickers" in text_of(client.get("/vacancies/", query_string={"state": "all"}))
        vacancy = client.get(f"/vacancies/{data.vacancy}")
        assert vacancy.status_code == 200
        page = text_of(vacancy)
        assert "Citrus pickers" in page and "9211 — Crop farm labourers" in page and "ZAR 4,500 a month" in page
        assert ("Close for referrals" in page) is manages
        if role == "statistician":
            # Counts only: no candidates' names for a role that never sees personal data.
            assert "NEMAṰHAṄWE" not in page and "Candidates" not in page and f"{data.number}/R1" not in page
            assert "3: 0 placed" in page
        else:
            assert "NEMAṰHAṄWE, Ṱhivhulawi" in page and f"{data.number}/R1" in page
            assert "3: 0 placed, 1 referred in all" in page
        assert client.get(f"/vacancies/{uuid.uuid4()}").status_code == 404
        assert client.get(f"/employers/{uuid.uuid4()}").status_code == 404


def test_vacancies_are_filtered_by_country_and_occupation(app, client, login, data):
    with app.app_context():
        employer = make_employer(user("supervisor"), name="Gaborone Builders", country="BW", subdivision="",
                                 phone="", email="")
        make_vacancy(user("supervisor"), employer=employer, title="Bricklayers", occupation_code="7112",
                     country="BW", subdivision="")
        db.session.commit()
    login(client, "statistician")
    botswana = text_of(client.get("/vacancies/", query_string={"country": "BW"}))
    assert "Bricklayers" in botswana and "Citrus pickers" not in botswana
    farm = text_of(client.get("/vacancies/", query_string={"occupation": "92"}))
    assert "Citrus pickers" in farm and "Bricklayers" not in farm


MANAGE_GETS = ("/services/new", "/services/{clinic}", "/employers/new", "/employers/{employer}/edit",
               "/employers/{employer}/vacancies/new", "/vacancies/{vacancy}/edit")


def test_manage_pages_are_for_supervisors_and_administrators(app, login, data):
    urls = [url.format(**vars(data)) for url in MANAGE_GETS]
    for role, status in (("officer", 403), ("statistician", 403), ("supervisor", 200), ("admin", 200)):
        client = app.test_client()
        login(client, role)
        for url in urls:
            assert client.get(url).status_code == status, (role, url)
        token = extract_csrf(client.get("/account/password").get_data(as_text=True))
        response = client.post(f"/vacancies/{data.vacancy}/status", data={"status": "closed", "version": "1",
                                                                          "csrf_token": token})
        assert response.status_code == (403 if status == 403 else 302), role
        if status == 200:  # closed: open it again for the next role
            with app.app_context():
                vacancy = db.session.get(Vacancy, uuid.UUID(data.vacancy))
                if vacancy.status == "closed":
                    set_vacancy_status(vacancy, "open", vacancy.version, user("admin"))
                    db.session.commit()
    # A supervisor does not edit what another office added; an administrator does.
    supervisor = app.test_client()
    login(supervisor, "supervisor")
    assert supervisor.get(f"/services/{data.harare_service}").status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    assert admin.get(f"/services/{data.harare_service}").status_code == 200
    assert admin.get(f"/services/{uuid.uuid4()}").status_code == 404
    assert admin.get("/services/not-a-uuid").status_code == 404


def test_a_supervisor_adds_a_service_through_the_form(app, client, login, data):
    login(client, "supervisor")
    form = read_form(text_of(client.get("/services/new")))
    assert form["country"] == "ZW"
    before = counts_in(app)
    cases = [
        ({"name": ""}, "name", "This field is required."),
        ({"kind": "dentist"}, "kind", "Not a valid choice."),
        ({"country": "XX"}, "country", "Choose a country (ISO 3166-1)."),
        ({"subdivision": "ZA-LP"}, "subdivision", "ZA-LP is not a province or region of ZW."),
        ({"phone": "12"}, "phone", "'12' is not a valid phone number for ZW; include the country code if it is "
                                   "foreign."),
    ]
    good = dict(kind="orientation", name="Pre-departure orientation, Beitbridge", address="Old Customs Building",
                phone="0242 700 100", hours="Tuesdays 09:00", what_to_bring="Registration slip")
    for changes, field, message in cases:
        response = client.post("/services/new", data=submit(form, **{**good, **changes}))
        assert response.status_code == 200, changes
        assert field_error(text_of(response), field) == message, (changes, text_of(response)[-3000:])
    assert counts_in(app) == before
    response = client.post("/services/new", data=submit(form, **good))
    assert response.status_code == 302 and response.headers["Location"].endswith("/services/")
    listing = text_of(client.get("/services/"))
    assert "Service Pre-departure orientation, Beitbridge added" in " ".join(flashes(listing))
    assert "Pre-departure orientation, Beitbridge" in listing and "+263 24 2700100" in listing
    assert counts_in(app)["service"] == before["service"] + 1


def test_a_stale_service_form_is_refused(app, client, login, data):
    login(client, "supervisor")
    form = read_form(text_of(client.get(f"/services/{data.clinic}")))
    assert form["version"] == "1" and form["name"] == "Beitbridge District Hospital"
    first = client.post(f"/services/{data.clinic}", data=submit(form, hours="Mon-Sat 08:00-16:00"))
    assert first.status_code == 302
    stale = client.post(f"/services/{data.clinic}", data=submit(form, hours="Always"))
    assert stale.status_code == 200
    assert any("Someone changed this record since you opened it." in m for m in flashes(text_of(stale)))
    with app.app_context():
        assert db.session.get(Service, uuid.UUID(data.clinic)).hours == "Mon-Sat 08:00-16:00"


def test_employers_and_vacancies_through_the_forms(app, client, login, data):
    login(client, "admin")
    form = read_form(text_of(client.get("/employers/new")))
    before = counts_in(app)
    bad = client.post("/employers/new", data=submit(form, name="Lesotho Textiles", country="LS", email="hr at lt"))
    assert bad.status_code == 200 and "email address" in field_error(text_of(bad), "email")
    assert counts_in(app) == before
    made = client.post("/employers/new", data=submit(form, name="Lesotho Textiles", country="LS", subdivision="LS-A",
                                                     email="hr@lesotho-textiles.example.org"))
    assert made.status_code == 302
    employer_url = made.headers["Location"]
    employer_page = text_of(client.get(employer_url))
    assert "Lesotho Textiles" in employer_page and "No job orders." in employer_page

    new_url = employer_url.rstrip("/") + "/vacancies/new"
    form = read_form(text_of(client.get(new_url)))
    assert form["country"] == "LS" and form["subdivision"] == "LS-A"
    today = date.today()
    good = dict(title="Machinists", occupation_code="8153", places="12", starts_on=today.isoformat(),
                ends_on=(today + timedelta(days=90)).isoformat(), closes_on=(today + timedelta(days=30)).isoformat(),
                wage_amount="3000", wage_currency="LSL", wage_period="month")
    cases = [
        ({"places": "0"}, "places", "Enter how many workers are wanted: a whole number from 1 to 10,000."),
        ({"places": "-2"}, "places", "Enter how many workers are wanted: a whole number from 1 to 10,000."),
        ({"places": "10001"}, "places", "Enter how many workers are wanted: a whole number from 1 to 10,000."),
        ({"places": "many"}, "places", "Not a valid integer value."),
        ({"ends_on": (today - timedelta(days=1)).isoformat(), "closes_on": ""}, "ends_on",
         "The work cannot end before it starts."),
        ({"closes_on": (today + timedelta(days=91)).isoformat()}, "closes_on",
         "Candidates cannot be referred after the work has ended."),
        ({"wage_currency": ""}, "wage_currency", "Choose the wage's currency (ISO 4217, e.g. ZAR)."),
        ({"wage_currency": "XYZ"}, "wage_currency", "Choose the wage's currency (ISO 4217, e.g. ZAR)."),
        ({"wage_period": ""}, "wage_period", "Say what the wage is paid for: an hour, a day, a week or a month."),
        ({"wage_amount": ""}, "wage_amount", "Enter the wage, or leave currency and period empty."),
        ({"occupation_code": "81"}, "occupation_code",
         "Choose the occupation: an ISCO-08 unit group (4 digits, e.g. 9211)."),
        ({"starts_on": ""}, "starts_on", "Enter the day the work starts."),
    ]
    before = counts_in(app)
    for changes, field, message in cases:
        response = client.post(new_url, data=submit(form, **{**good, **changes}))
        assert response.status_code == 200, changes
        assert field_error(text_of(response), field) == message, (changes, field_error(text_of(response), field))
    assert counts_in(app) == before
    made = client.post(new_url, data=submit(form, **good))
    assert made.status_code == 302
    page = text_of(client.get(made.headers["Location"]))
    assert "Machinists" in page and "LSL 3,000 a month" in page and "Not vetted yet" in page
    assert "12: 0 placed" in page


def test_closing_and_reopening_a_vacancy_from_its_page(app, client, login, data):
    login(client, "supervisor")
    url = f"/vacancies/{data.vacancy}"
    page = text_of(client.get(url))
    # What a browser sends when the button is pressed: the form's fields, then the button's name and value.
    response = client.post(f"{url}/status", data=click(read_form(page), "status", "closed"))
    assert response.status_code == 302
    page = text_of(client.get(url))
    assert "The job order is closed: no more referrals." in flashes(page), flashes(page)
    assert "Not taking referrals: it is closed" in page and "Open for referrals again" in page
    response = client.post(f"{url}/status", data=click(read_form(page), "status", "open"))
    page = text_of(client.get(url))
    assert "The job order is published: it takes referrals." in flashes(page)
    with app.app_context():
        vacancy = db.session.get(Vacancy, uuid.UUID(data.vacancy))
        assert (vacancy.status, vacancy.version) == ("open", 3)
    # A page opened before those changes: refused, nothing changed.
    stale = client.post(f"{url}/status", data={**read_form(page), "status": "closed", "version": "1"})
    assert stale.status_code == 302
    assert any("Someone changed this record" in m for m in flashes(text_of(client.get(url))))
    with app.app_context():
        assert db.session.get(Vacancy, uuid.UUID(data.vacancy)).status == "open"


def test_editing_an_employer_and_a_vacancy_through_their_forms(app, client, login, data):
    with app.app_context():
        officer = user("officer")
        vacancy = db.session.get(Vacancy, uuid.UUID(data.vacancy))
        for _ in range(2):
            referral = issue_referral(create_registration(actor=officer), vacancy, date.today(), officer)
            record_outcome(referral, "placed", date.today(), referral.version, officer)
        db.session.commit()
    login(client, "supervisor")
    url = f"/vacancies/{data.vacancy}/edit"
    form = read_form(text_of(client.get(url)))
    assert (form["title"], form["places"], form["wage_currency"], form["version"]) == (
        "Citrus pickers", "3", "ZAR", "1")
    before = counts_in(app)
    refused = client.post(url, data=submit(form, places="1"))
    assert refused.status_code == 200
    assert field_error(text_of(refused), "places") == \
        "2 people are already placed in this vacancy: it cannot have fewer places."
    assert counts_in(app) == before
    saved = client.post(url, data=submit(form, places="2", title="Citrus pickers (late season)"))
    assert saved.status_code == 302
    page = text_of(client.get(f"/vacancies/{data.vacancy}"))
    assert "Citrus pickers (late season)" in page and "2: 2 placed" in page
    assert "Not taking referrals: all its 2 places are filled" in page

    url = f"/employers/{data.employer}/edit"
    form = read_form(text_of(client.get(url)))
    assert (form["name"], form["country"], form["subdivision"]) == ("Mopani Citrus Estates", "ZA", "ZA-LP")
    refused = client.post(url, data=submit(form, phone="555"))
    assert field_error(text_of(refused), "phone") == \
        "'555' is not a valid phone number for ZA; include the country code if it is foreign."
    saved = client.post(url, data=submit(form, contact_name="Piet Botha"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/employers/{data.employer}")
    assert "Piet Botha" in text_of(client.get(f"/employers/{data.employer}"))
