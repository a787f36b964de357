"""The shortlist's queries: the database picks the registrations that fit a job order, leaves out who is already
referred to it or engaged elsewhere at the same time and counts them (one statement), and scores the rest by the
table of docs/recruitment.md and orders them best first (another), so that a shortlist among a million
registered people takes well under a second (issue 8; bench/shortlist.py measures it).

registry.recruitment.shortlist.score_candidate stays the rule: the score computed here equals it, except where
a skills or certificates text holds a character outside printable ASCII (a letter with an accent, a tab). There
Python's case folding and word splitting (str.lower, str.split) decide, which no SQL function repeats on both
backends, so such a row is given every item asked for: an upper bound. build_shortlist scores the rows it reads
again in Python and reads on until no row further down could still rank among them.

Indexes: registry/recruitment/indexes.py (migration 0013).
"""
from contextlib import contextmanager

from sqlalchemy import (
    Date, Interval, String, and_, case, cast, func, literal, not_, or_, select, text, true, type_coerce, union_all,
)
from sqlalchemy.orm import aliased

from registry.extensions import db
from registry.people.models import Person
from registry.recruitment.models import SelectionStep
from registry.recruitment.orders import required_items
from registry.recruitment.shortlist import (
    AVAILABLE_STATUSES, CERTIFICATE_POINTS, DESTINATION_POINTS, MAX_YEARS, OCCUPATION_POINTS, PLACED_BEFORE_POINTS,
    POINTS_PER_YEAR, SKILL_POINTS,
)
from registry.referrals.models import OPEN_STATUSES, Referral, Vacancy
from registry.registration.models import Registration


def _escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _constant(value):
    """A value written into the statement, not bound: the partial indexes' conditions must be seen as such."""
    return literal(value, literal_execute=True)


# -- skills and certificates -----------------------------------------------------------------------------
# The registrations' texts, skills and certificates, are prepared once per row (in the pool's select list):
# `<name>_odd`, whether the text holds a character outside printable ASCII (a space to a tilde), and
# `<name>_words`, ' ' + the text in lower case with its commas and semicolons made spaces + ' '. In a text of
# printable ASCII, str.lower() folds A-Z only and str.split() splits on the space only, so word w is one of
# _matches' words exactly when ' w ' is in `<name>_words`. Any other text is given every item: an upper bound.
LISTED = (("skills", "skills_required", SKILL_POINTS), ("certificates", "certificates_required", CERTIFICATE_POINTS))


def _prepared_text(column, name, dialect):
    """The two prepared columns of a free-text column."""
    if dialect == "postgresql":
        # COLLATE "C": lower() folds A-Z only, and the range is one of code points, whatever the locale.
        odd = column.collate("C").op("~")("[^ -~]")
        lowered = func.lower(column.collate("C"))
    else:
        odd = column.op("GLOB")("*[^ -~]*")
        lowered = func.lower(column)  # SQLite's own lower() folds A-Z only
    spaced = func.replace(func.replace(lowered, ",", " "), ";", " ")
    words = type_coerce(literal(" "), String).concat(spaced).concat(" ")
    return odd.label(f"{name}_odd"), words.label(f"{name}_words")


def listed_points(words, odd, wanted, points):
    """The points for the wanted items found in a prepared text: round(points * found / wanted), as
    score_candidate gives them; every item counts as found in an odd text (an upper bound)."""
    if not wanted:
        return literal(0)
    found = literal(0)
    for item in wanted:
        item_words = item.lower().split()
        if item_words:  # an item without words is never found (_matches)
            found = found + case((and_(*(words.like(f"% {_escape_like(word)} %", escape="\\")
                                         for word in item_words)), 1), else_=0)
    found = case((odd, len(wanted)), else_=found)
    # Python's round (to even on a half), worked out here for each possible count.
    return case({count: round(points * count / len(wanted)) for count in range(len(wanted) + 1)}, value=found,
                else_=0)


# -- occupation and destination ---------------------------------------------------------------------------

def occupation_points(code, own, others):
    """The occupation's points as shortlist._occupation gives them; `others`: the JSON list as text, where a
    code is written in double quotes (a code found there that Python would not count only raises the bound)."""
    def among_others(prefix, whole=False):
        return others.like(f'%"{_escape_like(prefix)}{chr(34) if whole else ""}%', escape="\\")

    return case(
        (own == code, OCCUPATION_POINTS["unit"]),
        (among_others(code, whole=True), OCCUPATION_POINTS["other_unit"]),
        (func.substr(own, 1, 3) == code[:3], OCCUPATION_POINTS["minor"]),
        (among_others(code[:3]), OCCUPATION_POINTS["other_minor"]),
        (or_(func.substr(own, 1, 2) == code[:2], among_others(code[:2])), OCCUPATION_POINTS["sub_major"]),
        else_=0)


