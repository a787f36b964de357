"""The duplicate queue at head office: detect, link as one person, mark distinct, undo.

Linking never merges or drops a record: the later record points at the earlier (`same_as_id`), both
keep their registrations, and the link is an ordinary change of the person row, so it syncs to every
office and is undone the same way.
"""
from sqlalchemy import or_, select

from registry.audit.services import record_event
from registry.core.errors import DomainError, NotFound
from registry.core.types import utcnow
from registry.extensions import db
from registry.matching.models import DuplicateCandidate
from registry.matching.normalise import BadRecord
from registry.matching.scoring import score_pair
from registry.people.models import Person


def _ordered(a, b):
    return (a, b) if str(a) < str(b) else (b, a)


def score_of(first_id, second_id):
    """(score, reasons) of two stored people by registry.matching.scoring, or (None, None) when one of them
    is gone or cannot be compared (a name without Latin letters)."""
    first, second = db.session.get(Person, first_id), db.session.get(Person, second_id)
    if first is None or second is None:
        return None, None
    try:
        match = score_pair(first, second)
    except BadRecord:
        return None, None
    return match.score, match.reasons


def queue_pair(first_id, second_id, reason):
    """Queue a pair once, scored, so the queue can show it in order with its reasons; return the candidate
    (new or existing)."""
    first_id, second_id = _ordered(first_id, second_id)
    existing = db.session.scalar(select(DuplicateCandidate).where(
        DuplicateCandidate.first_person_id == first_id, DuplicateCandidate.second_person_id == second_id))
    if existing:
        return existing
    score, reasons = score_of(first_id, second_id)
    candidate = DuplicateCandidate(first_person_id=first_id, second_person_id=second_id, reason=reason, status="open",
                                   score=score, reasons=reasons)
    db.session.add(candidate)
    return candidate


def score_unscored(batch=500):
    """Give a score and reasons to every open pair queued without them (before pairs were scored when
    queued); return how many were scored. `flask match scan` calls it."""
    scored, last = 0, None
    while True:
        query = (select(DuplicateCandidate).where(DuplicateCandidate.status == "open",
                                                  DuplicateCandidate.score.is_(None))
                 .order_by(DuplicateCandidate.id).limit(batch))
        if last is not None:
            query = query.where(DuplicateCandidate.id > last)
        candidates = db.session.scalars(query).all()
        if not candidates:
            return scored
        for candidate in candidates:
            candidate.score, candidate.reasons = score_of(candidate.first_person_id, candidate.second_person_id)
            scored += candidate.score is not None
        last = candidates[-1].id


def detect_same_national_id(person_ids):
    """After rows arrive from offices: queue every other record holding the same national ID."""
    queued = []
    if not person_ids:
        return queued
    arrived = db.session.scalars(select(Person).where(Person.id.in_(person_ids), Person.national_id.isnot(None))).all()
    for person in arrived:
        others = db.session.scalars(select(Person).where(
            Person.national_id == person.national_id, Person.national_id_country == person.national_id_country,
            Person.id != person.id, Person.deleted_at.is_(None))).all()
        for other in others:
            queued.append(queue_pair(person.id, other.id,
                                     f"same national ID ({person.national_id_country}), registered at "
                                     f"{other.origin_office} and {person.origin_office}"))
    return queued


def open_candidates():
    """Pairs waiting for a decision, the most likely first. A pair without a score (queued on the same
    national ID before pairs were scored, or one that cannot be compared) comes first: a national ID
    shared by two records is the strongest sign there is, and an administrator should see it."""
    return db.session.scalars(select(DuplicateCandidate).where(DuplicateCandidate.status == "open")
                              .order_by(DuplicateCandidate.score.desc().nulls_first(),
                                        DuplicateCandidate.detected_at, DuplicateCandidate.id)).all()


def recent_decisions(limit=50):
    return db.session.scalars(select(DuplicateCandidate).where(DuplicateCandidate.status != "open")
                              .order_by(DuplicateCandidate.decided_at.desc()).limit(limit)).all()


def get_candidate(candidate_id):
    candidate = db.session.get(DuplicateCandidate, candidate_id)
    if candidate is None:
        raise NotFound("No such pair.")
    return candidate


def people_of(candidate):
    first = db.session.get(Person, candidate.first_person_id)
    second = db.session.get(Person, candidate.second_person_id)
    if first is None or second is None:
        raise NotFound("One of the two records no longer exists.")
    return first, second


def link(candidate, actor):
    """Same person: the record made later points at the one made first."""
    if candidate.status != "open":
        raise DomainError("This pair was already decided; undo the decision first.")
    first, second = people_of(candidate)
    keep, other = sorted((first, second), key=lambda person: (person.consent_at, str(person.id)))
    if keep.same_as_id == other.id:
        raise DomainError("These records are already linked the other way round.")
    other.same_as_id = keep.same_as_id or keep.id
    _decide(candidate, "linked", actor, {"canonical": str(other.same_as_id), "linked": str(other.id)})
    return other


def mark_distinct(candidate, actor):
    if candidate.status != "open":
        raise DomainError("This pair was already decided; undo the decision first.")
    _decide(candidate, "distinct", actor, {})


def undo(candidate, actor):
    if candidate.status == "open":
        raise DomainError("This pair has no decision to undo.")
    if candidate.status == "linked":
        for person in people_of(candidate):
            if person.same_as_id in (candidate.first_person_id, candidate.second_person_id):
                person.same_as_id = None
    previous = candidate.status
    candidate.status, candidate.decided_at, candidate.decided_by = "open", None, None
    db.session.flush()
    record_event("person.duplicate_decision_undone", actor=actor,
                 details={"pair": str(candidate.id), "was": previous})


def _decide(candidate, status, actor, details):
    candidate.status, candidate.decided_at, candidate.decided_by = status, utcnow(), actor.username
    db.session.flush()
    record_event(f"person.duplicate_{status}", actor=actor, details={"pair": str(candidate.id), **details})


def linked_ids(person):
    """Every record linked with this person (either direction)."""
    root = person.same_as_id or person.id
    return set(db.session.scalars(select(Person.id).where(or_(Person.id == root, Person.same_as_id == root))))
