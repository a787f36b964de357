"""The web side: print buttons on the registration page, the batch page, voiding, the public /verify page,
and the office's slip language and helplines in the office form."""
import html
import re

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.offices.models import Office
from registry.registration.numbering import RegistrationNumber
from registry.slips.payload import parse_payload
from tests.conftest import extract_csrf
from tests.slips.conftest import DAY, register_at_bbr
from tests.slips.helpers import counts, pdf_pages, pdf_text, scan_pdf


def counts_in(app):
    with app.app_context():
        return counts()


def audit_of(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def page_of(client, number):
    response = client.get(f"/registrations/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flashes(page):
    return [html.unescape(text) for text in re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)]


def print_from_page(client, number, layout="a4"):
    token = extract_csrf(page_of(client, number))
    return client.post(f"/registrations/{number}/slip", data={"layout": layout, "csrf_token": token})


def test_an_officer_prints_and_reprints_from_the_registration_page(app, client, login, registered):
    login(client, "officer")
    number = registered
    page = page_of(client, number)
    assert "Print slip (A4)" in page and "Print slip (receipt)" in page

    response = print_from_page(client, number)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=slip-{number}-a4.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = response.get_data()
    [[payload]] = scan_pdf(pdf)
    assert parse_payload(payload).copy_number == 0
    assert "NEMAṰHAṄWE, Ṱhivhulawi" in pdf_text(pdf)

    again = print_from_page(client, number, "receipt")
    assert again.headers["Content-Disposition"] == f"attachment; filename=slip-{number}-copy1-receipt.pdf"
    assert "COPY 1 / KOPI 1" in pdf_text(again.get_data())
    page = page_of(client, number)
    assert "2 slips printed" in page and "COPY 1" in page and "Original" in page
    assert page.count(">Void</button>") == 2
    printed, reprinted = audit_of(app, "slip.printed"), audit_of(app, "slip.reprinted")
    assert [(e.actor, e.details["number"], e.details["copy"]) for e in printed + reprinted] == [
        ("officer", number, 0), ("officer", number, 1)]


def test_printing_is_refused_to_other_offices_and_statisticians_and_changes_nothing(app, login, registered):
    number = registered
    before = counts_in(app)
    statistician = app.test_client()
    login(statistician, "statistician")
    token = extract_csrf(statistician.get("/account/password").get_data(as_text=True))
    assert statistician.post(f"/registrations/{number}/slip", data={"layout": "a4", "csrf_token": token}).status_code == 403

    other = app.test_client()
    login(other, "officer.hre")
    response = print_from_page(other, number)
    assert response.status_code == 302
    assert any("only that office's officers print its slips" in m for m in flashes(page_of(other, number)))
    assert "Print slip (A4)" not in page_of(other, number)

    officer = app.test_client()
    login(officer, "officer")
    token = extract_csrf(page_of(officer, number))
    bad = officer.post(f"/registrations/{number}/slip", data={"layout": "letter", "csrf_token": token})
    assert bad.status_code == 302
    assert "Choose a layout (A4 or receipt) to print the slip." in flashes(page_of(officer, number))
    assert officer.post(f"/registrations/{RegistrationNumber('BBR', 2026, 999999)}/slip",
                        data={"layout": "a4", "csrf_token": token}).status_code == 404
    after = counts_in(app)
    assert (after["print"], after["key"], after["revocation"]) == (before["print"], before["key"], before["revocation"])


def test_voiding_from_the_page_makes_verify_answer_revoked(client, login, registered):
    login(client, "officer")
    number = registered
    [[payload]] = scan_pdf(print_from_page(client, number).get_data())
    code = parse_payload(payload).short_code
    token = extract_csrf(page_of(client, number))
    refused = client.post(f"/registrations/{number}/slip/void", data={"short_code": code, "reason": "",
                                                                       "csrf_token": token})
    assert refused.status_code == 302
    assert "Say why the slip is void." in flashes(page_of(client, number))
    client.post(f"/registrations/{number}/slip/void", data={"short_code": code, "reason": "lost",
                                                            "csrf_token": token})
    assert f'Slip {code} is void: it now answers "revoked" at /verify.' in flashes(page_of(client, number))
    answer = client.get("/verify", query_string={"code": payload}).get_data(as_text=True)
    assert "Revoked" in answer and "voided on" in answer and "(lost)" in answer


def test_the_batch_page_prints_a_days_slips_in_one_pdf(app, client, login, registered):
    with app.app_context():
        register_at_bbr(surname="Muñoz", given_names="João")
    login(client, "officer")
    page = client.get("/slips/batch").get_data(as_text=True)
    assert 'value="BBR"' in page
    token = extract_csrf(page)
    response = client.post("/slips/batch", data={"office_code": "BBR", "on": DAY.isoformat(), "layout": "a4",
                                                 "csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=slips-BBR-{DAY.isoformat()}-2-a4.pdf"
    pdf = response.get_data()
    assert len(pdf_pages(pdf)) == 2 and all(len(codes) == 1 for codes in scan_pdf(pdf))

    before = counts_in(app)
    unknown = str(RegistrationNumber("BBR", 2026, 999999))
    refused = client.post("/slips/batch", data={"numbers": f"{registered}\n{unknown}",
                                                "layout": "a4", "csrf_token": token})
    assert refused.status_code == 200 and refused.mimetype == "text/html"
    assert f"No registration {unknown}" in html.unescape(refused.get_data(as_text=True))
    assert counts_in(app) == before


def test_anyone_checks_a_slip_on_verify_and_sees_no_more_than_the_slip(app, client, login, registered):
    login(client, "officer")
    number = registered
    [[payload]] = scan_pdf(print_from_page(client, number).get_data())
    code = parse_payload(payload).short_code
    public = app.test_client()

    empty = public.get("/verify")
    assert empty.status_code == 200 and "Check a registration slip" in empty.get_data(as_text=True)
    before = counts_in(app)
    genuine = public.get("/verify", query_string={"code": payload}).get_data(as_text=True)
    assert "Genuine" in genuine and "NEMAṰHAṄWE, Ṱhivhulawi" in genuine and "1995-03-14" in genuine
    assert "63-" not in genuine  # the national ID is not on the slip, so not on this page either
    typed = public.get("/verify", query_string={"number": number.lower(), "short_code": code.lower()})
    assert "Genuine" in typed.get_data(as_text=True)
    assert counts_in(app)["audit"] == before["audit"] + 2
    assert [(e.actor, e.details["method"]) for e in audit_of(app, "slip.verified")] == [("public", "qr"),
                                                                                       ("public", "typed")]

    wrong = public.get("/verify", query_string={"number": number, "short_code": "ZZZZ-ZZZZ"}).get_data(as_text=True)
    assert "Unknown" in wrong and "NEMAṰHAṄWE" not in wrong and "1995-03-14" not in wrong
    altered = public.get("/verify", query_string={"code": payload[:20] + ("A" if payload[20] != "A" else "B")
                                                  + payload[21:]}).get_data(as_text=True)
    assert ("Altered or forged" in altered or "Unknown" in altered) and "NEMAṰHAṄWE" not in altered

    before = counts_in(app)
    for query, message in (({"code": payload[:-9]}, "The slip code is incomplete"),
                           ({"code": "hello"}, "That is not a registration slip code"),
                           ({"number": "BBR-2026-1", "short_code": code}, "is not a registration number"),
                           ({"number": number, "short_code": "ABC"}, "A short code is 8 letters and digits")):
        answer = html.unescape(public.get("/verify", query_string=query).get_data(as_text=True))
        assert message in answer and "Genuine" not in answer, query
    assert counts_in(app) == before


def test_the_office_form_sets_the_slip_language_and_helplines(app, client, login):
    login(client, "admin")
    page = client.get("/admin/offices/BBR").get_data(as_text=True)
    assert "Second language on registration slips" in page and "Helplines on registration slips" in page
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "BBR"))
        form = {"code": "BBR", "name": office.name, "kind": office.kind, "country": "ZW", "subdivision": "ZW-MS",
                "default_destination": "ZA", "active": "y", "version": str(office.version),
                "csrf_token": extract_csrf(page)}
    refused = client.post("/admin/offices/BBR", data={**form, "slip_language": "xx"})
    assert refused.status_code == 200
    assert "Slips can be printed in sn, nd, st, pt; not &#39;xx&#39;." in refused.get_data(as_text=True)
    saved = client.post("/admin/offices/BBR", data={**form, "slip_language": "nd",
                                                    "helpline": "  Helpline  0800 1\n\n IOM +263 1  "})
    assert saved.status_code == 302
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "BBR"))
        assert (office.slip_language, office.helpline) == ("nd", "Helpline 0800 1\nIOM +263 1")
