"""Recruitment agencies: added and changed by supervisors and administrators, refused on bad input with
nothing written; an agency without a valid licence blocks new referrals to its job orders, and cannot be
named on a new job order."""
from datetime import date, timedelta

import pytest

from registry.core.errors import Forbidden, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.recruitment.agencies import get_agency, list_agencies, update_agency
from registry.referrals.services import issue_referral
from registry.referrals.targets import create_vacancy, list_vacancies, vacancy_closed_reason
from tests.conftest import user
from tests.recruitment.helpers import agency_data, counts, make_agency, make_order
from tests.referrals.helpers import audit_actions, outbox_rows, vacancy_data
from tests.support.factories import create_registration

TODAY = date.today()


def test_an_agency_is_added_and_its_licence_renewed_and_suspended(ctx):
    supervisor = user("supervisor")
    audit, outbox = len(audit_actions()), len(outbox_rows())
    agency = make_agency(supervisor, email="Info@LFLS.example.org ")
    db.session.commit()
    assert (agency.origin_office, agency.status, agency.phone, agency.email) == (
        "BBR", "active", "+27155550101", "info@lfls.example.org")
    assert agency.licence_problem(TODAY) is None
    update_agency(agency, agency_data(status="suspended"), agency.version, user("admin"))
    db.session.commit()
    assert agency.licence_problem(TODAY) == (
        "the licence of Limpopo Farm Labour Services (ZA-PEA-2024-0117) is suspended")
    assert audit_actions(audit) == ["agency.created", "agency.updated"]
    assert outbox_rows(outbox) == [("agency", "insert"), ("agency", "update")]
    assert list_agencies() == [agency] and get_agency(agency.id) is agency


BAD_AGENCY_INPUT = [
    ({"name": "Give the agency's name."}, {"name": "  "}),
    ({"licence_number": "Give the number of the agency's licence."}, {"licence_number": ""}),
    ({"licence_valid_from": "the day the licence was granted"}, {"licence_valid_from": None}),
    ({"licence_valid_until": "the day the licence expires"}, {"licence_valid_until": None}),
    ({"licence_valid_until": "The licence cannot expire before it was granted."},
     {"licence_valid_until": TODAY - timedelta(days=101)}),
    ({"status": "active, suspended or revoked"}, {"status": "pending"}),
    ({"country": "Choose a country"}, {"country": "XX"}),
    ({"subdivision": "ZW-MS is not a province or region of ZA"}, {"subdivision": "ZW-MS"}),
    ({"email": "email"}, {"email": "not-an-address"}),
    ({"licence_number": "Other Agency already holds licence OTHER-1."}, {"licence_number": "other-1"}),
]


def test_bad_agency_input_is_refused_on_its_fields_and_nothing_is_written(ctx):
    supervisor = user("supervisor")
    agency = make_agency(supervisor)
    make_agency(supervisor, name="Other Agency", licence_number="OTHER-1")
    db.session.commit()
    before = counts()
    stored = (agency.name, agency.licence_number, agency.status, agency.version)
    for fields, overrides in BAD_AGENCY_INPUT:
        for call in (lambda: make_agency(supervisor, **{"licence_number": "NEW-1", **overrides}),
                     lambda: update_agency(agency, agency_data(**overrides), agency.version, supervisor)):
            with pytest.raises(ValidationFailed) as refused:
                call()
            assert set(refused.value.errors) == set(fields), (overrides, refused.value.errors)
            for field, message in fields.items():
                assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
    with pytest.raises(StaleVersion):
        update_agency(agency, agency_data(status="revoked"), agency.version + 1, supervisor)
    for username in ("officer", "officer.hre", "statistician"):
        with pytest.raises(Forbidden, match="Only supervisors and administrators"):
            make_agency(user(username), licence_number=f"X-{username}")
    db.session.commit()
    assert counts() == before
    assert (agency.name, agency.licence_number, agency.status, agency.version) == stored


@pytest.mark.parametrize("change, message", [
    ({"licence_valid_from": TODAY - timedelta(days=400), "licence_valid_until": TODAY - timedelta(days=1)},
     f"the licence of Limpopo Farm Labour Services (ZA-PEA-2024-0117) expired on {TODAY - timedelta(days=1)}"),
    ({"status": "suspended"}, "the licence of Limpopo Farm Labour Services (ZA-PEA-2024-0117) is suspended"),
    ({"status": "revoked"}, "the licence of Limpopo Farm Labour Services (ZA-PEA-2024-0117) is revoked"),
    ({"licence_valid_from": TODAY + timedelta(days=2)},
     f"the licence of Limpopo Farm Labour Services (ZA-PEA-2024-0117) is valid only from {TODAY + timedelta(days=2)}"),
])
def test_a_referral_through_an_unlicensed_agency_is_refused_and_nothing_is_written(ctx, change, message):
    supervisor, officer = user("supervisor"), user("officer")
    agency = make_agency(supervisor)
    order = make_order(supervisor, agency_id=agency.id)
    registration = create_registration(actor=officer)
    db.session.commit()
    assert vacancy_closed_reason(order, TODAY) is None
    update_agency(agency, agency_data(**change), agency.version, supervisor)
    db.session.commit()
    before = counts()
    with pytest.raises(ValidationFailed) as refused:
        issue_referral(registration, order, TODAY + timedelta(days=7), officer)
    assert refused.value.errors == {"target": [
        f"No one can be referred to Citrus pickers at Mopani Citrus Estates: {message}; no one is referred through "
        "an agency without a valid licence."]}
    db.session.commit()
    assert counts() == before and registration.status == "registered"
    # Nor is the job order offered to job seekers while the licence is not valid.
    assert list_vacancies(open_only=True) == []
    # A job order can no longer be given that agency; one that already names it keeps it when edited.
    with pytest.raises(ValidationFailed) as refused:
        create_vacancy(order.employer, vacancy_data(agency_id=agency.id), supervisor)
    assert refused.value.errors == {"agency_id": [f"Limpopo Farm Labour Services cannot recruit: {message}."]}
    db.session.commit()
    assert counts() == before


def test_a_job_order_names_only_an_existing_agency(ctx):
    supervisor = user("supervisor")
    order = make_order(supervisor)
    db.session.commit()
    before = counts()
    for value, message in (("not-a-uuid", "Choose the recruitment agency from the list, or none."),
                           ("0190d3f0-0000-7000-8000-000000000001",
                            "There is no such recruitment agency: choose one from the list, or none.")):
        with pytest.raises(ValidationFailed) as refused:
            create_vacancy(order.employer, vacancy_data(agency_id=value), supervisor)
        assert refused.value.errors == {"agency_id": [message]}
    db.session.commit()
    assert counts() == before
