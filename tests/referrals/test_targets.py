"""Services, employers and vacancies: made and changed by supervisors and administrators, a supervisor only at
their own office; every bad input refused with a message on its field and nothing written; every change
audited and queued for sync."""
import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from registry.audit.services import history_of
from registry.core.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.referrals.services import issue_referral, record_outcome
from registry.referrals.targets import (
    create_employer, create_service, create_vacancy, get_employer, get_service, get_vacancy, list_employers,
    list_services, list_vacancies, may_manage, placed_count, set_vacancy_status, update_employer, update_service,
    update_vacancy, vacancy_closed_reason,
)
from registry.sync.outbox import row_payload
from tests.conftest import user
from tests.referrals.helpers import (
    as_node, audit_actions, counts, employer_data, make_employer, make_service, make_vacancy, outbox_rows,
    service_data, vacancy_data,
)
from tests.support.factories import create_registration

TODAY = date.today()
NO_SUCH_ID = uuid.UUID("00000000-0000-7000-8000-000000000000")


def stored(record):
    """The row as the database holds it now (the session's copy thrown away first)."""
    db.session.expire_all()
    return row_payload(db.session.get(type(record), record.id))


# Services -----------------------------------------------------------------------------------------------

def test_a_supervisor_adds_a_service_tidied_and_normalised(ctx):
    supervisor = user("supervisor")
    before, audit, outbox = counts(), len(audit_actions()), len(outbox_rows())
    service = create_service(service_data(name="  Beitbridge   District Hospital ", phone="0242 700 100",
                                          what_to_bring="  Passport \n\n Two   photographs  ", hours=""),
                             supervisor)
    db.session.commit()
    assert (service.name, service.phone, service.what_to_bring) == (
        "Beitbridge District Hospital", "+263242700100", "Passport\nTwo photographs")
    assert (service.hours, service.active, service.origin_office, service.version) == (None, True, "BBR", 1)
    assert counts()["service"] == before["service"] + 1
    assert audit_actions(audit) == ["service.created"]
    assert outbox_rows(outbox) == [("referral_service", "insert")]
    assert list_services() == [service] and get_service(service.id) is service


def test_services_are_changed_with_a_version_check_and_every_change_is_audited_and_queued(ctx):
    supervisor = user("supervisor")
    service = make_service(supervisor)
    db.session.commit()
    audit, outbox = len(audit_actions()), len(outbox_rows())

    update_service(service, service_data(address="Ward 3, Hospital Road, Beitbridge", active=False), 1, supervisor)
    db.session.commit()
    assert (service.address, service.active, service.version) == ("Ward 3, Hospital Road, Beitbridge", False, 2)
    assert audit_actions(audit) == ["service.updated"]
    assert outbox_rows(outbox) == [("referral_service", "update")]
    [event] = [e for e in history_of(service) if e.action == "service.updated"]
    assert event.details == {"before": {"address": "Hospital Road, Beitbridge", "active": True},
                             "after": {"address": "Ward 3, Hospital Road, Beitbridge", "active": False}}
    # An inactive service is listed, but not among those taking referrals.
    assert service in list_services() and service not in list_services(active_only=True)

    # Saving the same values again changes nothing: no version, no event, no outbox entry.
    update_service(service, service_data(address="Ward 3, Hospital Road, Beitbridge", active=False), 2, supervisor)
    db.session.commit()
    assert service.version == 2 and len(audit_actions()) == audit + 1 and len(outbox_rows()) == outbox + 1

    # A form opened before that change is refused, and nothing is written.
    before, row = counts(), stored(service)
    with pytest.raises(StaleVersion, match="Someone changed this record"):
        update_service(service, service_data(name="Renamed"), 1, supervisor)
    db.session.commit()
    assert counts() == before and stored(service) == row


