"""Issuing referrals and recording their outcomes: who may, what is refused (with nothing changed), how the
registration's status follows, and the lists of open and overdue referrals."""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.extensions import db
from registry.referrals.models import REFERRAL_STATUSES, REFERRAL_TRANSITIONS
from registry.referrals.services import (
    MAX_DAYS_AHEAD, ReferralFilters, filtered_referrals, get_referral, is_overdue, issue_referral, record_outcome,
    referral_counts, referrals_of, vacancy_candidates,
)
from registry.referrals.targets import set_vacancy_status, update_employer, update_service
from registry.registration.services import change_status
from registry.sync.outbox import row_payload
from tests.conftest import user
from tests.referrals.helpers import (
    as_node, audit_actions, counts, employer_data, make_service, make_vacancy, outbox_rows, service_data,
)
from tests.support.factories import create_registration

DAYS_BACK = 10


@pytest.fixture
def world(ctx, officer):
    """A medical service and a vacancy with room for 20, both taking referrals since `start`, ten days ago."""
    supervisor = user("supervisor")
    today = date.today()
    start = today - timedelta(days=DAYS_BACK)
    service = make_service(supervisor)
    vacancy = make_vacancy(supervisor, places=20, starts_on=start)
    db.session.commit()
    return SimpleNamespace(ctx=ctx, today=today, start=start, service=service, vacancy=vacancy, officer=officer,
                           supervisor=supervisor)


def rows(*records):
    """What the database holds for these records now."""
    db.session.expire_all()
    return [row_payload(db.session.get(type(record), record.id)) for record in records]


def refused(error, call, field=None, message=""):
    """Run `call`, expecting `error` naming `field` with `message` in its text; return the error."""
    with pytest.raises(error) as caught:
        call()
    exc = caught.value
    if field is not None:
        assert exc.field == field or field in getattr(exc, "errors", {}), (field, exc.messages)
    assert any(message in text for text in exc.messages), (message, exc.messages)
    return exc


# Issuing ------------------------------------------------------------------------------------------------

def test_a_registration_is_referred_to_a_service_and_then_a_vacancy(world):
    officer, today = world.officer, world.today
    registration = create_registration(actor=officer)
    db.session.commit()
    audit, outbox = len(audit_actions()), len(outbox_rows())

    first = issue_referral(registration, world.service, today + timedelta(days=7), officer,
                           note="  Fasting   from midnight ")
    db.session.commit()
    assert first.reference == f"{registration.registration_number}/R1"
    assert (first.sequence, first.kind, first.service_id, first.vacancy_id) == (1, "medical", world.service.id, None)
    assert (first.issued_on, first.issued_by, first.due_by) == (today, "officer", today + timedelta(days=7))
    assert (first.note, first.status, first.office_code, first.origin_office) == (
        "Fasting from midnight", "issued", "BBR", "BBR")
    assert first.target is world.service and first.is_open
    assert (registration.status, registration.status_changed_on) == ("referred", today)
    assert audit_actions(audit) == ["referral.issued", "registration.status_changed"]
    assert outbox_rows(outbox) == [("referral", "insert"), ("registration", "update")]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "referral.issued")).all()
    assert (event.entity_type, event.entity_id, event.actor) == ("referral", first.id, "officer")
    assert event.details == {"reference": first.reference, "kind": "medical", "target": "Beitbridge District Hospital",
                             "due_by": (today + timedelta(days=7)).isoformat()}

    second = issue_referral(registration, world.vacancy, today + timedelta(days=MAX_DAYS_AHEAD), officer)
    db.session.commit()
    assert (second.sequence, second.kind, second.vacancy_id, second.service_id) == (2, "vacancy", world.vacancy.id,
                                                                                    None)
    assert second.target is world.vacancy and second.note is None
    # Already referred: the registration's status does not change again.
    assert audit_actions(audit) == ["referral.issued", "referral.issued", "registration.status_changed"]
    assert referrals_of(registration) == [second, first]
    assert get_referral(registration, 2) is second
    with pytest.raises(NotFound, match="has no referral R3"):
        get_referral(registration, 3)


