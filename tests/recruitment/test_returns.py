"""Returns: a placed worker recorded back at any post ends their registration as returned (the statistics'
registered returning migrant workers), with reason, wages owed and reintegration referrals; bad input is
refused with nothing half-saved; the overdue list shows placed workers past their contract's end until their
return is recorded."""
from datetime import date, timedelta

import pytest

from registry.core.errors import DomainError, Forbidden, ValidationFailed
from registry.extensions import db
from registry.recruitment.models import WorkerReturn
from registry.recruitment.returns import (
    ReturnData, expected_return_on, overdue_returns, record_return, return_id,
)
from registry.referrals.services import issue_referral
from registry.referrals.targets import create_service
from tests.conftest import extract_csrf, user
from tests.recruitment.helpers import counts, counts_in, make_order, placed_worker
from tests.referrals.helpers import as_node, audit_actions, outbox_rows, service_data

TODAY = date.today()


def refused(error, call, message):
    with pytest.raises(error) as caught:
        call()
    assert any(message in text for text in caught.value.messages), (message, caught.value.messages)


def _ended_order(supervisor, **overrides):
    """A job order that ran from 100 days ago to 10 days ago."""
    values = dict(starts_on=TODAY - timedelta(days=100), ends_on=TODAY - timedelta(days=10),
                  closes_on=TODAY - timedelta(days=95), places=5)
    values.update(overrides)
    return make_order(supervisor, **values)


def test_a_return_at_another_post_ends_the_registration_with_reason_wages_and_referrals(app, ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = _ended_order(supervisor)
    referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98))
    reintegration = create_service(service_data(kind="reintegration", name="Returnee support desk"), supervisor)
    db.session.commit()
    registration = referral.registration
    assert registration.status == "departed"
    assert [row.referral.reference for row in overdue_returns()] == [referral.reference]
    before_outbox = len(outbox_rows())
    # Harare's officer records it: the worker comes home through whichever post is on the way.
    with as_node(app, "HRE"):
        row, referrals = record_return(registration, ReturnData(
            returned_on=TODAY - timedelta(days=2), reason="contract_ended", wages_owed_amount=3200,
            wages_owed_currency="zar", note="  Two months   unpaid ", service_ids=[reintegration.id]),
            user("officer.hre"))
    db.session.commit()
    assert (registration.status, registration.status_changed_on) == ("returned", TODAY - timedelta(days=2))
    assert (row.id, row.referral_id, row.person_id) == (return_id(registration), referral.id, registration.person_id)
    assert (row.wages_owed_amount, row.wages_owed_currency, row.note) == (3200, "ZAR", "Two months unpaid")
    assert (row.office_code, row.recorded_by) == ("HRE", "officer.hre")
    assert [(r.kind, r.service_id, r.office_code, r.status) for r in referrals] == [
        ("reintegration", reintegration.id, "BBR", "issued")]
    assert overdue_returns() == []
    assert {"return.recorded", "registration.status_changed", "referral.issued"} <= set(audit_actions())
    assert sorted(outbox_rows(before_outbox)) == sorted([
        ("worker_return", "insert"), ("registration", "update"), ("referral", "insert")])
    # Recorded once: a second return of the same registration is refused.
    refused(DomainError, lambda: record_return(registration, ReturnData(returned_on=TODAY, reason="other"), officer),
            f"{registration.registration_number} is already returned (on {TODAY - timedelta(days=2)} at HRE by "
            "officer.hre).")


