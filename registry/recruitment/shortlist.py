"""Shortlists: the registered job seekers who fit a job order, ranked, each ranking explained in words.

Who is considered: registrations that are registered or referred (not departed, returned or cancelled),
whose main or other occupation is in the job order's ISCO-08 sub-major group, of people 18 or older on the
day the work starts. Who is left out: people already referred to this job order, and people placed (or
with a contract signed) in another job order whose period overlaps this one, so no one is offered twice
for the same season. The score (0-100) adds up occupation, destination, skills, certificates and
experience (docs/recruitment.md has the table). The database does the filtering, counting, scoring and
ordering (shortlist_query.py); score_candidate is the rule, and gives the reasons of the candidates shown."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from registry.codes.isco import occupation_title, occupation_titles
from registry.core.errors import DomainError, ValidationFailed
from registry.extensions import db
from registry.recruitment.models import SelectionStep
from registry.recruitment.orders import MIN_WORKING_AGE, add_years, expected_end, required_items
from registry.referrals.models import OPEN_STATUSES, Referral, Vacancy
from registry.registration.models import Registration

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
AVAILABLE_STATUSES = ("registered", "referred")

# Points per criterion; the most a candidate can score is 100.
OCCUPATION_POINTS = {"unit": 40, "other_unit": 30, "minor": 20, "other_minor": 15, "sub_major": 10}
DESTINATION_POINTS = {"subdivision": 20, "country": 15, "other_subdivision": 5}
SKILL_POINTS, CERTIFICATE_POINTS = 15, 10
POINTS_PER_YEAR, MAX_YEARS = 2, 5
PLACED_BEFORE_POINTS = 5


@dataclass(frozen=True)
class Placement:
    """An earlier or current engagement of a person in a job order: placed, or a contract signed."""
    person_id: object
    vacancy_id: object
    employer: str
    starts_on: date
    ends_on: date | None
    on: date  # placed or contract signed on
    placed: bool

    def overlaps(self, start, end):
        return (end is None or self.starts_on <= end) and (self.ends_on is None or start <= self.ends_on)


@dataclass
class Candidate:
    registration: Registration
    score: int
    reasons: list

    @property
    def reason_text(self):
        return "; ".join(self.reasons)


@dataclass
class Shortlist:
    vacancy: Vacancy
    placed: int
    candidates: list
    considered: int = 0
    already_referred: int = 0
    engaged_elsewhere: int = 0
    notes: list = field(default_factory=list)

    @property
    def places_left(self):
        return max(self.vacancy.places - self.placed, 0)


def _title(code, titles=None):
    title = occupation_title(code) if titles is None else titles.get(code)
    return f"{code} {title.lower()}" if title else code


def _occupation(vacancy, registration, titles=None):
    code = vacancy.occupation_code
    others = [c for c in (registration.other_occupation_codes or []) if isinstance(c, str)]
    own = registration.occupation_code or ""
    if own == code:
        return OCCUPATION_POINTS["unit"], f"same occupation ({_title(code, titles)})"
    if code in others:
        return OCCUPATION_POINTS["other_unit"], f"also does this work ({_title(code, titles)})"
    if own[:3] == code[:3]:
        return OCCUPATION_POINTS["minor"], f"related occupation ({_title(own, titles)})"
    near = next((c for c in others if c[:3] == code[:3]), None)
    if near:
        return OCCUPATION_POINTS["other_minor"], f"also does related work ({_title(near, titles)})"
    if own[:2] == code[:2]:
        return OCCUPATION_POINTS["sub_major"], f"occupation in the same field ({_title(own, titles)})"
    near = next((c for c in others if c[:2] == code[:2]), None)
    if near:
        return OCCUPATION_POINTS["sub_major"], f"also does work in the same field ({_title(near, titles)})"
    return 0, None


def _destination(vacancy, registration):
    country, subdivision = registration.destination_country, registration.destination_subdivision
    if country != vacancy.country:
        return 0, f"wants to go to {country}, not {vacancy.country}"
    if vacancy.subdivision and subdivision == vacancy.subdivision:
        return DESTINATION_POINTS["subdivision"], f"wants to go to {subdivision}"
    if not subdivision or not vacancy.subdivision:
        return DESTINATION_POINTS["country"], f"wants to go to {country}"
    return DESTINATION_POINTS["other_subdivision"], f"wants to go to {country}, to {subdivision}"


def _matches(wanted, text):
    """The wanted items found in a free-text list (all of an item's words present, in any case)."""
    words = set(" ".join((text or "").lower().replace(",", " ").replace(";", " ").split()).split())
    found = []
    for item in wanted:
        item_words = item.lower().split()
        if item_words and all(word in words for word in item_words):
            found.append(item)
    return found


def _listed(vacancy_text, person_text, points, singular, plural):
    wanted = required_items(vacancy_text)
    if not wanted:
        return 0, None
    found = _matches(wanted, person_text)
    if not found:
        return 0, f"none of the {plural} asked for"
    score = round(points * len(found) / len(wanted))
    return score, f"{singular if len(found) == 1 else plural}: {', '.join(found)} ({len(found)} of {len(wanted)})"


def score_candidate(vacancy, registration, placements_before, titles=None):
    """(score 0-100, reasons in words, fits) for one registration and a job order; `fits` is false when the
    occupation is unrelated. `placements_before`: the person's earlier placements (Placement). `titles`:
    {ISCO-08 code: title} read beforehand for many candidates at once (occupation_titles), else read here."""
    occupation, why = _occupation(vacancy, registration, titles)
    if not occupation:
        return 0, [], False
    score, reasons = occupation, [why]
    for points, reason in (_destination(vacancy, registration),
                           _listed(vacancy.skills_required, registration.skills, SKILL_POINTS, "skill",
                                   "skills"),
                           _listed(vacancy.certificates_required, registration.certificates, CERTIFICATE_POINTS,
                                   "certificate", "certificates")):
        score += points
        if reason:
            reasons.append(reason)
    years = registration.years_experience or 0
    if years:
        score += min(years, MAX_YEARS) * POINTS_PER_YEAR
        reasons.append(f"{years} year's experience" if years == 1 else f"{years} years' experience")
    if placements_before:
        score += PLACED_BEFORE_POINTS
        last = max(placements_before, key=lambda p: p.on)
        years_placed = sorted({p.on.year for p in placements_before})
        reasons.append(f"placed before in {', '.join(str(y) for y in years_placed)} ({last.employer})")
    return score, reasons, True


def engagements_of(person_ids=None):
    """Placements and signed contracts in job orders, by person: {person_id: [Placement]}."""
    signed = exists().where(SelectionStep.referral_id == Referral.id, SelectionStep.step == "contract",
                            SelectionStep.deleted_at.is_(None))
    query = (select(Registration.person_id, Referral.vacancy_id, Referral.status, Referral.outcome_on, Vacancy)
             .join(Referral.registration).join(Referral.vacancy)
             .where(Referral.deleted_at.is_(None), Referral.vacancy_id.is_not(None),
                    or_(Referral.status == "placed", and_(Referral.status.in_(OPEN_STATUSES), signed))))
    if person_ids is not None:
        query = query.where(Registration.person_id.in_(list(person_ids)))
    result = {}
    for person_id, vacancy_id, status, outcome_on, vacancy in db.session.execute(query):
        result.setdefault(person_id, []).append(Placement(
            person_id=person_id, vacancy_id=vacancy_id, employer=vacancy.employer.name,
            starts_on=vacancy.starts_on, ends_on=expected_end(vacancy),
            on=outcome_on if status == "placed" and outcome_on else vacancy.starts_on, placed=status == "placed"))
    return result


def check_limit(limit):
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": [f"Give how many candidates to list: a whole number from 1 to "
                                          f"{MAX_LIMIT}."]})
    return limit