def test_supervisors_and_administrators_refer_too(world):
    registration = create_registration(actor=world.officer)
    db.session.commit()
    by_supervisor = issue_referral(registration, world.service, world.today, world.supervisor)
    by_admin = issue_referral(registration, world.vacancy, world.today, user("admin"))
    db.session.commit()
    assert (by_supervisor.issued_by, by_admin.issued_by, by_admin.office_code) == ("supervisor", "admin", "BBR")


def test_refusals_to_refer_say_why_and_change_nothing(world):
    officer, today, supervisor = world.officer, world.today, world.supervisor
    soon = today + timedelta(days=7)
    registration = create_registration(actor=officer)
    earlier = issue_referral(registration, world.service, soon, officer)
    closed = make_vacancy(supervisor, title="Closed pickers", employer=world.vacancy.employer)
    set_vacancy_status(closed, "closed", closed.version, supervisor)
    past_closing = make_vacancy(supervisor, title="Late pickers", employer=world.vacancy.employer,
                                starts_on=today - timedelta(days=30), closes_on=today - timedelta(days=1))
    ended = make_vacancy(supervisor, title="Summer pickers", employer=world.vacancy.employer,
                         starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1), closes_on=None)
    inactive_employer_vacancy = make_vacancy(supervisor, title="Packers")
    employer = inactive_employer_vacancy.employer
    update_employer(employer, employer_data(active=False), employer.version, supervisor)
    inactive_service = make_service(supervisor, name="Old clinic")
    update_service(inactive_service, service_data(name="Old clinic", active=False), inactive_service.version,
                   supervisor)
    full = make_vacancy(supervisor, title="One place", employer=world.vacancy.employer, places=1)
    placed = create_registration(actor=officer)
    filling = issue_referral(placed, full, soon, officer)
    record_outcome(filling, "placed", today, filling.version, officer)
    departed = placed
    cancelled = create_registration(actor=officer)
    change_status(cancelled, "cancelled", today, cancelled.version, officer)
    with as_node(world.ctx, "HRE"):
        harare = create_registration(actor=user("officer.hre"))
    db.session.commit()

    before = counts()
    stored = rows(registration, earlier, departed, cancelled, harare, full)
    cases = [
        (ValidationFailed, lambda: issue_referral(registration, closed, soon, officer), "target",
         "No one can be referred to Closed pickers at Mopani Citrus Estates: it is closed."),
        (ValidationFailed, lambda: issue_referral(registration, full, soon, officer), "target",
         "One place at Mopani Citrus Estates: all its 1 places are filled."),
        (ValidationFailed, lambda: issue_referral(registration, past_closing, soon, officer), "target",
         f"it closed for referrals on {today - timedelta(days=1)}."),
        (ValidationFailed, lambda: issue_referral(registration, ended, soon, officer), "target",
         f"the work ended on {today - timedelta(days=1)}."),
        (ValidationFailed, lambda: issue_referral(registration, inactive_employer_vacancy, soon, officer), "target",
         "Mopani Citrus Estates is no longer an active employer."),
        (ValidationFailed, lambda: issue_referral(registration, inactive_service, soon, officer), "target",
         "Old clinic no longer takes referrals: choose another service."),
        (ValidationFailed, lambda: issue_referral(registration, None, soon, officer), "target",
         "Choose the service or vacancy to refer the person to."),
        (ValidationFailed, lambda: issue_referral(registration, employer, soon, officer), "target",
         "Choose the service or vacancy"),
        (ValidationFailed, lambda: issue_referral(registration, world.service, soon, officer), "target",
         f"already has an open referral there ({earlier.reference}, issued {today})."),
        (ValidationFailed, lambda: issue_referral(registration, world.vacancy, today - timedelta(days=1), officer),
         "due_by", "The day to attend by cannot be in the past."),
        (ValidationFailed, lambda: issue_referral(registration, world.vacancy,
                                                  today + timedelta(days=MAX_DAYS_AHEAD + 1), officer),
         "due_by", f"Give a day within {MAX_DAYS_AHEAD} days from today."),
        (ValidationFailed, lambda: issue_referral(registration, world.vacancy, None, officer), "due_by",
         "Enter the day to attend by"),
        (ValidationFailed, lambda: issue_referral(registration, world.vacancy, soon, officer, note="n" * 501),
         "note", "Keep this under 500 characters."),
        (DomainError, lambda: issue_referral(departed, world.vacancy, soon, officer), None,
         f"{departed.registration_number} is departed: only a registered or referred registration"),
        (DomainError, lambda: issue_referral(cancelled, world.service, soon, officer), None,
         f"{cancelled.registration_number} is cancelled"),
        (Forbidden, lambda: issue_referral(registration, world.vacancy, soon, user("officer.hre")), None,
         f"{registration.registration_number} belongs to BBR: only that office's officers refer it."),
        (Forbidden, lambda: issue_referral(harare, world.vacancy, soon, officer), None,
         f"{harare.registration_number} belongs to HRE"),
        (Forbidden, lambda: issue_referral(registration, world.vacancy, soon, user("statistician")), None,
         "only that office's officers refer it"),
    ]
    for error, call, field, message in cases:
        refused(error, call, field, message)
    db.session.commit()  # whatever a refusal left in the session would be written now
    assert counts() == before
    assert rows(registration, earlier, departed, cancelled, harare, full) == stored