def destination_points(vacancy, country, subdivision):
    """The destination's points as shortlist._destination gives them."""
    elsewhere = or_(country.is_(None), country != vacancy.country)
    if not vacancy.subdivision:
        return case((elsewhere, 0), else_=DESTINATION_POINTS["country"])
    return case((elsewhere, 0), (subdivision == vacancy.subdivision, DESTINATION_POINTS["subdivision"]),
                (or_(subdivision.is_(None), subdivision == ""), DESTINATION_POINTS["country"]),
                else_=DESTINATION_POINTS["other_subdivision"])


# -- engagements -------------------------------------------------------------------------------------------

def expected_end_sql(vacancy, dialect):
    """orders.expected_end in SQL: the end date, else the start plus the duration in months (on a shorter
    month's last day when the day does not exist there), else null."""
    months = vacancy.duration_months
    if dialect == "postgresql":
        # date + interval keeps the day or takes the month's last one, as add_months does.
        added = cast(vacancy.starts_on + type_coerce(func.make_interval(0, months), Interval), Date)
    else:
        # SQLite's '+N months' would run on into the next month (31 January + 1 month = 3 March): go to the
        # first of the month N months on, then the day, but no further than that month's last day.
        first = func.date(vacancy.starts_on, "start of month", func.printf("%d months", months))
        day = func.date(first, func.printf("%d days", func.strftime("%d", vacancy.starts_on) - 1))
        last = func.date(vacancy.starts_on, "start of month", func.printf("%d months", months + 1), "-1 day")
        added = func.min(day, last)
    return func.coalesce(vacancy.ends_on, case((months != 0, type_coerce(added, Date)), else_=None))


def engagements_query(vacancy, start, end, dialect):
    """Per person with any placement or signed contract in a job order: whether one is in this job order
    (`here`), in another one overlapping its period (`overlapping`), or a placement in another one that
    ended before this one starts (`before`); as shortlist.engagements_of and Placement.overlaps decide."""
    other = aliased(Vacancy)
    other_end = expected_end_sql(other, dialect)
    signed = select(SelectionStep.id).where(SelectionStep.referral_id == Referral.id, SelectionStep.step == "contract",
                                            SelectionStep.deleted_at.is_(None)).exists()
    elsewhere = Referral.vacancy_id != vacancy.id
    overlapping = and_(elsewhere, other.starts_on <= end if end is not None else true(),
                       or_(other_end.is_(None), other_end >= start))
    before = and_(elsewhere, Referral.status == "placed", other_end.is_not(None), other_end < start)

    def flag(condition):
        return func.max(case((condition, 1), else_=0))

    return (select(Registration.person_id.label("person_id"), flag(Referral.vacancy_id == vacancy.id).label("here"),
                   flag(overlapping).label("overlapping"), flag(before).label("before"))
            .select_from(Referral).join(Registration, Registration.id == Referral.registration_id)
            .join(other, other.id == Referral.vacancy_id)
            .where(Referral.deleted_at.is_(None), Referral.vacancy_id.is_not(None),
                   or_(Referral.status == "placed", and_(Referral.status.in_(OPEN_STATUSES), signed)))
            .group_by(Registration.person_id))


# -- the pool and the ranking -------------------------------------------------------------------------------

def _group_bounds(group):
    """Conditions that a code starting with `group` meets, for an index range scan; the LIKE decides."""
    code = Registration.occupation_code
    conditions = [code >= group]
    if group.isdigit() and len(group) == 2 and group != "99":
        # Between '92' and '93' in any collation, for codes that start with two digits.
        conditions.append(code < f"{int(group) + 1:02d}")
    conditions.append(code.like(f"{_escape_like(group)}%", escape="\\"))
    return and_(*conditions)


