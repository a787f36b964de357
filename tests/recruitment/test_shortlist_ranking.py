"""The shortlist's ranking, done by the database, equals a plain Python scoring of every row (the table of
docs/recruitment.md, written out again here, independently of registry.recruitment.shortlist) on a varied set:
several occupations and other occupations, destinations, skills and certificates written every which way
(case, separators, LIKE's wildcards, characters outside ASCII), minors, removed records, earlier placements and
engagements in overlapping job orders, some ending on a shorter month's last day. Also: the query's score is
exact for texts of printable ASCII and never below Python's, and its expected end of a job order is
orders.expected_end."""
import calendar
import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import Column, Date, Integer, MetaData, Table, insert, select, text

from registry.extensions import db
from registry.recruitment.models import SelectionStep
from registry.recruitment.orders import add_months, expected_end
from registry.recruitment.selection import record_step
from registry.recruitment.shortlist import EXTRA_ROWS, MAX_LIMIT, build_shortlist
from registry.recruitment.shortlist_query import PARALLEL_SETTINGS, expected_end_sql, shortlist_queries
from registry.referrals.models import Referral, Vacancy
from registry.referrals.services import issue_referral, record_outcome
from registry.registration.models import Registration
from registry.registration.services import change_status, register
from tests.conftest import user
from tests.recruitment.helpers import candidate, make_order
from tests.referrals.helpers import make_employer
from tests.support.factories import registration_data

TODAY = date.today()
# The main job order starts on 1 March next year: a job order that began on 31 August last year and runs 18
# months ends on the last day of February, the day before (SQLite's own '+18 months' would say 3 March).
START = date(TODAY.year + 1, 3, 1)
BOUNDARY_FROM = date(TODAY.year - 1, 8, 31)

OCCUPATIONS = ["9211"] * 5 + ["9212", "9213", "9214", "9215", "6111", "6112", "9111", "8341"]
OTHERS = [[]] * 6 + [["9211"], ["9213"], ["9214", "6111"], ["6111"], ["9111"], ["6121", "9216"], ["6112", "9211"]]
DESTINATIONS = [("ZA", "ZA-LP")] * 3 + [("ZA", "ZA-GP"), ("ZA", ""), ("BW", "BW-SE"), ("BW", "")]
SKILLS = ["Fruit picking, pruning", "fruit picking; Pruning; tractor driving", "TRACTOR DRIVING", "Picking fruit",
          "fruit-picking", "pruning shears", "prunings", "fruit", "", "Irrigation, fruit picking, pruning, tractor "
          "driving", "Tractor driving (code 10)", "Vegetable growing", "vegetable GROWING, irrigation", "Cleaning"]
# Written straight into the rows: what the registration form would tidy, but a synced or older row may hold.
RAW_SKILLS = ["fruit\tpicking\x1cpruning", "Fruit picking,pruning;tractor\ndriving", "pruning\u00a0fruit picking",
              "Élagage, fruit picking", "100% pruning", "fruit_picking", "fruit%picking pruning", "pruning\x0bshears"]
CERTIFICATES = ["First aid", "first aid (Red Cross)", "Code_10 licence", "code 10 licence", "codeX10 licence",
                "First-aid", "", "FIRST AID; CODE_10 LICENCE", "code_10 LICENCE, first\u00a0aid"]
YEARS = [None, 0, 1, 2, 5, 6, 12]
# Dotted capital I: Python lower-cases it to 'i' and a combining dot, so none of these words is found, while
# the query (outside ASCII) counts every item as found: they head its order and fall once scored in Python.
DOTTED = "FRUİT PİCKİNG, PRUNİNG, TRACTOR DRİVİNG"


