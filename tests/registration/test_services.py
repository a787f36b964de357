"""register, update_registration, change_status, get_registration and filtered_registrations."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.people.services import PossibleDuplicates, create_person
from registry.registration.models import Registration
from registry.registration.numbering import InvalidRegistrationNumber, parse_registration_number
from registry.registration.services import (
    RegistrationFilters, change_status, filtered_registrations, get_registration, register, update_registration,
)
from registry.sync.models import OutboxEntry
from registry.sync.outbox import HardDeleteRefused
from tests.conftest import user
from tests.registration.helpers import registration_at_hre, row_counts
from tests.support.factories import create_registration, person_data, registration_data

DAY = date(2026, 3, 10)


def outbox_for(row):
    return db.session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == row.id).order_by(OutboxEntry.seq)).all()


def audit(action, row):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_id == row.id)).all()


def test_register_new_person_numbers_audits_and_queues_both_rows(ctx, officer):
    registration = register(officer, registration_data(other_occupation_codes=["6111", " 9211 ", "6111"]),
                            person_data=person_data(surname="Gumbo"), today=DAY)
    db.session.commit()
    number = parse_registration_number(registration.registration_number)
    assert (number.office_code, number.year, number.sequence) == ("BBR", 2026, 1)
    assert (registration.office_code, registration.origin_office, registration.registered_on) == ("BBR", "BBR", DAY)
    assert (registration.status, registration.status_changed_on, registration.registered_by) == ("registered", DAY, "officer")
    assert registration.other_occupation_codes == ["6111"]  # the main occupation is not repeated
    assert registration.person.surname == "Gumbo"
    [event] = audit("registration.created", registration)
    assert event.details == {"number": registration.registration_number}
    [entry] = outbox_for(registration)
    assert (entry.entity, entry.operation, entry.version, entry.base_version) == ("registration", "insert", 1, 0)
    assert entry.payload["registration_number"] == registration.registration_number
    assert len(outbox_for(registration.person)) == 1


def test_numbers_increase_per_year_and_a_person_may_register_again(ctx, officer):
    numbers = [create_registration(actor=officer, today=DAY).registration_number for _ in range(3)]
    numbers.append(create_registration(actor=officer, today=date(2027, 1, 2)).registration_number)
    parsed = [parse_registration_number(n) for n in numbers]
    assert [(n.year, n.sequence) for n in parsed] == [(2026, 1), (2026, 2), (2026, 3), (2027, 1)]

    # Registering someone already on record adds a registration only.
    first = get_registration(numbers[0])
    before = row_counts()
    second = register(officer, registration_data(destination_country="BW", destination_subdivision=""),
                      person=first.person, today=DAY)
    assert second.person_id == first.person_id
    assert row_counts() == {**before, "registration": before["registration"] + 1,
                            "audit": before["audit"] + 1, "outbox": before["outbox"] + 2}


BAD_REGISTRATION_DATA = [
    (dict(destination_country="XX", destination_subdivision=""), "destination_country", "Choose the country of destination."),
    (dict(destination_subdivision="ZW-MV"), "destination_subdivision", "ZW-MV is not a province or region of ZA."),
    (dict(intended_sector="Z"), "intended_sector", "Choose an ISIC Rev.4 section (A to U)."),
    (dict(occupation_code=""), "occupation_code", "Choose the occupation sought (an ISCO-08 unit group)."),
    (dict(occupation_code="9999"), "occupation_code", "'9999' is not an ISCO-08 unit group (4 digits, e.g. 9211)."),
    (dict(occupation_code="921"), "occupation_code", "'921' is not an ISCO-08 unit group (4 digits, e.g. 9211)."),
    (dict(other_occupation_codes=["7112", "12"]), "other_occupation_codes", "Not ISCO-08 unit groups: 12."),
    (dict(skills="x" * 501), "skills", "Keep this under 500 characters."),
    (dict(employer_name="x" * 161), "employer_name", "Keep this under 160 characters."),
    (dict(years_experience=66), "years_experience", "Enter whole years between 0 and 65."),
    (dict(has_job_offer=True, employer_name=" "), "employer_name", "Name the employer who made the job offer."),
]


def test_bad_registration_data_is_refused_before_anything_is_added(ctx, officer):
    before = row_counts()
    for changes, field, message in BAD_REGISTRATION_DATA:
        with pytest.raises(ValidationFailed) as caught:
            register(officer, registration_data(**changes), person_data=person_data(), today=DAY)
        assert caught.value.errors == {field: [message]}, changes
        assert row_counts() == before, changes


def test_refusals_of_the_person_or_the_actor_leave_nothing(ctx, officer):
    create_registration(actor=officer, surname="Gumbo", given_names="Tatenda", today=DAY)
    db.session.commit()
    before = row_counts()
    with pytest.raises(PossibleDuplicates):
        register(officer, registration_data(), person_data=person_data(surname="Gumbo", given_names="Tatenda"), today=DAY)
    with pytest.raises(ValidationFailed):
        register(officer, registration_data(), person_data=person_data(date_of_birth=date(2020, 1, 1)), today=DAY)
    for someone in ("officer.hre", "statistician"):
        with pytest.raises(Forbidden, match="Only officers of BBR register people"):
            register(user(someone), registration_data(), person_data=person_data(), today=DAY)
    with pytest.raises(DomainError, match="Say who is registering"):
        register(officer, registration_data(), today=DAY)
    assert row_counts() == before


def test_a_rollback_leaves_no_half_registration(ctx, officer):
    before = row_counts()
    registration = create_registration(actor=officer, today=DAY)
    assert registration.id and registration.person_id
    db.session.rollback()
    assert row_counts() == before
    assert db.session.scalar(select(Registration)) is None

    # Once committed, a registration can be tombstoned but never removed.
    registration = create_registration(actor=officer, today=DAY)
    db.session.commit()
    db.session.delete(registration)
    with pytest.raises(HardDeleteRefused):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(Registration, registration.id).version == 1


def test_update_registration_records_before_after_and_one_version(ctx, officer):
    registration = create_registration(actor=officer, today=DAY)
    db.session.commit()
    changed = registration_data(destination_country="BW", destination_subdivision="", occupation_code="7112",
                                has_job_offer=True, employer_name="  Gaborone   Builders ")
    _, did_change = update_registration(registration, changed, 1, officer)
    db.session.commit()
    assert did_change and registration.version == 2
    [event] = audit("registration.updated", registration)
    assert event.details["before"] == {"destination_country": "ZA", "destination_subdivision": "ZA-LP",
                                       "occupation_code": "9211", "has_job_offer": False, "employer_name": None}
    assert event.details["after"] == {"destination_country": "BW", "destination_subdivision": None,
                                      "occupation_code": "7112", "has_job_offer": True,
                                      "employer_name": "Gaborone Builders"}
    last = outbox_for(registration)[-1]
    assert (last.operation, last.version, last.base_version) == ("update", 2, 1)
    assert last.payload["occupation_code"] == "7112"

    # The same data again changes nothing and writes nothing.
    before = row_counts()
    assert update_registration(registration, changed, 2, officer) == (registration, False)
    assert row_counts() == before and registration.version == 2


def test_update_refuses_stale_forms_other_offices_and_bad_data(ctx, database_url, officer):
    registration = create_registration(actor=officer, today=DAY)
    db.session.commit()
    before = row_counts()
    with pytest.raises(StaleVersion, match="Someone changed this registration since you opened it"):
        update_registration(registration, registration_data(skills="New"), 2, officer)
    with pytest.raises(ValidationFailed):
        update_registration(registration, registration_data(occupation_code="0000"), 1, officer)
    with pytest.raises(Forbidden):
        update_registration(registration, registration_data(skills="New"), 1, user("officer.hre"))
    db.session.rollback()
    assert row_counts() == before
    assert db.session.get(Registration, registration.id).skills == "Citrus picking"

    number, _ = registration_at_hre(database_url)
    theirs = get_registration(number)
    with pytest.raises(Forbidden, match=f"{number} belongs to HRE; only that office can change it."):
        update_registration(theirs, registration_data(skills="New"), theirs.version, officer)
    assert update_registration(theirs, registration_data(skills="New"), theirs.version, user("admin"))[1]


def test_allowed_status_paths(ctx, officer):
    for path in (["referred", "departed", "referred", "departed"], ["cancelled", "registered", "departed"],
                 ["referred", "registered", "referred", "cancelled"]):
        registration = create_registration(actor=officer, today=DAY)
        db.session.commit()
        for step, status in enumerate(path, start=1):
            on = date(2026, 3, 10 + step)
            change_status(registration, status, on, registration.version, officer, today=date(2026, 4, 1))
            db.session.commit()
            assert (registration.status, registration.status_changed_on, registration.version) == (status, on, step + 1)
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "registration.status_changed", AuditEvent.entity_id == registration.id)
            .order_by(AuditEvent.at)).all()
        assert [(e.details["before"], e.details["after"], e.details["on"]) for e in events] == [
            (old, new, date(2026, 3, 10 + step).isoformat())
            for step, (old, new) in enumerate(zip(["registered"] + path[:-1], path), start=1)]
        assert [(e.version, e.base_version) for e in outbox_for(registration)] == [
            (v, v - 1) for v in range(1, len(path) + 2)]


REFUSED_CHANGES = [
    ([], "returned", "A registered registration can become referred, departed, cancelled, not returned."),
    (["departed"], "cancelled", "A departed registration can become returned, referred, not cancelled."),
    (["departed", "returned"], "registered", "A returned registration can become nothing, not registered."),
    (["cancelled"], "departed", "A cancelled registration can become registered, not departed."),
    ([], "emigrated", "Unknown status 'emigrated'."),
]


RETURN_BY_ITS_RECORD = ("Record the worker's return (Returns, or /registrations/{number}/return): it keeps the day, "
                        "the reason and any wages owed, and makes the registration returned.")


def test_refused_status_changes(ctx, officer):
    from registry.recruitment.returns import ReturnData, record_return

    for start, refused, message in REFUSED_CHANGES + [(["departed"], "returned", RETURN_BY_ITS_RECORD)]:
        registration = create_registration(actor=officer, today=DAY)
        for status in start:
            if status == "returned":  # only through the return's own record
                record_return(registration, ReturnData(returned_on=DAY, reason="contract_ended"), officer, today=DAY)
            else:
                change_status(registration, status, DAY, registration.version, officer)
        message = message.format(number=registration.registration_number)
        db.session.commit()
        state = (registration.status, registration.version)
        before = row_counts()
        with pytest.raises(ValidationFailed) as caught:
            change_status(registration, refused, DAY, registration.version, officer)
        assert caught.value.errors == {"status": [message]}
        assert row_counts() == before and (registration.status, registration.version) == state


def test_status_dates_must_lie_between_registration_and_today(ctx, officer):
    registration = create_registration(actor=officer, today=DAY)
    db.session.commit()
    today = date(2026, 3, 20)
    message = "The date must be between the registration date (2026-03-10) and today."
    for on in (date(2026, 3, 9), date(2026, 3, 21)):
        with pytest.raises(ValidationFailed) as caught:
            change_status(registration, "referred", on, 1, officer, today=today)
        assert caught.value.errors == {"on": [message]}
    with pytest.raises(ValidationFailed, match="Enter the date of the change"):
        change_status(registration, "referred", None, 1, officer, today=today)
    with pytest.raises(StaleVersion):
        change_status(registration, "referred", DAY, 7, officer, today=today)
    assert registration.status == "registered" and not db.session.dirty
    change_status(registration, "referred", today, 1, officer, today=today)  # both ends are allowed
    change_status(registration, "registered", DAY, 2, officer, today=today)
    assert registration.status_changed_on == DAY


def test_get_registration_forgives_case_and_refuses_typos_and_unknown_numbers(ctx, officer):
    registration = create_registration(actor=officer, today=DAY)
    number = registration.registration_number
    assert get_registration(number.lower().replace("-", " ")) is registration
    typo = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidRegistrationNumber, match="does not check out"):
        get_registration(typo)
    unknown = str(parse_registration_number(number).__class__("BBR", 2026, 999))
    with pytest.raises(NotFound, match=f"No registration {unknown} in this office's database."):
        get_registration(unknown)
    registration.mark_deleted()
    db.session.flush()
    with pytest.raises(NotFound):
        get_registration(number)


def test_filters_select_the_right_registrations(ctx, officer):
    def make(on, sex="F", **changes):
        person = create_person(person_data(sex=sex), officer, override_duplicates=True)
        return register(officer, registration_data(**changes), person=person, today=on)

    a = make(date(2026, 1, 5))
    b = make(date(2026, 2, 5), sex="M", destination_country="BW", destination_subdivision="", occupation_code="7112")
    c = make(date(2026, 3, 5), occupation_code="9212")
    d = make(date(2026, 3, 6), sex="M", occupation_code="8322")
    change_status(d, "cancelled", date(2026, 3, 6), 1, officer)
    db.session.flush()

    def found(**filters):
        return db.session.scalars(filtered_registrations(RegistrationFilters(**filters))).all()

    assert found() == [d, c, b, a]  # newest first
    assert found(registered_from=date(2026, 2, 5), registered_to=date(2026, 3, 5)) == [c, b]
    assert found(registered_from=date(2026, 3, 6)) == [d]
    assert found(destination_country="BW") == [b]
    assert found(occupation="9") == [c, a]
    assert found(occupation="921") == [c, a]
    assert found(occupation="9212") == [c]
    assert found(occupation="7") == [b]
    assert found(status="cancelled") == [d]
    assert found(sex="M") == [d, b]
    assert found(sex="F", occupation="92", registered_to=date(2026, 2, 1)) == [a]
    assert found(office_code="HRE") == []
    with pytest.raises(ValidationFailed) as caught:
        found(registered_from=date(2026, 3, 1), registered_to=date(2026, 2, 1))
    assert caught.value.errors == {"registered_to": ["The end of the date range is before its start."]}


def test_an_existing_person_past_the_age_limit_cannot_register_again(ctx, officer):
    from datetime import date

    from registry.core.errors import ValidationFailed
    from registry.registration.models import Registration
    from registry.registration.services import register
    from tests.support.factories import create_registration, registration_data

    from registry.people.models import Person

    first = create_registration(actor=officer, date_of_birth=date(1950, 1, 10), today=date(2026, 1, 1))
    person = db.session.get(Person, first.person_id)
    before = db.session.query(Registration).count()
    with pytest.raises(ValidationFailed, match="81 today"):
        register(officer, registration_data(), person=person, today=date(2031, 6, 1))
    assert db.session.query(Registration).count() == before