# Rows read beyond the `limit` asked for, so that a few scored lower in Python than in SQL (a text outside
# printable ASCII; shortlist_query) rarely send the query round again. Rows are scored in Python in batches.
EXTRA_ROWS, SCORE_BATCH = 10, 1000


def _rank_key(candidate):
    registration = candidate.registration
    return -candidate.score, registration.registered_on, registration.registration_number


def _score_rows(vacancy, ids, start, end):
    """{registration id: Candidate, or None when it does not fit after all} for rows of the ranking query,
    scored by score_candidate with the person's earlier placements."""
    registrations = db.session.scalars(select(Registration).options(joinedload(Registration.person))
                                       .where(Registration.id.in_(ids))).all()
    engagements = engagements_of({r.person_id for r in registrations})
    titles = occupation_titles({vacancy.occupation_code}.union(
        *({r.occupation_code, *(c for c in r.other_occupation_codes or () if isinstance(c, str))}
          for r in registrations)))
    scored = dict.fromkeys(ids)
    for registration in registrations:
        engaged = engagements.get(registration.person_id, ())
        if any(p.vacancy_id == vacancy.id or p.overlaps(start, end) for p in engaged):
            continue  # the query left them out already; should the two ever disagree, the rule here wins
        before = [p for p in engaged if p.placed and p.ends_on is not None and p.ends_on < start]
        score, reasons, fits = score_candidate(vacancy, registration, before, titles)
        if fits:
            scored[registration.id] = Candidate(registration, score, reasons)
    return scored