def _letters(number):
    return chr(ord("a") + number // 26) + chr(ord("a") + number % 26)


def person(rng, surname, **overrides):
    values = dict(surname=surname, date_of_birth=date(1970 + rng.randrange(30), 1 + rng.randrange(12),
                                                      1 + rng.randrange(28)))
    values.update(overrides)
    return values


def placed(officer, order, left_on, **person_values):
    """A candidate referred to `order` and taken through every step to departure on `left_on`; then
    registered again, available for the next season."""
    first = candidate(officer, today=left_on - timedelta(days=10), **person_values)
    referral = issue_referral(first, order, left_on, officer, today=left_on - timedelta(days=5))
    for step in ("interviewed", "medical", "documents", "contract", "departed"):
        record_step(referral, step, left_on, officer)
    return register(officer, registration_data(years_experience=3), person=first.person), referral


def signed(officer, order, **person_values):
    """A candidate under contract for `order` (referred, every step to the contract signed)."""
    registration = candidate(officer, **person_values)
    referral = issue_referral(registration, order, TODAY + timedelta(days=7), officer)
    for step in ("interviewed", "medical", "documents", "contract"):
        record_step(referral, step, TODAY, officer)
    return registration, referral


def varied_world():
    rng = random.Random(8)
    supervisor, officer = user("supervisor"), user("officer")
    employer = make_employer(supervisor)

    def order(title, **values):
        return make_order(supervisor, employer=employer, title=title, closes_on=None, **values)

    orders = {
        "main": order("Orange harvest", starts_on=START, ends_on=START + timedelta(days=180),
                      skills_required="fruit picking, pruning, tractor driving",
                      certificates_required="first aid, code_10 licence", places=20),
        "herders": order("Herders", occupation_code="9212", subdivision="", starts_on=START + timedelta(days=30),
                         ends_on=None, duration_months=4, places=5),
        "growers": order("Vegetable growers", occupation_code="6111", subdivision="ZA-GP", starts_on=START,
                         ends_on=None, duration_months=6, skills_required="vegetable growing, irrigation", places=5),
        "cleaners": order("Cleaners", occupation_code="9111", country="BW", subdivision="", starts_on=START,
                          ends_on=None, skills_required="cleaning", places=5,  # 1 of 4 is 2.5 points: Python's 2
                          certificates_required="first aid, code_10 licence, police clearance, forklift"),
    }
    engaging = {  # job orders people are placed in or under contract for
        "earlier": order("Summer pickers", starts_on=TODAY - timedelta(days=300), ends_on=TODAY - timedelta(days=120)),
        "boundary": order("Long season", starts_on=BOUNDARY_FROM, ends_on=None, duration_months=18),
        "months_overlap": order("Herding season", occupation_code="9212", starts_on=TODAY - timedelta(days=60),
                                ends_on=None, duration_months=(START.year - TODAY.year) * 12 + 8),
        "late": order("Late pickers", starts_on=START + timedelta(days=50), ends_on=START + timedelta(days=90)),
        "ends_on_start": order("Winter work", starts_on=TODAY - timedelta(days=20), ends_on=START),
        "after": order("Next year", starts_on=START + timedelta(days=400), ends_on=None),
        "open_ended": order("Standing crew", occupation_code="9111", starts_on=TODAY - timedelta(days=30),
                            ends_on=None),
    }
    registrations = []
    for number in range(70):
        country, subdivision = rng.choice(DESTINATIONS)
        occupation = rng.choice(OCCUPATIONS)
        others = [code for code in rng.choice(OTHERS) if code != occupation]
        data = dict(occupation_code=occupation, other_occupation_codes=others, destination_country=country,
                    destination_subdivision=subdivision, skills=rng.choice(SKILLS),
                    certificates=rng.choice(CERTIFICATES), years_experience=rng.choice(YEARS))
        registrations.append(candidate(officer, registration=data, **person(rng, f"Seeker{_letters(number)}")))
    for registration, text in zip(registrations, RAW_SKILLS):
        registration.skills, registration.occupation_code = text, "9211"
    for registration in registrations[len(RAW_SKILLS):len(RAW_SKILLS) + 12]:
        registration.skills, registration.certificates = DOTTED, "First aid, code_10 licence"
        registration.occupation_code, registration.years_experience = "9211", 7
        registration.destination_country, registration.destination_subdivision = "ZA", "ZA-LP"
    # Who cannot be considered: not available, removed, or under 18 on the day the work starts.
    change_status(registrations[30], "cancelled", TODAY, registrations[30].version, officer)
    change_status(registrations[31], "departed", TODAY, registrations[31].version, officer)
    change_status(registrations[32], "referred", TODAY, registrations[32].version, officer)  # still available
    registrations[33].mark_deleted()
    registrations[34].person.mark_deleted()
    eighteen = date(START.year - 18, START.month, START.day)
    for number, born in enumerate((eighteen, eighteen + timedelta(days=1), eighteen - timedelta(days=1))):
        candidate(officer, registration=dict(skills="fruit picking"), **person(rng, f"Young{_letters(number)}",
                                                                               date_of_birth=born))
    # A second registration of the same person, for another occupation.
    register(officer, registration_data(occupation_code="9213", skills="Pruning", years_experience=4),
             person=registrations[35].person)

    # Engagements.
    placed(officer, engaging["earlier"], TODAY - timedelta(days=290), **person(rng, "Before"))
    placed(officer, engaging["boundary"], TODAY - timedelta(days=40), **person(rng, "Boundary"))
    placed(officer, engaging["months_overlap"], TODAY - timedelta(days=50), **person(rng, "Herding"))
    signed(officer, engaging["late"], **person(rng, "Contracted"))
    signed(officer, engaging["ends_on_start"], **person(rng, "Winter"))
    signed(officer, engaging["after"], **person(rng, "NextYear"))
    signed(officer, engaging["open_ended"], **person(rng, "Standing"))
    placed(officer, orders["main"], TODAY - timedelta(days=3), **person(rng, "PlacedHere"))
    registrations[36].occupation_code = registrations[37].occupation_code = "9211"
    issue_referral(registrations[36], orders["main"], TODAY + timedelta(days=7), officer)
    cancelled = issue_referral(registrations[37], orders["main"], TODAY + timedelta(days=7), officer)
    record_outcome(cancelled, "cancelled", TODAY, cancelled.version, officer)
    _, removed_referral = signed(officer, engaging["late"], **person(rng, "RemovedReferral"))
    removed_referral.mark_deleted()
    _, unsigned = signed(officer, engaging["late"], **person(rng, "RemovedStep"))
    db.session.scalars(select(SelectionStep).where(SelectionStep.referral_id == unsigned.id,
                                                   SelectionStep.step == "contract")).one().mark_deleted()
    db.session.commit()
    return orders


# -- the plain Python scoring ---------------------------------------------------------------------------------

def end_of(vacancy):
    if vacancy.ends_on:
        return vacancy.ends_on
    if vacancy.duration_months:
        index = vacancy.starts_on.month - 1 + vacancy.duration_months
        year, month = vacancy.starts_on.year + index // 12, index % 12 + 1
        return date(year, month, min(vacancy.starts_on.day, calendar.monthrange(year, month)[1]))
    return None


def items(text):
    return [" ".join(part.split()) for part in (text or "").replace(";", ",").replace("\n", ",").split(",")
            if part.strip()]


def words_of(text):
    return set((text or "").lower().replace(",", " ").replace(";", " ").split())


def listed(wanted, text, points):
    if not wanted:
        return 0
    have = words_of(text)
    found = sum(1 for item in wanted if item.lower().split() and all(w in have for w in item.lower().split()))
    return round(points * found / len(wanted))


def occupation(code, own, others):
    others = [c for c in others or [] if isinstance(c, str)]
    for points, hit in ((40, own == code), (30, code in others), (20, own[:3] == code[:3]),
                        (15, any(c[:3] == code[:3] for c in others)),
                        (10, own[:2] == code[:2] or any(c[:2] == code[:2] for c in others))):
        if hit:
            return points
    return 0


def destination(vacancy, registration):
    if registration.destination_country != vacancy.country:
        return 0
    if vacancy.subdivision and registration.destination_subdivision == vacancy.subdivision:
        return 20
    if not registration.destination_subdivision or not vacancy.subdivision:
        return 15
    return 5


def plain_shortlist(vacancy, today=TODAY):
    """(ranked [(registration id, score)], considered, already referred, engaged elsewhere), from every row."""
    start, end = vacancy.starts_on, end_of(vacancy)
    day = max(start, today)
    vacancies = {v.id: v for v in db.session.scalars(select(Vacancy))}
    signed_ids = {s.referral_id for s in db.session.scalars(select(SelectionStep))
                  if s.step == "contract" and s.deleted_at is None}
    person_of = dict(db.session.execute(select(Registration.id, Registration.person_id)).all())
    engaged, referred_here = defaultdict(list), set()
    for referral in db.session.scalars(select(Referral)):
        if referral.deleted_at is not None or referral.vacancy_id is None:
            continue
        if referral.vacancy_id == vacancy.id and referral.status != "cancelled":
            referred_here.add(referral.registration_id)
        if referral.status == "placed" or (referral.status in ("issued", "attended") and referral.id in signed_ids):
            engaged[person_of[referral.registration_id]].append((vacancies[referral.vacancy_id],
                                                                 referral.status == "placed"))
    ranked, considered, referred, elsewhere = [], 0, 0, 0
    for registration in db.session.scalars(select(Registration)):
        born = registration.person.date_of_birth
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        others = [c for c in registration.other_occupation_codes or [] if isinstance(c, str)]
        group = vacancy.occupation_code[:2]
        if registration.deleted_at or registration.person.deleted_at or age < 18 \
                or registration.status not in ("registered", "referred") \
                or not (registration.occupation_code[:2] == group or any(c[:2] == group for c in others)):
            continue
        considered += 1
        mine = engaged[registration.person_id]
        if registration.id in referred_here or any(v.id == vacancy.id for v, _ in mine):
            referred += 1
            continue
        if any((end is None or v.starts_on <= end) and (end_of(v) is None or start <= end_of(v)) for v, _ in mine):
            elsewhere += 1
            continue
        points = occupation(vacancy.occupation_code, registration.occupation_code, others)
        if not points:
            continue
        years = registration.years_experience or 0
        points += (destination(vacancy, registration)
                   + listed(items(vacancy.skills_required), registration.skills, 15)
                   + listed(items(vacancy.certificates_required), registration.certificates, 10)
                   + min(years, 5) * 2
                   + (5 if any(was_placed and end_of(v) is not None and end_of(v) < start for v, was_placed in mine)
                      else 0))
        ranked.append((registration, points))
    ranked.sort(key=lambda pair: (-pair[1], pair[0].registered_on, pair[0].registration_number))
    return [(r.id, score) for r, score in ranked], considered, referred, elsewhere


# -- the tests -------------------------------------------------------------------------------------------------

def test_the_ranking_equals_a_plain_python_scoring_of_every_row(ctx):
    orders = varied_world()
    for name, vacancy in orders.items():
        expected, considered, referred, elsewhere = plain_shortlist(vacancy)
        assert len(expected) >= 5, name  # the set gives each job order candidates to rank
        for limit in (1, 3, 10, MAX_LIMIT):
            shortlist = build_shortlist(vacancy, limit=limit)
            assert [(c.registration.id, c.score) for c in shortlist.candidates] == expected[:limit], (name, limit)
            assert (shortlist.considered, shortlist.already_referred, shortlist.engaged_elsewhere) == (
                considered, referred, elsewhere), name
    main = build_shortlist(orders["main"], limit=MAX_LIMIT)
    # Each way of being left out happened in the main job order: referred to it (the open referral, and the
    # person placed in it through an earlier registration), and engaged in the late season, the winter work
    # that ends on its first day, the standing crew and the herding season.
    assert (main.already_referred, main.engaged_elsewhere) == (2, 4)
    reasons = {c.registration.person.surname: c.reason_text for c in main.candidates}
    assert "placed before" in reasons["Before"] and "placed before" in reasons["Boundary"]
    assert {"RemovedReferral", "RemovedStep", "NextYear"} <= set(reasons)


def query_scores(vacancy):
    """[(registration id, score)] in the ranking query's order, for every registration it ranks."""
    day = max(vacancy.starts_on, TODAY)
    _, ranking = shortlist_queries(vacancy, vacancy.starts_on, expected_end(vacancy),
                                   date(day.year - 18, day.month, day.day), db.session.get_bind().dialect.name)
    return [(row.id, row.score) for row in db.session.execute(ranking)]


def test_the_query_scores_printable_ascii_exactly_and_never_below_python(ctx):
    orders = varied_world()
    texts = {r.id: (r.skills or "") + (r.certificates or "") for r in db.session.scalars(select(Registration))}
    overrated = 0
    for name, vacancy in orders.items():
        rows = query_scores(vacancy)
        queried, expected = dict(rows), dict(plain_shortlist(vacancy)[0])
        assert len(queried) == len(rows) and set(queried) == set(expected), name
        wide = {row_id for row_id in queried if any(not " " <= char <= "~" for char in texts[row_id])}
        assert {row_id: queried[row_id] for row_id in queried if row_id not in wide} == \
            {row_id: expected[row_id] for row_id in expected if row_id not in wide}, name
        assert all(queried[row_id] >= expected[row_id] for row_id in wide), name
        overrated += sum(1 for row_id in wide if queried[row_id] > expected[row_id])
    assert overrated > EXTRA_ROWS + 2
    # The dotted capitals head the main job order's ranking in the query, more of them than the rows read
    # beyond a limit of 1, and each scores less in Python: so build_shortlist had to read on (the first test
    # checks what it found).
    main, expected = query_scores(orders["main"]), dict(plain_shortlist(orders["main"])[0])
    assert all(texts[row_id] == DOTTED + "First aid, code_10 licence" and score > expected[row_id]
               for row_id, score in main[:EXTRA_ROWS + 2])
    # Python's round takes a half to the even number: one of the cleaners' four certificates is 2 points.
    cleaners = dict(plain_shortlist(orders["cleaners"])[0])
    assert any(score % 5 == 2 for score in cleaners.values())


def test_the_expected_end_in_sql_is_orders_expected_end(ctx):
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(0, 800, 3)]
    days += [date(year, month, calendar.monthrange(year, month)[1]) for year in (2023, 2024) for month in range(1, 13)]
    cases = [(day, None, months) for day in days for months in (1, 2, 6, 13, 18, 60)]
    cases += [(day, day + timedelta(days=40), 3) for day in days[:20]] + [(day, None, None) for day in days[:20]]
    table = Table("job_order_dates", MetaData(), Column("number", Integer, primary_key=True),
                  Column("starts_on", Date), Column("ends_on", Date), Column("duration_months", Integer),
                  prefixes=["TEMPORARY"])
    table.create(db.session.connection())
    db.session.execute(insert(table), [dict(number=number, starts_on=starts_on, ends_on=ends_on, duration_months=months)
                                       for number, (starts_on, ends_on, months) in enumerate(cases)])
    dialect = db.session.get_bind().dialect.name
    found = dict(db.session.execute(select(table.c.number, expected_end_sql(table.c, dialect))).all())

    class Order:
        def __init__(self, starts_on, ends_on, duration_months):
            self.starts_on, self.ends_on, self.duration_months = starts_on, ends_on, duration_months

    assert found == {number: expected_end(Order(*case)) for number, case in enumerate(cases)}
    assert add_months(date(2023, 8, 31), 18) == date(2025, 2, 28) == found[cases.index((date(2023, 8, 31), None, 18))]


def test_a_job_order_no_one_fits_has_an_empty_shortlist(ctx):
    supervisor = user("supervisor")
    candidate(user("officer"))  # a crop farm labourer: another sub-major group
    vacancy = make_order(supervisor, occupation_code="0110", title="Officers")
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    settings = [text(f"SELECT current_setting('{name}')") for name in PARALLEL_SETTINGS] if postgresql else []
    before = [db.session.scalar(setting) for setting in settings]
    shortlist = build_shortlist(vacancy, limit=1)
    assert (shortlist.candidates, shortlist.considered, shortlist.already_referred,
            shortlist.engaged_elsewhere) == ([], 0, 0, 0)
    assert build_shortlist(make_order(supervisor), limit=1).considered == 1
    # The parallel settings were for the shortlist's statements only: the transaction has its own back.
    assert [db.session.scalar(setting) for setting in settings] == before
    assert not postgresql or before != list(PARALLEL_SETTINGS.values())