BAD_SERVICE_INPUT = [
    ("kind", {"kind": "dentist"}, "Choose what kind of service this is."),
    ("kind", {"kind": "vacancy"}, "Choose what kind of service this is."),
    ("name", {"name": "   "}, "Give the service's name."),
    ("name", {"name": "x" * 161}, "Keep this under 160 characters."),
    ("address", {"address": ""}, "Give the address people go to."),
    ("country", {"country": "XX"}, "Choose a country (ISO 3166-1)."),
    ("subdivision", {"subdivision": "ZA-LP"}, "ZA-LP is not a province or region of ZW."),
    ("phone", {"phone": "12"}, "'12' is not a valid phone number for ZW"),
    ("phone", {"phone": "call us"}, "is not a phone number"),
    ("hours", {"hours": "h" * 161}, "Keep this under 160 characters."),
    ("what_to_bring", {"what_to_bring": "passport\n" * 60}, "Keep this under 500 characters."),
]


def test_bad_service_input_is_refused_on_its_field_and_nothing_is_written(ctx):
    supervisor = user("supervisor")
    service = make_service(supervisor)
    db.session.commit()
    before, row = counts(), stored(service)
    for field, overrides, message in BAD_SERVICE_INPUT:
        with pytest.raises(ValidationFailed) as refused:
            create_service(service_data(**overrides), supervisor)
        assert list(refused.value.errors) == [field], overrides
        assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
        with pytest.raises(ValidationFailed) as refused:
            update_service(service, service_data(**overrides), service.version, supervisor)
        assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
    db.session.commit()  # whatever a refusal left in the session would be written now
    assert counts() == before and stored(service) == row


def test_every_bad_field_is_named_at_once(ctx):
    with pytest.raises(ValidationFailed) as refused:
        create_service(service_data(kind="", name="", address="", country="XX", phone="abc"), user("admin"))
    assert set(refused.value.errors) == {"kind", "name", "address", "country", "phone"}


# Who manages what ---------------------------------------------------------------------------------------

def test_officers_and_statisticians_manage_nothing_and_change_nothing(ctx):
    supervisor = user("supervisor")
    service, vacancy = make_service(supervisor), make_vacancy(supervisor)
    employer = vacancy.employer
    db.session.commit()
    before = counts()
    rows = [stored(record) for record in (service, employer, vacancy)]
    for username in ("officer", "officer.hre", "statistician"):
        actor = user(username)
        assert not may_manage(actor) and not may_manage(actor, service)
        for attempt in (
            lambda: create_service(service_data(), actor),
            lambda: create_employer(employer_data(), actor),
            lambda: create_vacancy(employer, vacancy_data(), actor),
            lambda: update_service(service, service_data(name="Other"), service.version, actor),
            lambda: update_employer(employer, employer_data(name="Other"), employer.version, actor),
            lambda: update_vacancy(vacancy, vacancy_data(places=9), vacancy.version, actor),
            lambda: set_vacancy_status(vacancy, "closed", vacancy.version, actor),
        ):
            with pytest.raises(Forbidden, match="Only supervisors and administrators"):
                attempt()
    db.session.commit()
    assert counts() == before
    assert [stored(record) for record in (service, employer, vacancy)] == rows


