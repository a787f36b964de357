"""Selection steps of candidates referred to a job order: interviewed, medical done, documents ready,
contract signed, departed. Each is dated and signed by the officer who records it, in order, never before
the referral was issued nor in the future. The interview marks the referral attended; departure ends it in
a placement, which marks the registration departed (registry.referrals.services.record_outcome, which also
refuses a placement of a person under 18 or beyond the job order's places).

Steps follow the referral: the office that referred the candidate records them (an administrator at any
office), as it records the referral's outcome. Services add and flush; the request or command commits.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit.services import record_event
from registry.core.access import PERSONAL_DATA_ROLES, can_change_office_records
from registry.core.errors import DomainError, Forbidden, ValidationFailed
from registry.core.ids import stable_id
from registry.extensions import db
from registry.recruitment.models import SELECTION_STEPS, STEP_ORDER, SelectionStep
from registry.referrals.models import OPEN_STATUSES, REFERRAL_STATUSES, Referral
from registry.registration.models import Registration

MAX_NOTE = 255


def step_id(referral, step):
    """The same row for the same step of the same referral wherever it is recorded: two offices recording it
    offline meet as a version conflict of one row (resolved by a supervisor), never as two rows."""
    return stable_id("selection_step", f"{referral.id}:{step}")


def steps_of(referrals):
    """{referral id: {step: SelectionStep}} for the recorded (not undone) steps of many referrals."""
    ids = [r.id for r in referrals]
    found = {referral_id: {} for referral_id in ids}
    if ids:
        for row in db.session.scalars(select(SelectionStep).where(
                SelectionStep.referral_id.in_(ids), SelectionStep.deleted_at.is_(None))):
            found[row.referral_id][row.step] = row
    return found


def current_step(done):
    """The furthest step done ('referred' when none), from a {step: row} mapping."""
    return next((step for step in reversed(STEP_ORDER) if step in done), "referred")


def next_step(done):
    return next((step for step in STEP_ORDER if step not in done), None)


def check_may_select(actor, referral):
    if actor.role not in PERSONAL_DATA_ROLES or not can_change_office_records(actor, referral.office_code):
        raise Forbidden(f"{referral.reference} was issued at {referral.office_code}: that office's officers (or an "
                        "administrator) record its selection steps.")


def _check_step(referral, step, on, done, today):
    """The refusal for recording `step` on `on`, or None."""
    if referral.vacancy_id is None:
        return {"step": [f"{referral.reference} is a referral to a service: selection steps are for job orders."]}
    if step not in SELECTION_STEPS:
        return {"step": ["Choose the step: " + ", ".join(label.lower() for label in SELECTION_STEPS.values()) + "."]}
    if step in done:
        row = done[step]
        return {"step": [f"{referral.reference}: {SELECTION_STEPS[step].lower()} was already recorded on "
                         f"{row.done_on.isoformat()} by {row.done_by}."]}
    if referral.status not in OPEN_STATUSES:
        return {"step": [f"{referral.reference} is {REFERRAL_STATUSES[referral.status].lower()}: its selection "
                         "has ended."]}
    missing = [s for s in STEP_ORDER[:STEP_ORDER.index(step)] if s not in done]
    if missing:
        return {"step": [f"{referral.reference}: record {SELECTION_STEPS[missing[0]].lower()} before "
                         f"{SELECTION_STEPS[step].lower()} (the steps go in order)."]}
    if not isinstance(on, date):
        return {"on": ["Enter the date of the step as YYYY-MM-DD."]}
    if on > today:
        return {"on": ["The date of a step cannot be in the future."]}
    if on < referral.issued_on:
        return {"on": [f"{referral.reference}: a step cannot come before the referral was issued "
                       f"({referral.issued_on.isoformat()})."]}
    previous = [done[s] for s in STEP_ORDER if s in done]
    if previous and on < previous[-1].done_on:
        last = previous[-1]
        return {"on": [f"{referral.reference}: {SELECTION_STEPS[step].lower()} cannot come before "
                       f"{SELECTION_STEPS[last.step].lower()} ({last.done_on.isoformat()})."]}
    return None


def _note(text):
    note = " ".join((text or "").split())
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": [f"Keep this under {MAX_NOTE} characters."]})
    return note or None


def record_step(referral, step, on, actor, note="", today=None):
    """Record one selection step of a candidate. Refused with the reason, leaving nothing behind, when the
    step is out of order, already recorded, badly dated, or (departure) the placement is not allowed."""
    from flask import current_app

    from registry.referrals.services import record_outcome

    today = today or date.today()
    check_may_select(actor, referral)
    done = steps_of([referral])[referral.id]
    problem = _check_step(referral, step, on, done, today)
    if problem:
        raise ValidationFailed(problem)
    note = _note(note)
    with db.session.begin_nested():  # the outcome below may still refuse: then nothing of this stays
        row = db.session.get(SelectionStep, step_id(referral, step))
        if row is None:
            row = SelectionStep(id=step_id(referral, step), referral_id=referral.id, referral=referral, step=step)
            db.session.add(row)
        row.deleted_at = None  # a step undone earlier and recorded again
        row.done_on, row.done_by, row.note = on, actor.username, note
        row.office_code = current_app.config["OFFICE_CODE"]
        db.session.flush()
        record_event("selection.step_recorded", referral, actor=actor, details={
            "reference": referral.reference, "step": step, "on": on.isoformat()})
        if step == "interviewed" and referral.status == "issued":
            record_outcome(referral, "attended", on, referral.version, actor, today=today)
        elif step == "departed":
            record_outcome(referral, "placed", on, referral.version, actor, note="Departed", today=today)
    return row


def undo_step(referral, step, actor):
    """Take back the last step recorded (entered in error). A departure is not undone here: cancel the
    placement on the referral instead, which sends the registration back to referred."""
    check_may_select(actor, referral)
    if step not in SELECTION_STEPS:
        raise ValidationFailed({"step": ["Choose the step to undo."]})
    done = steps_of([referral])[referral.id]
    if step not in done:
        raise ValidationFailed({"step": [f"{referral.reference} has no {SELECTION_STEPS[step].lower()} step to "
                                         "undo."]})
    if current_step(done) != step:
        raise ValidationFailed({"step": [f"{referral.reference}: only the last step, "
                                         f"{SELECTION_STEPS[current_step(done)].lower()}, can be undone."]})
    if step == "departed":
        raise ValidationFailed({"step": [f"{referral.reference} departed: if the placement fell through, record "
                                         "the referral's outcome as cancelled."]})
    row = done[step]
    row.mark_deleted()
    db.session.flush()
    record_event("selection.step_undone", referral, actor=actor, details={
        "reference": referral.reference, "step": step, "was_on": row.done_on.isoformat()})
    return row


def record_steps(referrals, step, on, actor, note="", today=None):
    """The same step for a group that goes through it together: every referral, or (when any is refused)
    none, with each refusal named."""
    if not referrals:
        raise ValidationFailed({"referrals": ["Choose the candidates the step is for."]})
    problems, rows = [], []
    savepoint = db.session.begin_nested()
    for referral in referrals:
        try:
            rows.append(record_step(referral, step, on, actor, note=note, today=today))
        except DomainError as exc:
            problems.extend(message if message.startswith(referral.reference) else f"{referral.reference}: {message}"
                            for message in exc.messages)
    if problems:
        savepoint.rollback()
        raise ValidationFailed({"referrals": problems + ["Nothing was recorded: correct these and try again."]})
    savepoint.commit()
    return rows


def job_order_referrals(vacancy, ids=None):
    """The referrals to a job order (all, or those with the given ids), registration and person loaded."""
    query = (select(Referral).where(Referral.vacancy_id == vacancy.id, Referral.deleted_at.is_(None))
             .options(selectinload(Referral.registration).selectinload(Registration.person))
             .order_by(Referral.registration_number, Referral.sequence))
    if ids is not None:
        query = query.where(Referral.id.in_(list(ids)))
    return db.session.scalars(query).all()


@dataclass
class GroupMember:
    referral: Referral
    departed_on: date | None


def group_members(vacancy, referral_ids):
    """The candidates of a group list: each must be ready to leave (contract signed) or departed."""
    chosen = job_order_referrals(vacancy, referral_ids)
    if not referral_ids or len(chosen) != len(set(referral_ids)):
        raise ValidationFailed({"referrals": ["Choose the candidates of the group from this job order's list."]})
    steps = steps_of(chosen)
    problems, members = [], []
    for referral in chosen:
        done = steps[referral.id]
        if "contract" not in done:
            problems.append(f"{referral.reference} has not signed a contract yet: only candidates ready to leave "
                            "go on a group list.")
        departed = done.get("departed")
        members.append(GroupMember(referral, departed.done_on if departed else None))
    if problems:
        raise ValidationFailed({"referrals": problems})
    members.sort(key=lambda m: (m.referral.registration.person.surname, m.referral.registration.person.given_names))
    return members


def print_group_list(vacancy, referral_ids, departure_on, actor, today=None):
    """The group list PDF of the chosen candidates of a job order, leaving on `departure_on`; audited, since it
    prints identity numbers. Any office's officers print it: the group may cross at any border post."""
    from flask import current_app

    from registry.core.types import utcnow
    from registry.recruitment.group_list import group_list_content, render_group_list

    today = today or date.today()
    if actor.role not in PERSONAL_DATA_ROLES:
        raise Forbidden("Only labour officers, supervisors and administrators print group lists.")
    if not isinstance(departure_on, date):
        raise ValidationFailed({"departure_on": ["Enter the day the group leaves, as YYYY-MM-DD."]})
    members = group_members(vacancy, referral_ids)
    elsewhere = [f"{m.referral.reference} departed on {m.departed_on.isoformat()}, not {departure_on.isoformat()}."
                 for m in members if m.departed_on and m.departed_on != departure_on]
    if elsewhere:
        raise ValidationFailed({"referrals": elsewhere})
    if any(m.departed_on is None for m in members) and departure_on < today:
        raise ValidationFailed({"departure_on": [
            "Candidates who have not departed yet cannot leave on a past day: record their departure, or give "
            "today or a later day."]})
    content = group_list_content(vacancy, members, departure_on, current_app.config["OFFICE_CODE"], actor,
                                 utcnow())
    pdf = render_group_list(content)
    record_event("selection.group_list_printed", vacancy, actor=actor, details={
        "departure_on": departure_on.isoformat(), "references": [m.referral.reference for m in members]})
    return pdf, content