def test_several_problems_are_reported_together(world):
    registration = create_registration(actor=world.officer)
    db.session.commit()
    exc = refused(ValidationFailed, lambda: issue_referral(
        registration, world.service, world.today - timedelta(days=3), world.officer, note="x" * 600), "due_by")
    assert set(exc.errors) == {"due_by", "note"}


def test_a_target_can_be_referred_to_again_once_the_earlier_referral_closed(world):
    officer, today = world.officer, world.today
    registration = create_registration(actor=officer, today=world.start)
    first = issue_referral(registration, world.service, world.start + timedelta(days=1), officer, today=world.start)
    db.session.commit()
    record_outcome(first, "attended", world.start + timedelta(days=1), first.version, officer)
    db.session.commit()
    # Attended is still open: the outcome of the visit is not known yet.
    refused(ValidationFailed, lambda: issue_referral(registration, world.service, today, officer), "target",
            "already has an open referral there")
    record_outcome(first, "declined", today, first.version, officer)
    db.session.commit()
    again = issue_referral(registration, world.service, today, officer)
    db.session.commit()
    assert (again.sequence, again.status) == (2, "issued")


# Outcomes -----------------------------------------------------------------------------------------------

PATHS = [("attended",), ("placed",), ("declined",), ("no_show",), ("cancelled",),
         ("attended", "placed"), ("attended", "declined"), ("attended", "cancelled"), ("placed", "cancelled")]


def test_every_allowed_outcome_is_recorded_and_every_other_refused(world):
    """Each path from `issued` is walked on a fresh referral; at every state reached, each outcome not allowed
    from it is refused and changes nothing."""
    officer, start, today = world.officer, world.start, world.today
    due = start + timedelta(days=2)
    walked = set()
    for path in PATHS:
        registration = create_registration(actor=officer, today=start)
        referral = issue_referral(registration, world.vacancy, due, officer, today=start)
        db.session.commit()
        for step, status in enumerate(path):
            assert status in REFERRAL_TRANSITIONS[referral.status]
            walked.add((referral.status, status))
            on = due + timedelta(days=step + 1)
            audit = len(audit_actions())
            record_outcome(referral, status, on, referral.version, officer, note=f"step {step}")
            db.session.commit()
            assert (referral.status, referral.outcome_on, referral.outcome_by, referral.outcome_note) == (
                status, on, "officer", f"step {step}")
            assert "referral.outcome" in audit_actions(audit)
        before, stored = counts(), rows(referral, registration)
        for status in REFERRAL_STATUSES:
            if status in REFERRAL_TRANSITIONS[referral.status]:
                continue
            message = ("Choose the outcome" if status == "issued"
                       else f"not {REFERRAL_STATUSES[status].lower()}")
            refused(ValidationFailed, lambda: record_outcome(referral, status, today, referral.version, officer),
                    "status", message)
        db.session.commit()
        assert counts() == before and rows(referral, registration) == stored
        # Its only referral: placed makes it departed, cancelled makes it registered again, the rest referred.
        if path[-1] == "placed":
            assert registration.status == "departed"
        elif path[-1] == "cancelled" and "placed" not in path:
            assert registration.status == "registered"
        elif "placed" not in path:
            assert registration.status == "referred"
    assert walked == {(before_, after) for before_, afters in REFERRAL_TRANSITIONS.items() for after in afters}