def test_bad_returns_are_refused_and_nothing_is_half_saved(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = _ended_order(supervisor)
    referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98))
    closed = create_service(service_data(kind="reintegration", name="Closed desk", active=False), supervisor)
    medical = create_service(service_data(kind="orientation", name="Orientation course"), supervisor)
    db.session.commit()
    registration = referral.registration
    before = counts()
    good = dict(returned_on=TODAY, reason="dismissed")
    cases = [
        (dict(returned_on=TODAY - timedelta(days=99)),
         f"The worker left on {TODAY - timedelta(days=98)}: they cannot have come back before."),
        (dict(returned_on=TODAY + timedelta(days=1)), "The day of return cannot be in the future."),
        (dict(returned_on=None), "Enter the day the worker came back, as YYYY-MM-DD."),
        (dict(reason="bored"), "Choose why the worker came back: contract ended, dismissed,"),
        (dict(wages_owed_amount=-5, wages_owed_currency="ZAR"),
         "Wages owed cannot be negative: enter what the employer still owes."),
        (dict(wages_owed_amount=500, wages_owed_currency="XYZ"),
         "Choose the currency of the wages owed (ISO 4217, e.g. ZAR)."),
        (dict(wages_owed_currency="ZAR"), "Enter the amount owed, or leave the currency empty."),
        (dict(note="n" * 501), "Keep this under 500 characters."),
        (dict(service_ids=[closed.id]), "Choose reintegration services from the list."),
        (dict(service_ids=[medical.id]), "Choose reintegration services from the list."),
    ]
    for overrides, message in cases:
        refused(ValidationFailed, lambda: record_return(registration, ReturnData(**{**good, **overrides}), officer),
                message)
        db.session.rollback()
    refused(Forbidden, lambda: record_return(registration, ReturnData(**good), user("statistician")),
            "Only labour officers, supervisors and administrators record returns.")
    db.session.rollback()
    assert counts() == before
    assert registration.status == "departed"
    assert db.session.get(WorkerReturn, return_id(registration)) is None


def test_only_a_departed_registration_ends_in_a_return(ctx):
    from tests.recruitment.helpers import candidate

    officer = user("officer")
    registration = candidate(officer)
    db.session.commit()
    before = counts()
    refused(DomainError, lambda: record_return(registration, ReturnData(returned_on=TODAY, reason="other"), officer),
            f"{registration.registration_number} is registered: only a registration whose person departed to work "
            "abroad ends in a return.")
    db.session.rollback()
    assert counts() == before


def test_a_referral_to_reintegration_that_fails_leaves_no_return_behind(ctx):
    """The referrals are made last: when one is refused, the return and the status change go too."""
    supervisor, officer = user("supervisor"), user("officer")
    order = _ended_order(supervisor)
    referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98))
    desk = create_service(service_data(kind="reintegration", name="Returnee support desk"), supervisor)
    db.session.commit()
    before = counts()
    # The same service twice: the second referral is refused as already open.
    refused(ValidationFailed, lambda: record_return(referral.registration, ReturnData(
        returned_on=TODAY, reason="illness", service_ids=[desk.id, desk.id]), officer), "already has an open referral")
    db.session.rollback()
    assert counts() == before
    assert referral.registration.status == "departed"