def build_shortlist(vacancy, limit=DEFAULT_LIMIT, today=None):
    """The ranked candidates for a job order, best first, at most `limit` of them.

    The database filters, leaves out, counts and scores everyone considered, and orders them
    (shortlist_query); the rows it puts first are scored again here, which gives each its reasons in words,
    and read on until no row further down could still rank among the first `limit`."""
    from registry.recruitment.shortlist_query import parallel_reads, shortlist_queries
    from registry.referrals.targets import placed_count

    check_limit(limit)
    today = today or date.today()
    start, end = vacancy.starts_on, expected_end(vacancy)
    born_by = add_years(max(start, today), -MIN_WORKING_AGE)
    dialect = db.session.get_bind().dialect.name
    counts, ranking = shortlist_queries(vacancy, start, end, born_by, dialect)
    with parallel_reads(dialect):
        considered, referred, engaged = db.session.execute(counts).one()
    shortlist = Shortlist(vacancy=vacancy, placed=placed_count(vacancy), candidates=[], considered=considered,
                          already_referred=referred, engaged_elsewhere=engaged)
    scored, wanted = {}, limit + EXTRA_ROWS
    while True:
        with parallel_reads(dialect):
            rows = db.session.execute(ranking.limit(wanted + 1)).all()
        new = [row.id for row in rows[:wanted] if row.id not in scored]
        for first in range(0, len(new), SCORE_BATCH):
            scored.update(_score_rows(vacancy, new[first:first + SCORE_BATCH], start, end))
        ranked = sorted((scored[row.id] for row in rows[:wanted] if scored[row.id]), key=_rank_key)
        # The rows come best score first, and a row's score here is at most the query's. Once the last of the
        # first `limit` ranks before the next row as the query scored it, no row further down can overtake it.
        if len(rows) <= wanted:
            break
        following = rows[wanted]
        if len(ranked) >= limit and _rank_key(ranked[limit - 1]) < (
                -following.score, following.registered_on, following.registration_number):
            break
        wanted *= 4
    shortlist.candidates = ranked[:limit]
    return shortlist


def refer_candidates(vacancy, registrations, due_by, actor, today=None):
    """Refer several candidates to a job order at once: all of them, or (if any is refused) none, with every
    refusal named."""
    from registry.referrals.services import issue_referral

    if not registrations:
        raise ValidationFailed({"candidates": ["Choose at least one candidate to refer."]})
    problems, referrals = [], []
    savepoint = db.session.begin_nested()
    for registration in registrations:
        try:
            with db.session.begin_nested():
                referrals.append(issue_referral(registration, vacancy, due_by, actor, today=today))
        except DomainError as exc:
            problems.extend(f"{registration.registration_number}: {message}" for message in exc.messages)
    if problems:
        savepoint.rollback()
        raise ValidationFailed({"candidates": problems + ["No one was referred: refer the others again."]})
    savepoint.commit()
    return referrals