def test_outcomes_refused_for_bad_dates_notes_versions_and_people(world):
    officer, start, today = world.officer, world.start, world.today
    due = start + timedelta(days=4)
    registration = create_registration(actor=officer, today=start)
    referral = issue_referral(registration, world.vacancy, due, officer, today=start)
    service_referral = issue_referral(registration, world.service, due, officer, today=start)
    db.session.commit()
    before, stored = counts(), rows(referral, service_referral, registration)
    version = referral.version
    cases = [
        (ValidationFailed, lambda: record_outcome(referral, "attended", start - timedelta(days=1), version, officer),
         "on", f"The outcome cannot come before the referral was issued ({start})."),
        (ValidationFailed, lambda: record_outcome(referral, "attended", today + timedelta(days=1), version, officer),
         "on", "The outcome date cannot be in the future."),
        (ValidationFailed, lambda: record_outcome(referral, "attended", None, version, officer),
         "on", "Enter the date of the outcome as YYYY-MM-DD."),
        (ValidationFailed, lambda: record_outcome(referral, "no_show", due - timedelta(days=1), version, officer),
         "on", f"The person has until {due} to attend"),
        (ValidationFailed, lambda: record_outcome(referral, "attended", today, version, officer, note="n" * 501),
         "note", "Keep this under 500 characters."),
        (ValidationFailed, lambda: record_outcome(referral, "lost", today, version, officer),
         "status", "Choose the outcome: attended, placed, declined, did not attend or cancelled."),
        (ValidationFailed, lambda: record_outcome(service_referral, "placed", today, service_referral.version,
                                                  officer),
         "status", "Only a referral to a vacancy ends in a placement; a service is attended."),
        (StaleVersion, lambda: record_outcome(referral, "attended", today, version + 1, officer), None,
         "Someone changed this referral since you opened it."),
        (Forbidden, lambda: record_outcome(referral, "attended", today, version, user("officer.hre")), None,
         "belongs to BBR"),
        (Forbidden, lambda: record_outcome(referral, "attended", today, version, user("statistician")), None,
         "belongs to BBR"),
    ]
    for error, call, field, message in cases:
        refused(error, call, field, message)
    db.session.commit()
    assert counts() == before and rows(referral, service_referral, registration) == stored

    # The outcome may fall on the day of issue, and "did not attend" on the day it was due.
    record_outcome(service_referral, "attended", start, service_referral.version, officer)
    record_outcome(referral, "no_show", due, version, officer)
    db.session.commit()
    assert (service_referral.status, referral.status, referral.outcome_on) == ("attended", "no_show", due)


def test_a_placement_makes_the_registration_departed_on_the_outcome_date(world):
    officer, start = world.officer, world.start
    registration = create_registration(actor=officer, today=start)
    referral = issue_referral(registration, world.vacancy, start + timedelta(days=3), officer, today=start)
    db.session.commit()
    placed_on = start + timedelta(days=2)
    audit, outbox = len(audit_actions()), len(outbox_rows())
    record_outcome(referral, "placed", placed_on, referral.version, officer)
    db.session.commit()
    assert (registration.status, registration.status_changed_on) == ("departed", placed_on)
    assert audit_actions(audit) == ["referral.outcome", "registration.status_changed"]
    assert outbox_rows(outbox) == [("referral", "update"), ("registration", "update")]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "referral.outcome")).one()
    assert event.details == {"reference": referral.reference, "before": "issued", "after": "placed",
                             "on": placed_on.isoformat()}


