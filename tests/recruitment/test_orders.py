"""Job orders: recruitment terms, the fair-recruitment rule (a job order charging the worker a fee is never
published), the contract-vetting checklist, employers' sector and verification, and no referral of a child
to work abroad."""
from datetime import date, timedelta

import pytest

from registry.core.errors import Forbidden, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.recruitment.orders import (
    CHECKLIST, add_months, duration_text, expected_end, publish_blockers, record_vetting, vetting_state,
)
from registry.referrals.services import issue_referral
from registry.referrals.targets import (
    create_vacancy, list_vacancies, set_vacancy_status, update_employer, update_vacancy, vacancy_closed_reason,
)
from tests.conftest import user
from tests.recruitment.helpers import candidate, counts, make_order
from tests.referrals.helpers import audit_actions, employer_data, make_employer, vacancy_data
from tests.support.factories import create_registration

TODAY = date.today()
FEE_BLOCKER = ("it charges the worker a recruitment fee (ZAR 1,500), and workers pay no recruitment fee "
               "(ILO fair recruitment)")


def all_passed(**failed):
    return {**dict.fromkeys(CHECKLIST, True), **failed}


def test_a_job_order_keeps_its_recruitment_terms(ctx):
    order = make_order(user("supervisor"), season="Citrus harvest 2026", ends_on=None, closes_on=None,
                       duration_months=5, skills_required="Pruning;  tractor driving\nfruit picking",
                       certificates_required="First aid", housing_provided=True, transport_provided=True,
                       provisions_note="  Hostel   on the farm ", worker_fee_amount=0, worker_fee_currency="ZAR")
    db.session.commit()
    assert (order.season, order.duration_months, order.skills_required, order.certificates_required) == (
        "Citrus harvest 2026", 5, "Pruning, tractor driving, fruit picking", "First aid")
    assert (order.housing_provided, order.transport_provided, order.provisions_note) == (
        True, True, "Hostel on the farm")
    # A fee of 0 is no fee.
    assert (order.worker_fee_amount, order.worker_fee_currency, order.status) == (None, None, "open")
    assert expected_end(order) == add_months(TODAY, 5)
    assert duration_text(order).startswith("5 months (to about ")
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_a_job_order_charging_the_worker_a_fee_stays_a_draft_and_cannot_be_published(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, worker_fee_amount=1500, worker_fee_currency="zar")
    registration = create_registration(actor=officer)
    db.session.commit()
    assert (order.status, publish_blockers(order)) == ("draft", [FEE_BLOCKER])
    assert vacancy_closed_reason(order, TODAY) == "it is a draft, not yet published"
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        set_vacancy_status(order, "open", order.version, supervisor)
    assert refused.value.errors == {"status": [f"Citrus pickers cannot be published: {FEE_BLOCKER}."]}
    with pytest.raises(ValidationFailed) as refused:
        issue_referral(registration, order, TODAY + timedelta(days=7), officer)
    assert "it is a draft, not yet published" in refused.value.errors["target"][0]
    with pytest.raises(ValidationFailed) as refused:  # the contract cannot pass "no fees" while one is charged
        record_vetting(order, all_passed(), order.version, officer)
    assert list(refused.value.errors) == ["no_fees"]
    db.session.commit()
    assert counts() == before and order.status == "draft" and list_vacancies(open_only=True) == []
    audit = len(audit_actions())

    # Without the fee and with a contract meeting every point, it is published.
    update_vacancy(order, vacancy_data(), order.version, supervisor)
    record_vetting(order, all_passed(), order.version, officer)
    set_vacancy_status(order, "open", order.version, supervisor)
    db.session.commit()
    assert (order.status, order.contract_vetted, order.vetted_by, vetting_state(order)) == (
        "open", True, "officer", "passed")
    assert audit_actions(audit) == ["vacancy.status_changed", "vacancy.updated", "vacancy.vetted"]
    # Adding a fee to an open job order takes it back to draft: no new referrals.
    update_vacancy(order, vacancy_data(worker_fee_amount=1500, worker_fee_currency="ZAR"), order.version, supervisor)
    db.session.commit()
    assert order.status == "draft" and publish_blockers(order) == [FEE_BLOCKER]