def test_a_supervisor_changes_only_their_own_offices_targets_and_an_admin_any(ctx):
    supervisor, admin = user("supervisor"), user("admin")
    with as_node(ctx, "HRE"):  # added at Harare by an administrator working there
        service = make_service(admin, name="Harare Passport Office", kind="passport", address="Makombe Building",
                               subdivision="ZW-HA", phone="")
        vacancy = make_vacancy(admin, employer=make_employer(admin, name="Harare Builders", country="ZW",
                                                              subdivision="ZW-HA", phone="", email=""))
        db.session.commit()
    employer = vacancy.employer
    assert {service.origin_office, employer.origin_office, vacancy.origin_office} == {"HRE"}
    before = counts()
    rows = [stored(record) for record in (service, employer, vacancy)]

    for record in (service, employer, vacancy):
        assert may_manage(supervisor) and not may_manage(supervisor, record) and may_manage(admin, record)
    for attempt in (
        lambda: update_service(service, service_data(name="Renamed"), service.version, supervisor),
        lambda: update_employer(employer, employer_data(name="Renamed"), employer.version, supervisor),
        lambda: update_vacancy(vacancy, vacancy_data(places=9), vacancy.version, supervisor),
        lambda: set_vacancy_status(vacancy, "closed", vacancy.version, supervisor),
    ):
        with pytest.raises(Forbidden, match="This was added at HRE; a supervisor there or an administrator"):
            attempt()
    db.session.commit()
    assert counts() == before and [stored(record) for record in (service, employer, vacancy)] == rows

    # The administrator (of head office) changes them; the supervisor still adds a vacancy of their own.
    update_service(service, service_data(name="Harare Passport Office", kind="passport",
                                         address="Makombe Building, Harare", subdivision="ZW-HA", phone=""),
                   service.version, admin)
    set_vacancy_status(vacancy, "closed", vacancy.version, admin)
    own = create_vacancy(employer, vacancy_data(title="Bricklayers", occupation_code="7112", country="ZW",
                                                subdivision="ZW-HA"), supervisor)
    db.session.commit()
    assert (service.address, vacancy.status, own.origin_office) == ("Makombe Building, Harare", "closed", "BBR")
    assert may_manage(supervisor, own)
    # ... and the administrator changes a record Beitbridge made.
    update_vacancy(own, vacancy_data(title="Bricklayers", occupation_code="7112", country="ZW", subdivision="ZW-HA",
                                     places=5), own.version, admin)
    db.session.commit()
    assert own.places == 5


# Employers ----------------------------------------------------------------------------------------------

def test_employers_are_added_and_changed_with_normalised_contacts(ctx):
    admin = user("admin")
    audit, outbox = len(audit_actions()), len(outbox_rows())
    employer = create_employer(employer_data(email="Jobs@Mopani.Example.ORG", phone="015 307 1234", subdivision="",
                                             address=" Farm 12,  Letsitele "), admin)
    db.session.commit()
    # A local number is read in the employer's country; the email's domain is lower-cased.
    assert (employer.phone, employer.email) == ("+27153071234", "Jobs@mopani.example.org")
    assert (employer.subdivision, employer.address, employer.origin_office) == (None, "Farm 12, Letsitele", "BBR")
    update_employer(employer, employer_data(contact_name="Piet Botha", active=False), 1, admin)
    db.session.commit()
    assert (employer.contact_name, employer.active, employer.version) == ("Piet Botha", False, 2)
    assert audit_actions(audit) == ["employer.created", "employer.updated"]
    assert outbox_rows(outbox) == [("employer", "insert"), ("employer", "update")]
    assert employer in list_employers() and employer not in list_employers(active_only=True)
    assert get_employer(employer.id) is employer
    with pytest.raises(NotFound):
        get_employer(NO_SUCH_ID)

    before = counts()
    with pytest.raises(StaleVersion):
        update_employer(employer, employer_data(name="Stale"), 1, admin)
    assert counts() == before and employer.name == "Mopani Citrus Estates"


BAD_EMPLOYER_INPUT = [
    ("name", {"name": ""}, "Give the employer's name."),
    ("country", {"country": "Narnia"}, "Choose a country (ISO 3166-1)."),
    ("country", {"country": ""}, "Choose a country (ISO 3166-1)."),
    ("subdivision", {"subdivision": "ZW-HA"}, "ZW-HA is not a province or region of ZA."),
    ("phone", {"phone": "555"}, "'555' is not a valid phone number for ZA"),
    ("email", {"email": "jobs at mopani"}, "email address"),
    ("email", {"email": "jobs@"}, "something after the @-sign"),
    ("address", {"address": "a" * 256}, "Keep this under 255 characters."),
    ("registration_number", {"registration_number": "9" * 65}, "Keep this under 64 characters."),
]


