"""Selection steps: in order, dated and signed, never before the referral nor in the future; the interview
marks the referral attended, departure places the candidate and marks the registration departed; no
placement beyond the places offered or of a person under 18; a group at once, all or none; the printed
group list."""
from datetime import date, timedelta

import pytest

from registry.audit.models import AuditEvent
from registry.core.errors import DomainError, Forbidden, ValidationFailed
from registry.extensions import db
from registry.people.identifiers import display_national_id
from registry.recruitment.selection import (
    current_step, print_group_list, record_step, record_steps, steps_of, undo_step,
)
from registry.referrals.services import issue_referral
from registry.referrals.targets import placed_count
from tests.conftest import user
from tests.recruitment.helpers import candidate, counts, make_order
from tests.referrals.helpers import audit_actions, outbox_rows
from tests.slips.helpers import pdf_text

TODAY = date.today()
BEFORE_CONTRACT = ("interviewed", "medical", "documents")


def refused(error, call, message):
    with pytest.raises(error) as caught:
        call()
    assert any(message in text for text in caught.value.messages), (message, caught.value.messages)


def test_steps_go_in_order_and_departure_places_the_candidate(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, places=2)
    registration = candidate(officer, today=TODAY - timedelta(days=20))
    referral = issue_referral(registration, order, TODAY, officer, today=TODAY - timedelta(days=10))
    db.session.commit()
    audit, outbox = len(audit_actions()), len(outbox_rows())
    record_step(referral, "interviewed", TODAY - timedelta(days=9), officer, note=" came   early ")
    db.session.commit()
    assert (referral.status, referral.outcome_on) == ("attended", TODAY - timedelta(days=9))
    before = counts()
    reference = referral.reference
    cases = [
        (ValidationFailed, lambda: record_step(referral, "contract", TODAY, officer),
         f"{reference}: record medical done before contract signed (the steps go in order)."),
        (ValidationFailed, lambda: record_step(referral, "interviewed", TODAY, officer),
         f"{reference}: interviewed was already recorded on {TODAY - timedelta(days=9)} by officer."),
        (ValidationFailed, lambda: record_step(referral, "medical", TODAY + timedelta(days=1), officer),
         "The date of a step cannot be in the future."),
        (ValidationFailed, lambda: record_step(referral, "medical", TODAY - timedelta(days=10), officer),
         f"{reference}: medical done cannot come before interviewed ({TODAY - timedelta(days=9)})."),
        (ValidationFailed, lambda: record_step(referral, "medical", None, officer),
         "Enter the date of the step as YYYY-MM-DD."),
        (ValidationFailed, lambda: record_step(referral, "visa", TODAY, officer), "Choose the step: interviewed,"),
        (ValidationFailed, lambda: record_step(referral, "medical", TODAY, officer, note="n" * 256),
         "Keep this under 255 characters."),
        (Forbidden, lambda: record_step(referral, "medical", TODAY, user("officer.hre")),
         f"{reference} was issued at BBR: that office's officers (or an administrator) record its selection steps."),
        (Forbidden, lambda: record_step(referral, "medical", TODAY, user("statistician")), "was issued at BBR"),
        (ValidationFailed, lambda: undo_step(referral, "medical", officer), "has no medical done step to undo."),
    ]
    for error, call, message in cases:
        refused(error, call, message)
    db.session.commit()
    assert counts() == before

    for step, days_ago in (("medical", 8), ("documents", 5), ("contract", 2)):
        record_step(referral, step, TODAY - timedelta(days=days_ago), user("admin"))
    record_step(referral, "departed", TODAY, officer)
    db.session.commit()
    done = steps_of([referral])[referral.id]
    assert current_step(done) == "departed" and done["interviewed"].note == "came early"
    assert [(s, done[s].done_on, done[s].done_by) for s in ("medical", "contract", "departed")] == [
        ("medical", TODAY - timedelta(days=8), "admin"), ("contract", TODAY - timedelta(days=2), "admin"),
        ("departed", TODAY, "officer")]
    assert (referral.status, referral.outcome_on, registration.status, placed_count(order)) == (
        "placed", TODAY, "departed", 1)
    assert audit_actions(audit) == sorted(
        ["selection.step_recorded"] * 5 + ["referral.outcome"] * 2 + ["registration.status_changed"])
    assert sorted(outbox_rows(outbox)) == sorted(
        [("selection_step", "insert")] * 5 + [("referral", "update")] * 2 + [("registration", "update")])
    # Selection has ended: nothing more, and a departure is not undone here.
    refused(ValidationFailed, lambda: undo_step(referral, "departed", officer),
            "departed: if the placement fell through, record the referral's outcome as cancelled.")