def test_a_vacancy_refuses_more_placements_than_it_has_places(world):
    officer, today = world.officer, world.today
    vacancy = make_vacancy(world.supervisor, title="Foreman", places=1, employer=world.vacancy.employer)
    first, second = create_registration(actor=officer), create_registration(actor=officer)
    r1 = issue_referral(first, vacancy, today, officer)
    r2 = issue_referral(second, vacancy, today, officer)  # both referred: only placements fill places
    db.session.commit()
    record_outcome(r1, "placed", today, r1.version, officer)
    third = create_registration(actor=officer)
    db.session.commit()

    before, stored = counts(), rows(r2, second, third, vacancy)
    refused(ValidationFailed, lambda: record_outcome(r2, "placed", today, r2.version, officer), "status",
            "Foreman at Mopani Citrus Estates has all its 1 places filled: no one more can be placed in it.")
    refused(ValidationFailed, lambda: issue_referral(third, vacancy, today, officer), "target",
            "all its 1 places are filled")
    db.session.commit()
    assert counts() == before and rows(r2, second, third, vacancy) == stored
    assert (r2.status, second.status, third.status) == ("issued", "referred", "registered")

    # The placement falls through: its place is free again.
    record_outcome(r1, "cancelled", today, r1.version, officer)
    record_outcome(r2, "placed", today, r2.version, officer)
    db.session.commit()
    assert (r1.status, r2.status, second.status) == ("cancelled", "placed", "departed")
    assert first.status == "referred"  # placed made it departed; the placement falling through undoes that


def test_cancelling_every_referral_returns_the_registration_to_registered(world):
    officer, today = world.officer, world.today
    registration = create_registration(actor=officer)
    one = issue_referral(registration, world.service, today, officer)
    two = issue_referral(registration, world.vacancy, today, officer)
    db.session.commit()
    record_outcome(one, "cancelled", today, one.version, officer)
    db.session.commit()
    assert registration.status == "referred"  # R2 still stands
    record_outcome(two, "cancelled", today, two.version, officer)
    db.session.commit()
    assert (registration.status, registration.status_changed_on) == ("registered", today)
    # Referred again: referred again.
    three = issue_referral(registration, world.service, today, officer)
    db.session.commit()
    assert (three.sequence, registration.status) == (3, "referred")


def test_cancelling_a_registration_cancels_its_open_referrals_only(world):
    officer, start, today = world.officer, world.start, world.today
    registration = create_registration(actor=officer, today=start)
    done = issue_referral(registration, world.service, start, officer, today=start)
    db.session.commit()
    record_outcome(done, "attended", start, done.version, officer, today=start)
    waiting = issue_referral(registration, world.vacancy, start, officer, today=start)
    other = issue_referral(create_registration(actor=officer, today=start), world.service, start, officer,
                           today=start)
    db.session.commit()
    change_status(registration, "cancelled", today, registration.version, officer)
    db.session.commit()
    assert (waiting.status, waiting.outcome_on, waiting.outcome_by) == ("cancelled", today, officer.username)
    assert "registration was cancelled" in waiting.outcome_note
    assert done.status == "attended" and other.status == "issued"  # closed ones and other people's stay
    assert registration.status == "cancelled"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.outcome",
                                                      AuditEvent.entity_id == waiting.id)) is not None


def test_an_outcome_other_than_cancelled_keeps_the_registration_referred(world):
    officer, start, today = world.officer, world.start, world.today
    registration = create_registration(actor=officer, today=start)
    referral = issue_referral(registration, world.service, start, officer, today=start)
    db.session.commit()
    record_outcome(referral, "no_show", today, referral.version, officer)
    db.session.commit()
    assert registration.status == "referred"


# Lists --------------------------------------------------------------------------------------------------

@pytest.fixture
def listed(world, ctx):
    """Four BBR referrals (open to a service, attended at a vacancy, overdue, declined) and one of HRE's."""
    officer, start, today = world.officer, world.start, world.today
    people = [create_registration(actor=officer, today=start, surname=name)
              for name in ("Moyo", "Ncube", "Sibanda", "Dube", "Banda")]
    counselling = make_service(world.supervisor, kind="counselling", name="Beitbridge counselling centre")
    open_ = issue_referral(people[0], world.service, today + timedelta(days=5), officer)
    attended = issue_referral(people[1], world.vacancy, start + timedelta(days=1), officer, today=start)
    overdue = issue_referral(people[2], counselling, start + timedelta(days=2), officer, today=start)
    declined = issue_referral(people[3], world.vacancy, today, officer)
    placed = issue_referral(people[4], world.vacancy, start + timedelta(days=3), officer, today=start)
    db.session.commit()
    record_outcome(attended, "attended", start + timedelta(days=1), attended.version, officer)
    record_outcome(declined, "declined", today, declined.version, officer)
    record_outcome(placed, "placed", start + timedelta(days=3), placed.version, officer)
    with as_node(ctx, "HRE"):
        hre_officer = user("officer.hre")
        harare = issue_referral(create_registration(actor=hre_officer, surname="Chikwanha"), world.service,
                                today + timedelta(days=1), hre_officer)
    db.session.commit()
    return SimpleNamespace(open=open_, attended=attended, overdue=overdue, declined=declined, placed=placed,
                           harare=harare, start=start, today=today)