def test_bad_employer_input_is_refused_on_its_field_and_nothing_is_written(ctx):
    supervisor = user("supervisor")
    employer = make_employer(supervisor)
    db.session.commit()
    before, row = counts(), stored(employer)
    for field, overrides, message in BAD_EMPLOYER_INPUT:
        with pytest.raises(ValidationFailed) as refused:
            create_employer(employer_data(**overrides), supervisor)
        assert list(refused.value.errors) == [field], overrides
        assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
        with pytest.raises(ValidationFailed) as refused:
            update_employer(employer, employer_data(**overrides), employer.version, supervisor)
        assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
    db.session.commit()
    assert counts() == before and stored(employer) == row


# Vacancies ----------------------------------------------------------------------------------------------

def test_a_vacancy_is_added_and_changed_with_its_audit_events_and_outbox_entries(ctx):
    # Contract vetting (a checklist) is tested with the job orders, in tests/recruitment.
    supervisor = user("supervisor")
    employer = make_employer(supervisor)
    db.session.commit()
    audit, outbox = len(audit_actions()), len(outbox_rows())
    vacancy = create_vacancy(employer, vacancy_data(wage_currency="zar"), supervisor, today=TODAY - timedelta(days=1))
    db.session.commit()
    assert (vacancy.status, vacancy.wage_currency, vacancy.employer_id) == ("open", "ZAR", employer.id)
    assert (vacancy.contract_vetted, vacancy.vetted_on, vacancy.vetted_by) == (False, None, None)
    assert audit_actions(audit) == ["vacancy.created"]
    assert outbox_rows(outbox) == [("vacancy", "insert")]

    update_vacancy(vacancy, vacancy_data(places=4), 1, user("admin"))
    db.session.commit()
    update_vacancy(vacancy, vacancy_data(places=4, season="Citrus harvest"), 2, supervisor)
    db.session.commit()
    assert (vacancy.places, vacancy.season, vacancy.version) == (4, "Citrus harvest", 3)
    assert audit_actions(audit) == ["vacancy.created", "vacancy.updated", "vacancy.updated"]
    assert outbox_rows(outbox) == [("vacancy", "insert"), ("vacancy", "update"), ("vacancy", "update")]
    assert get_vacancy(vacancy.id) is vacancy and [(vacancy, 0)] == list_vacancies()


def test_a_vacancy_without_a_wage_or_an_end(ctx):
    vacancy = make_vacancy(user("supervisor"), wage_amount=None, wage_currency="", wage_period="", ends_on=None,
                           closes_on=None)
    db.session.commit()
    assert (vacancy.wage_amount, vacancy.wage_currency, vacancy.wage_period, vacancy.ends_on) == (None,) * 4
    assert vacancy_closed_reason(vacancy, TODAY + timedelta(days=3650)) is None


BAD_VACANCY_INPUT = [
    ({"title": "Say what the job is"}, {"title": " "}),
    ({"occupation_code": "ISCO-08 unit group"}, {"occupation_code": "92"}),
    ({"occupation_code": "ISCO-08 unit group"}, {"occupation_code": "0000"}),
    ({"occupation_code": "ISCO-08 unit group"}, {"occupation_code": "farm"}),
    ({"country": "Choose a country"}, {"country": "ZZ"}),
    ({"subdivision": "ZW-MS is not a province or region of ZA"}, {"subdivision": "ZW-MS"}),
    ({"places": "a whole number from 1 to 10,000"}, {"places": 0}),
    ({"places": "a whole number from 1 to 10,000"}, {"places": -3}),
    ({"places": "a whole number from 1 to 10,000"}, {"places": 10_001}),
    ({"places": "a whole number from 1 to 10,000"}, {"places": None}),
    ({"places": "a whole number from 1 to 10,000"}, {"places": True}),
    ({"starts_on": "the day the work starts"}, {"starts_on": None}),
    ({"ends_on": "cannot end before it starts"}, {"ends_on": TODAY - timedelta(days=1), "closes_on": None}),
    ({"closes_on": "after the work has ended"}, {"closes_on": TODAY + timedelta(days=181)}),
    ({"wage_currency": "currency (ISO 4217", "wage_period": "what the wage is paid for"},
     {"wage_currency": "", "wage_period": ""}),
    ({"wage_currency": "currency (ISO 4217"}, {"wage_currency": "XYZ"}),
    ({"wage_period": "an hour, a day, a week or a month"}, {"wage_period": "year"}),
    ({"wage_amount": "whole number above 0"}, {"wage_amount": 0}),
    ({"wage_amount": "whole number above 0"}, {"wage_amount": -4500}),
    ({"wage_amount": "Enter the wage, or leave currency and period empty"}, {"wage_amount": None}),
    ({"what_to_bring": "under 500 characters"}, {"what_to_bring": "boots\n" * 100}),
]