def test_no_placement_beyond_the_places_or_of_a_person_under_18(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, places=1, starts_on=TODAY, ends_on=TODAY + timedelta(days=400),
                       closes_on=TODAY + timedelta(days=360))
    later = make_order(supervisor, title="Next season", places=3, starts_on=TODAY + timedelta(days=340),
                       ends_on=TODAY + timedelta(days=500), closes_on=TODAY + timedelta(days=330))
    first, second = candidate(officer), candidate(officer)
    # 18 by the time the next season starts, so referred; still 17 today.
    young = candidate(officer, date_of_birth=TODAY - timedelta(days=365 * 17 + 4 + 60))
    referrals = [issue_referral(r, order, TODAY, officer) for r in (first, second)]
    young_referral = issue_referral(young, later, TODAY, officer)
    for referral in referrals + [young_referral]:
        for step in BEFORE_CONTRACT + ("contract",):
            record_step(referral, step, TODAY, officer)
    record_step(referrals[0], "departed", TODAY, officer)
    db.session.commit()
    before = counts()
    refused(ValidationFailed, lambda: record_step(referrals[1], "departed", TODAY, officer),
            "Citrus pickers at Mopani Citrus Estates has all its 1 places filled: no one more can be placed in it.")
    refused(ValidationFailed, lambda: record_step(young_referral, "departed", TODAY, officer),
            f"{young.registration_number} is under 18 on {TODAY}")
    db.session.commit()
    assert counts() == before
    assert (referrals[1].status, second.status, young_referral.status, young.status) == (
        "attended", "referred", "attended", "referred")
    assert "departed" not in steps_of([referrals[1]])[referrals[1].id]


def test_a_group_goes_through_a_step_together_all_or_none(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, places=5)
    group = [issue_referral(candidate(officer), order, TODAY, officer) for _ in range(3)]
    record_steps(group, "interviewed", TODAY, officer)
    record_steps(group[:2], "medical", TODAY, officer)
    db.session.commit()
    before = counts()
    refused(ValidationFailed, lambda: record_steps(group, "documents", TODAY, officer),
            f"{group[2].reference}: record medical done before documents ready")
    refused(ValidationFailed, lambda: record_steps([], "documents", TODAY, officer),
            "Choose the candidates the step is for.")
    db.session.commit()
    assert counts() == before
    assert [current_step(done) for done in steps_of(group).values()] == ["medical", "medical", "interviewed"]
    # The last step undone, then recorded again on another day: the same row comes back.
    row = undo_step(group[1], "medical", officer)
    refused(ValidationFailed, lambda: undo_step(group[0], "interviewed", officer),
            "only the last step, medical done, can be undone.")
    db.session.commit()
    assert row.deleted_at is not None and current_step(steps_of([group[1]])[group[1].id]) == "interviewed"
    again = record_step(group[1], "medical", TODAY, supervisor)
    db.session.commit()
    assert again.id == row.id and (again.deleted_at, again.done_by) == (None, "supervisor")


def test_the_group_list_prints_who_leaves_together(ctx):
    supervisor, officer = user("supervisor"), user("officer")
    order = make_order(supervisor, places=5)
    people = [candidate(officer, surname=surname, given_names=given, passport_number=passport, passport_country="ZW")
              for surname, given, passport in (("Ncube", "Sipho", "FN123456"), ("Dube", "Rudo", "FN654321"),
                                               ("Zulu", "Farai", None))]
    group = [issue_referral(person, order, TODAY, officer) for person in people]
    for step in BEFORE_CONTRACT + ("contract",):
        record_steps(group[:2], step, TODAY, officer)
    record_step(group[0], "departed", TODAY, officer)
    db.session.commit()
    before = counts()
    ids = [r.id for r in group]
    refused(ValidationFailed, lambda: print_group_list(order, ids, TODAY, officer),
            f"{group[2].reference} has not signed a contract yet")
    refused(ValidationFailed, lambda: print_group_list(order, ids[:2], TODAY + timedelta(days=1), officer),
            f"{group[0].reference} departed on {TODAY}, not {TODAY + timedelta(days=1)}.")
    refused(ValidationFailed, lambda: print_group_list(order, ids[1:2], TODAY - timedelta(days=1), officer),
            "Candidates who have not departed yet cannot leave on a past day")
    refused(ValidationFailed, lambda: print_group_list(order, [], TODAY, officer),
            "Choose the candidates of the group from this job order's list.")
    refused(ValidationFailed, lambda: print_group_list(order, ids[:2], None, officer),
            "Enter the day the group leaves")
    refused(Forbidden, lambda: print_group_list(order, ids[:2], TODAY, user("statistician")),
            "Only labour officers, supervisors and administrators print group lists.")
    db.session.commit()
    assert counts() == before

    # Any office's officers print it: the group may cross at any border post.
    pdf, content = print_group_list(order, ids[:2], TODAY, user("officer.hre"))
    db.session.commit()
    text = pdf_text(pdf)
    for value in ("Group list: Citrus pickers (9211)", "Mopani Citrus Estates", "Limpopo, South Africa",
                  f"Departure {TODAY}", "Workers 2", "DUBE", "Rudo", "FN654321 (ZW)", "NCUBE", "Sipho",
                  "FN123456 (ZW)", people[0].registration_number, people[1].registration_number, "ready",
                  display_national_id(people[0].person.national_id, "ZW"), "+27 15 307 1234"):
        assert value in text, (value, text)
    assert "ZULU" not in text
    assert [row.surname for row in content.rows] == ["Dube", "Ncube"]  # by surname
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "selection.group_list_printed")).one()
    assert (event.actor, event.details["references"]) == ("officer.hre", [group[1].reference, group[0].reference])


def test_a_referral_to_a_service_has_no_selection_steps(ctx):
    from tests.referrals.helpers import make_service

    officer = user("officer")
    referral = issue_referral(candidate(officer), make_service(user("supervisor")), TODAY, officer)
    db.session.commit()
    before = counts()
    with pytest.raises(DomainError, match="is a referral to a service: selection steps are for job orders"):
        record_step(referral, "interviewed", TODAY, officer)
    assert counts() == before