def test_expected_return_comes_from_the_end_date_or_the_duration(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    by_end = _ended_order(supervisor)
    by_duration = make_order(supervisor, title="Packers", starts_on=TODAY - timedelta(days=200), ends_on=None,
                             closes_on=TODAY - timedelta(days=190), duration_months=3)
    still_working = make_order(supervisor, title="Pruners", starts_on=TODAY - timedelta(days=30),
                               ends_on=TODAY + timedelta(days=30), closes_on=TODAY - timedelta(days=25))
    late = placed_worker(officer, by_end, left_on=TODAY - timedelta(days=98))
    later = placed_worker(officer, by_duration, left_on=TODAY - timedelta(days=199))
    placed_worker(officer, still_working, left_on=TODAY - timedelta(days=28))
    db.session.commit()
    # Three calendar months on; the last day of a shorter month when the day does not exist there.
    assert expected_return_on(by_duration, date(2026, 1, 31)) == date(2026, 4, 30)
    assert expected_return_on(by_duration, date(2026, 11, 15)) == date(2027, 2, 15)
    rows = overdue_returns()
    assert [row.referral.reference for row in rows] == [later.reference, late.reference]  # most overdue first
    assert rows[1].days_overdue == 10 and rows[1].expected_on == TODAY - timedelta(days=10)
    assert 199 - 92 <= rows[0].days_overdue <= 199 - 89
    assert rows[0].left_on == TODAY - timedelta(days=199)


def test_the_overdue_page_and_the_return_form(app, client, login):
    with app.app_context():
        supervisor, officer = user("supervisor"), user("officer")
        order = _ended_order(supervisor)
        referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98), surname="Ncube",
                                 given_names="Sipho")
        create_service(service_data(kind="reintegration", name="Returnee support desk"), supervisor)
        db.session.commit()
        number = referral.registration_number
    login(client, "officer.hre")  # any office's officers see the overdue list and record returns
    page = client.get("/returns/overdue").get_data(as_text=True)
    assert number in page and "NCUBE, Sipho" in page and "Mopani Citrus Estates" in page
    assert "<strong>10</strong>" in page and f"/registrations/{number}/return" in page
    form = client.get(f"/registrations/{number}/return").get_data(as_text=True)
    assert "Returnee support desk" in form and "expected back " + (TODAY - timedelta(days=10)).isoformat() in form
    token = extract_csrf(form)
    before = counts_in(app)
    response = client.post(f"/registrations/{number}/return", data={
        "csrf_token": token, "returned_on": TODAY.isoformat(), "reason": "abuse", "wages_owed_amount": "-1",
        "wages_owed_currency": "ZAR", "note": ""})
    assert response.status_code == 200
    assert "Wages owed cannot be negative" in response.get_data(as_text=True)
    assert counts_in(app) == before
    response = client.post(f"/registrations/{number}/return", data={
        "csrf_token": token, "returned_on": TODAY.isoformat(), "reason": "abuse", "wages_owed_amount": "1200",
        "wages_owed_currency": "ZAR", "note": "Beaten by the supervisor"})
    assert response.status_code == 302
    shown = client.get(f"/registrations/{number}").get_data(as_text=True)
    assert "Abuse" in shown and "ZAR 1,200" in shown and "Beaten by the supervisor" in shown
    assert number not in client.get("/returns/overdue").get_data(as_text=True)
    assert number in client.get("/returns/").get_data(as_text=True)


def test_a_returning_worker_is_found_by_who_they_are(app, client, login):
    with app.app_context():
        supervisor, officer = user("supervisor"), user("officer")
        order = _ended_order(supervisor)
        referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98), surname="Dube",
                                 given_names="Nomsa", date_of_birth=date(1990, 6, 1))
        db.session.commit()
        number = referral.registration_number
    login(client, "officer")
    # Names typed with a slip, as they are at a busy counter: identity matching still ranks the person first.
    page = client.get("/returns/find", query_string={"surname": "Dubbe", "given_names": "Nomsa",
                                                     "date_of_birth": "1990-06-01"}).get_data(as_text=True)
    assert "DUBE, Nomsa" in page and f"/registrations/{number}/return" in page
    response = client.get("/returns/find", query_string={"number": number})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/registrations/{number}/return")
    page = client.get("/returns/find", query_string={"number": "BBR-2026-000001-X"}).get_data(as_text=True)
    assert 'class="error"' in page


def test_a_returned_worker_is_referred_to_services_not_to_work_and_a_departed_one_to_trafficking_support(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = _ended_order(supervisor)
    referral = placed_worker(officer, order, left_on=TODAY - timedelta(days=98))
    helpdesk = create_service(service_data(kind="trafficking", name="Anti-trafficking helpdesk"), supervisor)
    clinic = create_service(service_data(kind="medical", name="Clinic"), supervisor)
    other_order = make_order(supervisor, title="Packers")
    db.session.commit()
    registration = referral.registration
    # Still abroad: only trafficking support acts for them.
    refused(DomainError, lambda: issue_referral(registration, clinic, TODAY, officer),
            "only a registered or referred registration can be referred")
    db.session.rollback()
    assert issue_referral(registration, helpdesk, TODAY, officer).kind == "trafficking"
    record_return(registration, ReturnData(returned_on=TODAY, reason="illness"), officer)
    db.session.commit()
    assert issue_referral(registration, clinic, TODAY, officer).kind == "medical"
    refused(DomainError, lambda: issue_referral(registration, other_order, TODAY, officer),
            "only a registered or referred registration can be referred")