def found(today=None, **filters):
    return db.session.scalars(filtered_referrals(ReferralFilters(**filters), today=today)).all()


def test_open_and_overdue_referrals_per_office(listed):
    r = listed
    # Oldest due first.
    assert found(office_code="BBR", state="open") == [r.attended, r.overdue, r.open]
    assert found(office_code="BBR", state="overdue") == [r.overdue]
    # Due on a day is not overdue that day; the day after it is.
    assert found(office_code="BBR", state="overdue", today=r.start + timedelta(days=2)) == []
    assert found(office_code="BBR", state="overdue", today=r.start + timedelta(days=3)) == [r.overdue]
    # Attended referrals are never overdue; issued ones all are once their day has passed.
    assert found(office_code="BBR", state="overdue", today=r.today + timedelta(days=30)) == [r.overdue, r.open]
    assert found(office_code="HRE", state="open") == [r.harare]
    assert found(office_code="HRE", state="overdue", today=r.today + timedelta(days=2)) == [r.harare]
    assert found(state="open") == [r.attended, r.overdue, r.harare, r.open]
    assert referral_counts("BBR") == {"open": 3, "overdue": 1}
    assert referral_counts("BBR", today=r.start) == {"open": 3, "overdue": 0}
    assert referral_counts("HRE") == {"open": 1, "overdue": 0}
    assert referral_counts("HQ") == {"open": 0, "overdue": 0}
    assert is_overdue(r.overdue) and not is_overdue(r.overdue, today=r.start + timedelta(days=2))
    assert not is_overdue(r.attended, today=r.today + timedelta(days=30)) and not is_overdue(r.open)


def test_referrals_by_status_and_kind(listed):
    r = listed
    assert found(office_code="BBR", state="all") == [r.attended, r.overdue, r.placed, r.declined, r.open]
    assert found(office_code="BBR", state="") == found(office_code="BBR", state="all")
    assert found(office_code="BBR", state="declined") == [r.declined]
    assert found(office_code="BBR", state="placed") == [r.placed]
    assert found(office_code="BBR", state="all", kind="vacancy") == [r.attended, r.placed, r.declined]
    assert found(office_code="BBR", state="open", kind="vacancy") == [r.attended]
    assert found(office_code="BBR", state="all", kind="counselling") == [r.overdue]
    assert found(state="all", kind="medical") == [r.harare, r.open]
    assert found(state="all", kind="passport") == []
    # The person and the registration come loaded with each referral.
    assert [ref.registration.person.surname for ref in found(office_code="BBR", state="open")] == [
        "Ncube", "Sibanda", "Moyo"]


def test_unknown_list_filters_are_refused(listed):
    with pytest.raises(ValidationFailed) as caught:
        filtered_referrals(ReferralFilters(state="lost"))
    assert caught.value.errors == {"state": ["Unknown state 'lost'."]}
    with pytest.raises(ValidationFailed) as caught:
        filtered_referrals(ReferralFilters(kind="dentist"))
    assert caught.value.errors == {"kind": ["Unknown kind 'dentist'."]}


def test_a_vacancys_candidates_placed_first(listed, world):
    r = listed
    candidates = vacancy_candidates(world.vacancy)
    assert candidates == [r.placed, r.attended, r.declined]
    assert [c.registration.person.surname for c in candidates] == ["Banda", "Ncube", "Dube"]
    other = make_vacancy(world.supervisor, title="Drivers", occupation_code="8322", employer=world.vacancy.employer)
    db.session.commit()
    assert vacancy_candidates(other) == []