def pool_query(vacancy, born_by, dialect, prepared=()):
    """The registrations considered: available, of a person 18 by `born_by` and not removed, with the main
    occupation or another one in the job order's sub-major group; with the prepared texts of the columns named
    in `prepared` (skills, certificates). Two parts, so that each reads its own index: the main occupation in
    the group, or else one of the others."""
    group = vacancy.occupation_code[:2]
    others = cast(Registration.other_occupation_codes, String)
    not_eligible = select(Person.id).where(Person.date_of_birth > born_by).union_all(
        select(Person.id).where(Person.deleted_at.is_not(None)))
    available = [Registration.deleted_at.is_(None),
                 Registration.status.in_([_constant(status) for status in AVAILABLE_STATUSES]),
                 Registration.person_id.not_in(not_eligible)]
    columns = [Registration.id, Registration.person_id, Registration.registered_on, Registration.registration_number,
               Registration.occupation_code, others.label("others"), Registration.destination_country,
               Registration.destination_subdivision, Registration.years_experience]
    for name in prepared:
        columns += _prepared_text(getattr(Registration, name), name, dialect)
    in_group = _group_bounds(group)
    main = select(*columns).where(*available, in_group)
    other = select(*columns).where(*available, others != _constant("[]"), not_(in_group),
                                   others.like(f'%"{_escape_like(group)}%', escape="\\"))
    return union_all(main, other).subquery("candidate")


def shortlist_queries(vacancy, start, end, born_by, dialect):
    """(counts, ranking) for a job order running from `start` to `end` (None: open-ended), of people born by
    `born_by`. counts: one row, `considered`, `referred` (already referred to this job order) and `engaged`
    (engaged elsewhere in an overlapping period). ranking: the registrations ranked, best first (score, then
    the earlier registration, then the registration number), as `id`, `registered_on`, `registration_number`,
    `score`; add a limit."""
    asked = {name: (items, points) for name, required, points in LISTED
             if (items := required_items(getattr(vacancy, required)))}
    pool = pool_query(vacancy, born_by, dialect, prepared=asked)
    engaged = engagements_query(vacancy, start, end, dialect).subquery("engaged")
    here = (select(Referral.registration_id).where(Referral.vacancy_id == vacancy.id, Referral.deleted_at.is_(None),
                                                   Referral.status != "cancelled")
            .distinct().subquery("referred_here"))
    rows = pool.outerjoin(engaged, engaged.c.person_id == pool.c.person_id).outerjoin(
        here, here.c.registration_id == pool.c.id)
    referred = or_(here.c.registration_id.is_not(None), func.coalesce(engaged.c.here, 0) == 1)
    overlapping = func.coalesce(engaged.c.overlapping, 0) == 1
    counts = select(func.count().label("considered"),
                    func.coalesce(func.sum(case((referred, 1), else_=0)), 0).label("referred"),
                    func.coalesce(func.sum(case((referred, 0), (overlapping, 1), else_=0)), 0).label("engaged")
                    ).select_from(rows)

    years = func.coalesce(pool.c.years_experience, 0)
    score = (occupation_points(vacancy.occupation_code, pool.c.occupation_code, pool.c.others)
             + destination_points(vacancy, pool.c.destination_country, pool.c.destination_subdivision)
             + sum((listed_points(pool.c[f"{name}_words"], pool.c[f"{name}_odd"], items, points)
                   for name, (items, points) in asked.items()), literal(0))
             + case((years > MAX_YEARS, MAX_YEARS * POINTS_PER_YEAR), else_=years * POINTS_PER_YEAR)
             + case((func.coalesce(engaged.c.before, 0) == 1, PLACED_BEFORE_POINTS), else_=0)).label("score")
    # Ties go by the registration number as Python compares strings: by code point, whatever the locale.
    number = pool.c.registration_number.collate("C") if dialect == "postgresql" else pool.c.registration_number
    ranking = (select(pool.c.id, pool.c.registered_on, pool.c.registration_number, score).select_from(rows)
               .where(not_(referred), not_(overlapping))
               .order_by(score.desc(), pool.c.registered_on, number))
    return counts, ranking


# PostgreSQL's default costs keep statements of this size to one process; with these the planner shares the
# reading and preparing of a large occupation group among parallel workers (about a third less time for the
# largest group of bench/shortlist.py's million registrations). Set for the shortlist's two statements only.
PARALLEL_SETTINGS = {"parallel_setup_cost": "10", "parallel_tuple_cost": "0.001"}


@contextmanager
def parallel_reads(dialect):
    """Run the statements inside with PARALLEL_SETTINGS (PostgreSQL; nothing elsewhere), then put the
    transaction's settings back as they were (after an error, the rollback does)."""
    if dialect != "postgresql":
        yield
        return
    set_config = text("SELECT set_config(:name, :value, true)")
    before = {name: db.session.scalar(text("SELECT current_setting(:name)"), {"name": name})
              for name in PARALLEL_SETTINGS}
    for name, value in PARALLEL_SETTINGS.items():
        db.session.execute(set_config, {"name": name, "value": value})
    yield
    for name, value in before.items():
        db.session.execute(set_config, {"name": name, "value": value})