def test_bad_vacancy_input_is_refused_on_its_fields_and_nothing_is_written(ctx):
    supervisor = user("supervisor")
    vacancy = make_vacancy(supervisor)
    db.session.commit()
    before, row = counts(), stored(vacancy)
    for fields, overrides in BAD_VACANCY_INPUT:
        with pytest.raises(ValidationFailed) as refused:
            create_vacancy(vacancy.employer, vacancy_data(**overrides), supervisor)
        assert set(refused.value.errors) == set(fields), (overrides, refused.value.errors)
        for field, message in fields.items():
            assert message in refused.value.errors[field][0], (overrides, refused.value.errors)
        with pytest.raises(ValidationFailed) as refused:
            update_vacancy(vacancy, vacancy_data(**overrides), vacancy.version, supervisor)
        assert set(refused.value.errors) == set(fields), (overrides, refused.value.errors)
    db.session.commit()
    assert counts() == before and stored(vacancy) == row


def test_a_vacancy_is_refused_for_an_inactive_employer_and_a_stale_form(ctx):
    supervisor = user("supervisor")
    vacancy = make_vacancy(supervisor)
    employer = vacancy.employer
    update_employer(employer, employer_data(active=False), employer.version, supervisor)
    db.session.commit()
    before, row = counts(), stored(vacancy)
    with pytest.raises(ValidationFailed) as refused:
        create_vacancy(employer, vacancy_data(), supervisor)
    assert refused.value.errors == {"employer": ["Mopani Citrus Estates is no longer active: reactivate it first."]}
    with pytest.raises(StaleVersion):
        update_vacancy(vacancy, vacancy_data(places=8), vacancy.version + 1, supervisor)
    with pytest.raises(StaleVersion):
        set_vacancy_status(vacancy, "closed", vacancy.version + 1, supervisor)
    db.session.commit()
    assert counts() == before and stored(vacancy) == row
    # Its vacancies take no referrals while it is inactive.
    assert vacancy_closed_reason(vacancy, TODAY) == "Mopani Citrus Estates is no longer an active employer"
    assert list_vacancies(open_only=True) == []


def test_closing_and_reopening_a_vacancy(ctx, officer):
    supervisor = user("supervisor")
    vacancy = make_vacancy(supervisor)
    db.session.commit()
    registration = create_registration(actor=officer)
    db.session.commit()
    audit, outbox = len(audit_actions()), len(outbox_rows())

    set_vacancy_status(vacancy, "closed", 1, supervisor)
    db.session.commit()
    assert (vacancy.status, vacancy.version) == ("closed", 2)
    assert vacancy_closed_reason(vacancy, TODAY) == "it is closed"
    assert list_vacancies(open_only=True) == [] and list_vacancies() == [(vacancy, 0)]
    before = counts()
    with pytest.raises(ValidationFailed, match="it is closed"):
        issue_referral(registration, vacancy, TODAY + timedelta(days=7), officer)
    db.session.commit()
    assert counts() == before

    # Closing it again is no change; an unknown status is refused.
    set_vacancy_status(vacancy, "closed", 2, supervisor)
    with pytest.raises(ValidationFailed) as refused:
        set_vacancy_status(vacancy, "paused", 2, supervisor)
    assert refused.value.errors == {"status": ["Unknown vacancy status 'paused'."]}
    db.session.commit()
    assert counts() == before and vacancy.version == 2

    set_vacancy_status(vacancy, "open", 2, supervisor)
    db.session.commit()
    assert vacancy_closed_reason(vacancy, TODAY) is None
    assert issue_referral(registration, vacancy, TODAY + timedelta(days=7), officer).vacancy_id == vacancy.id
    db.session.commit()
    assert audit_actions(audit) == sorted(["vacancy.status_changed", "vacancy.status_changed", "referral.issued",
                                           "registration.status_changed"])
    assert [row for row in outbox_rows(outbox) if row[0] == "vacancy"] == [("vacancy", "update")] * 2


