"""Complaints: taken at any office against an employer, an agency or both, optionally about a registration
(its placement linked); tracked to closure with every change dated, signed and noted; bad input refused with
nothing half-saved; suspected trafficking flagged with the trafficking-support services; counted in the
employer's and agency's record."""
from datetime import date, timedelta

import pytest

from registry.core.errors import Forbidden, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.recruitment.complaints import (
    ComplaintData, change_complaint_status, changes_of, complaint_counts, file_complaint, list_complaints,
)
from registry.referrals.targets import create_service
from tests.conftest import extract_csrf, user
from tests.recruitment.helpers import counts, counts_in, make_agency, make_order, placed_worker
from tests.referrals.helpers import as_node, audit_actions, outbox_rows, service_data

TODAY = date.today()


def refused(error, call, message):
    with pytest.raises(error) as caught:
        call()
    assert any(message in text for text in caught.value.messages), (message, caught.value.messages)


def _placed(supervisor, officer):
    agency = make_agency(supervisor)
    order = make_order(supervisor, agency_id=agency.id, starts_on=TODAY - timedelta(days=60),
                       closes_on=TODAY - timedelta(days=55))
    return placed_worker(officer, order, left_on=TODAY - timedelta(days=50)), order, agency


def test_a_complaint_is_tracked_to_closure_and_counts_in_the_records(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    referral, order, agency = _placed(supervisor, officer)
    db.session.commit()
    outbox = len(outbox_rows())
    complaint = file_complaint(ComplaintData(
        received_on=TODAY - timedelta(days=5), kind="unpaid_wages", complainant="family",
        complainant_name="Rudo Moyo", complainant_phone="0772 000 111", employer_id=str(order.employer_id),
        agency_id=str(agency.id), registration_number=referral.registration_number,
        description="  No wages   since March. "), officer)
    db.session.commit()
    assert (complaint.status, complaint.status_changed_on, complaint.office_code) == (
        "received", TODAY - timedelta(days=5), "BBR")
    assert (complaint.referral_id, complaint.registration_id) == (referral.id, referral.registration_id)
    assert (complaint.description, complaint.complainant_phone) == ("No wages since March.", "+263772000111")
    change_complaint_status(complaint, "investigating", TODAY - timedelta(days=3), "Called the employer",
                            complaint.version, officer)
    change_complaint_status(complaint, "resolved", TODAY, "Wages paid in full", complaint.version,
                            user("supervisor"))
    db.session.commit()
    assert [(c.status, c.changed_on, c.changed_by, c.note) for c in changes_of(complaint)] == [
        ("received", TODAY - timedelta(days=5), "officer", "Complaint received."),
        ("investigating", TODAY - timedelta(days=3), "officer", "Called the employer"),
        ("resolved", TODAY, "supervisor", "Wages paid in full")]
    sent = outbox_rows(outbox)
    assert sent.count(("complaint_change", "insert")) == 3 and ("complaint", "insert") in sent
    assert set(sent) == {("complaint", "insert"), ("complaint", "update"), ("complaint_change", "insert")}
    assert audit_actions().count("complaint.status_changed") == 2 and "complaint.received" in audit_actions()
    # Closed: no further change.
    refused(ValidationFailed, lambda: change_complaint_status(complaint, "closed", TODAY, "x", complaint.version,
                                                              officer), "This complaint is resolved: it can become "
                                                                        "nothing else.")
    db.session.rollback()
    file_complaint(ComplaintData(received_on=TODAY, kind="trafficking", complainant="worker", agency_id=agency.id,
                                 description="Passport taken"), officer)
    db.session.commit()
    by_employer, by_agency = complaint_counts(employer=order.employer), complaint_counts(agency=agency)
    assert (by_employer.total, by_employer.open, by_employer.count("unpaid_wages", "resolved")) == (1, 0, 1)
    assert (by_agency.total, by_agency.open, by_agency.count("trafficking", "received")) == (2, 1, 1)
    assert [c.kind for c in list_complaints("open")] == ["trafficking"]
    assert [c.kind for c in list_complaints("all")] == ["trafficking", "unpaid_wages"]  # trafficking first


def test_bad_complaints_and_changes_are_refused_and_nothing_is_half_saved(app, ctx):
    supervisor, officer = user("supervisor"), user("officer")
    referral, order, agency = _placed(supervisor, officer)
    complaint = file_complaint(ComplaintData(received_on=TODAY - timedelta(days=2), kind="abuse",
                                             employer_id=order.employer_id, description="Beaten"), officer)
    db.session.commit()
    before = counts()
    good = dict(received_on=TODAY, kind="other", complainant="worker", employer_id=str(order.employer_id),
                description="Contract changed at the farm")
    cases = [
        (dict(employer_id="", agency_id=""), "Say whom the complaint is against: an employer, an agency or both."),
        (dict(employer_id="0190d3f0-0000-7000-8000-00000000abcd"), "There is no such employer: choose one from the "
                                                                   "list."),
        (dict(agency_id="not-an-id"), "There is no such recruitment agency: choose one from the list."),
        (dict(kind="rude"), "Choose what the complaint is about: unpaid wages, contract substitution,"),
        (dict(complainant="neighbour"), "Say who complains: the worker, a family member or someone else."),
        (dict(received_on=TODAY + timedelta(days=1)), "The day a complaint was received cannot be in the future."),
        (dict(description="   "), "Describe the problem: what happened, where and when."),
        (dict(registration_number="BBR-2026-000001-X"), "does not check out: one of its characters is probably "
                                                        "mistyped"),
    ]
    for overrides, message in cases:
        refused(ValidationFailed, lambda: file_complaint(ComplaintData(**{**good, **overrides}), officer), message)
        db.session.rollback()
    with pytest.raises(ValidationFailed) as bad_phone:
        file_complaint(ComplaintData(**{**good, "complainant_phone": "12"}), officer)
    assert list(bad_phone.value.errors) == ["complainant_phone"]
    db.session.rollback()
    version = complaint.version
    changes = [
        (ValidationFailed, lambda: change_complaint_status(complaint, "resolved", TODAY - timedelta(days=3), "Paid",
                                                           version, officer),
         f"The complaint was received on {TODAY - timedelta(days=2)}: a later change cannot come before that."),
        (ValidationFailed, lambda: change_complaint_status(complaint, "resolved", TODAY + timedelta(days=1), "Paid",
                                                           version, officer),
         "The day of a change cannot be in the future."),
        (ValidationFailed, lambda: change_complaint_status(complaint, "resolved", TODAY, "  ", version, officer),
         "Say what was done (a note is kept with every change)."),
        (ValidationFailed, lambda: change_complaint_status(complaint, "received", TODAY, "x", version, officer),
         "Choose the complaint's new state."),
        (StaleVersion, lambda: change_complaint_status(complaint, "resolved", TODAY, "x", version - 1, officer),
         "Someone changed this complaint since you opened it."),
        (Forbidden, lambda: change_complaint_status(complaint, "resolved", TODAY, "x", version, user("officer.hre")),
         "This complaint was taken at BBR: that office's officers (or an administrator) follow it up."),
        (Forbidden, lambda: file_complaint(ComplaintData(**good), user("statistician")),
         "Only labour officers, supervisors and administrators take complaints."),
    ]
    for error, call, message in changes:
        refused(error, call, message)
        db.session.rollback()
    assert counts() == before
    assert complaint.status == "received"
    # Harare takes a complaint about the same employer; it is Harare's to follow up.
    with as_node(app, "HRE"):
        other = file_complaint(ComplaintData(**good), user("officer.hre"))
    db.session.commit()
    assert other.office_code == "HRE"


def test_complaint_pages_flag_trafficking_and_offer_the_support_service(app, client, login):
    with app.app_context():
        supervisor, officer = user("supervisor"), user("officer")
        referral, order, agency = _placed(supervisor, officer)
        create_service(service_data(kind="trafficking", name="Anti-trafficking helpdesk",
                                    phone="0242 700 999"), supervisor)
        db.session.commit()
        employer_id, agency_id, number = order.employer_id, agency.id, referral.registration_number
    login(client, "officer")
    form = client.get(f"/complaints/new?registration={number}&agency={agency_id}").get_data(as_text=True)
    token = extract_csrf(form)
    before = counts_in(app)
    response = client.post("/complaints/new", data={
        "csrf_token": token, "received_on": TODAY.isoformat(), "kind": "trafficking", "complainant": "family",
        "employer_id": "", "agency_id": "", "registration_number": number, "description": "Locked in"})
    assert response.status_code == 200
    assert "Say whom the complaint is against" in response.get_data(as_text=True)
    assert counts_in(app) == before
    response = client.post("/complaints/new", data={
        "csrf_token": token, "received_on": TODAY.isoformat(), "kind": "trafficking", "complainant": "family",
        "employer_id": str(employer_id), "agency_id": str(agency_id), "registration_number": number,
        "description": "Locked in a compound, passport taken"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"' in page and "Suspected trafficking" in page and "Anti-trafficking helpdesk" in page
    assert f"/registrations/{number}/refer?target=service" in page
    status_token = extract_csrf(page)
    location = response.headers["Location"]
    response = client.post(location + "/status", data={"csrf_token": status_token, "status": "referred",
                                                       "on": TODAY.isoformat(), "note": "", "version": "1"})
    assert response.status_code == 200 and "a note is kept with every change" in response.get_data(as_text=True)
    response = client.post(location + "/status", data={"csrf_token": status_token, "status": "referred",
                                                       "on": TODAY.isoformat(), "note": "Police and IOM told",
                                                       "version": "1"})
    assert response.status_code == 302
    assert "Police and IOM told" in client.get(location).get_data(as_text=True)
    listing = client.get("/complaints/").get_data(as_text=True)
    assert "<strong>Suspected trafficking</strong>" in listing
    # The employer's and agency's pages count it, for every role (counts only).
    client = app.test_client()
    login(client, "statistician")
    for url in (f"/employers/{employer_id}", f"/agencies/{agency_id}"):
        page = client.get(url).get_data(as_text=True)
        assert "1 complaint, 1 open" in page and "Suspected trafficking" in page
        assert "Locked in" not in page and number not in page
    assert client.get("/complaints/").status_code == 403