def test_the_contract_vetting_checklist(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, draft=True)
    db.session.commit()
    assert (order.status, vetting_state(order), publish_blockers(order)) == ("draft", "not vetted", [])
    before = counts()
    version = order.version
    cases = [
        (ValidationFailed, lambda: record_vetting(order, {**all_passed(), "wage": None}, version, officer),
         "Say whether the contract meets this point: wage, pay days"),
        (ValidationFailed, lambda: record_vetting(order, {"no_fees": True}, version, officer),
         "Say whether the contract meets this point"),
        (ValidationFailed, lambda: record_vetting(order, {**all_passed(), "bonus": True}, version, officer),
         "Unknown checklist point(s): bonus."),
        (StaleVersion, lambda: record_vetting(order, all_passed(), version + 1, officer),
         "Someone changed this job order since you opened it."),
        (Forbidden, lambda: record_vetting(order, all_passed(), version, user("statistician")),
         "Only labour officers, supervisors and administrators vet contracts."),
    ]
    for error, call, message in cases:
        with pytest.raises(error) as refused:
            call()
        assert any(message in text for text in refused.value.messages), refused.value.messages
    db.session.commit()
    assert counts() == before and order.vetting_checklist is None

    # A point not met: recorded, and the job order cannot be published.
    record_vetting(order, all_passed(documents_kept_by_worker=False), order.version, user("officer.hre"))
    db.session.commit()
    assert (order.contract_vetted, order.vetted_by, order.vetted_on, vetting_state(order)) == (
        False, "officer.hre", TODAY, "failed")
    assert publish_blockers(order) == ["the contract vetting found the worker keeps their own passport and identity "
                                       "documents: not met"]
    with pytest.raises(ValidationFailed, match="cannot be published: the contract vetting found"):
        set_vacancy_status(order, "open", order.version, supervisor)
    db.session.rollback()
    # The contract corrected and vetted again: published; a later failed vetting takes it back to draft.
    record_vetting(order, all_passed(), order.version, officer)
    set_vacancy_status(order, "open", order.version, supervisor)
    db.session.commit()
    assert order.status == "open"
    audit = len(audit_actions())
    record_vetting(order, all_passed(free_to_leave=False), order.version, officer)
    db.session.commit()
    assert (order.status, order.contract_vetted) == ("draft", False)
    assert audit_actions(audit) == ["vacancy.status_changed", "vacancy.vetted"]


BAD_TERMS = [
    ({"duration_months": "from 1 to 60"}, {"duration_months": 0}),
    ({"duration_months": "from 1 to 60"}, {"duration_months": 61}),
    ({"duration_months": "not 2 months"}, {"duration_months": 2}),  # the default period runs 180 days
    ({"worker_fee_amount": "0 or more"}, {"worker_fee_amount": -5}),
    ({"worker_fee_currency": "fee's currency"}, {"worker_fee_amount": 100, "worker_fee_currency": "XYZ"}),
    ({"worker_fee_amount": "Enter the fee, or leave its currency empty."}, {"worker_fee_currency": "ZAR"}),
    ({"season": "under 80"}, {"season": "s" * 81}),
    ({"skills_required": "under 500"}, {"skills_required": "pruning, " * 60}),
    ({"provisions_note": "under 255"}, {"provisions_note": "n" * 256}),
    ({"ends_on": "cannot end before it starts"}, {"ends_on": TODAY - timedelta(days=1), "closes_on": None}),
]


def test_bad_recruitment_terms_are_refused_and_nothing_is_written(ctx):
    supervisor = user("supervisor")
    order = make_order(supervisor)
    db.session.commit()
    before, stored = counts(), (order.version, order.season, order.status)
    for fields, overrides in BAD_TERMS:
        for call in (lambda: create_vacancy(order.employer, vacancy_data(**overrides), supervisor),
                     lambda: update_vacancy(order, vacancy_data(**overrides), order.version, supervisor)):
            with pytest.raises(ValidationFailed) as refused:
                call()
            assert set(refused.value.errors) == set(fields), (overrides, refused.value.errors)
            for field, message in fields.items():
                assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
    db.session.commit()
    assert counts() == before and (order.version, order.season, order.status) == stored


def test_an_employer_has_a_sector_and_is_verified_by_whom_and_when(ctx):
    supervisor = user("supervisor")
    employer = make_employer(supervisor, sector="a", verified=True)
    db.session.commit()
    assert (employer.sector, employer.verified_by, employer.verified_on, employer.verified) == (
        "A", "supervisor", TODAY, True)
    update_employer(employer, employer_data(sector="A", verified=True), employer.version, user("admin"))
    assert employer.verified_by == "supervisor"  # the first verification stands
    update_employer(employer, employer_data(sector="A", verified=False), employer.version, supervisor)
    db.session.commit()
    assert (employer.verified_on, employer.verified_by) == (None, None)
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        update_employer(employer, employer_data(sector="Z"), employer.version, supervisor)
    assert refused.value.errors == {"sector": ["Choose the employer's sector (an ISIC Rev.4 section, A to U)."]}
    db.session.commit()
    assert counts() == before


def test_a_person_under_18_is_not_referred_to_a_job_order(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, starts_on=TODAY + timedelta(days=30), ends_on=TODAY + timedelta(days=200),
                       closes_on=TODAY + timedelta(days=20))
    young = candidate(officer, date_of_birth=(TODAY - timedelta(days=365 * 17 + 40)))
    # Eighteen before the work starts: may be referred.
    nearly = candidate(officer, date_of_birth=(TODAY - timedelta(days=365 * 18 + 4 - 20)))
    db.session.commit()
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        issue_referral(young, order, TODAY + timedelta(days=7), officer)
    [message] = refused.value.errors["target"]
    assert message.startswith(f"{young.registration_number} is under 18 on {order.starts_on} (born ")
    assert "no one is placed in work abroad before turning 18" in message
    db.session.commit()
    assert counts() == before and young.status == "registered"
    referral = issue_referral(nearly, order, TODAY + timedelta(days=7), officer)
    db.session.commit()
    assert referral.status == "issued"