def test_places_cannot_go_below_the_people_already_placed(ctx, officer):
    supervisor = user("supervisor")
    vacancy = make_vacancy(supervisor, places=3, starts_on=TODAY - timedelta(days=5))
    db.session.commit()
    for _ in range(2):
        registration = create_registration(actor=officer, today=TODAY - timedelta(days=5))
        referral = issue_referral(registration, vacancy, TODAY, officer, today=TODAY - timedelta(days=5))
        record_outcome(referral, "placed", TODAY, referral.version, officer)
    db.session.commit()
    assert placed_count(vacancy) == 2 and list_vacancies() == [(vacancy, 2)]

    before, row = counts(), stored(vacancy)
    with pytest.raises(ValidationFailed) as refused:
        update_vacancy(vacancy, vacancy_data(places=1, starts_on=TODAY - timedelta(days=5)), vacancy.version,
                       supervisor)
    assert refused.value.errors == {"places": [
        "2 people are already placed in this vacancy: it cannot have fewer places."]}
    db.session.commit()
    assert counts() == before and stored(vacancy) == row

    update_vacancy(vacancy, vacancy_data(places=2, starts_on=TODAY - timedelta(days=5)), vacancy.version, supervisor)
    db.session.commit()
    assert vacancy.places == 2
    assert vacancy_closed_reason(vacancy, TODAY) == "all its 2 places are filled"
    assert list_vacancies(open_only=True) == []


def test_a_vacancy_stops_taking_referrals_after_its_last_day_or_its_end(ctx):
    vacancy = make_vacancy(user("supervisor"), closes_on=TODAY + timedelta(days=10), ends_on=TODAY + timedelta(days=20))
    db.session.commit()
    assert vacancy_closed_reason(vacancy, TODAY + timedelta(days=10)) is None
    later = TODAY + timedelta(days=11)
    assert vacancy_closed_reason(vacancy, later) == f"it closed for referrals on {(later - timedelta(days=1))}"
    assert list_vacancies(open_only=True, today=later) == []
    update_vacancy(vacancy, replace(vacancy_data(), closes_on=None, ends_on=TODAY + timedelta(days=20)),
                   vacancy.version, user("supervisor"))
    db.session.commit()
    end = TODAY + timedelta(days=21)
    assert vacancy_closed_reason(vacancy, end) == f"the work ended on {(end - timedelta(days=1))}"


def test_vacancies_are_filtered_by_country_and_occupation(ctx):
    supervisor = user("supervisor")
    pickers = make_vacancy(supervisor)
    builders = make_vacancy(supervisor, employer=pickers.employer, title="Bricklayers", occupation_code="7112",
                            country="BW", subdivision="", starts_on=TODAY + timedelta(days=1))
    db.session.commit()
    assert [v for v, _ in list_vacancies()] == [builders, pickers]  # newest start first
    assert [v for v, _ in list_vacancies(country="BW")] == [builders]
    assert [v for v, _ in list_vacancies(occupation="9")] == [pickers]
    assert [v for v, _ in list_vacancies(occupation="71")] == [builders]
    assert [v for v, _ in list_vacancies(occupation="7112")] == [builders]
    assert list_vacancies(occupation="8") == []
