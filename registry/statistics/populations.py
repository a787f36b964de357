"""What the standard tables count, and the query that selects it (docs/statistics.md states the definitions).

Each population is selected by one subquery, one row per counted unit, with the columns a table groups by:
registered outbound and returning migrant workers (each person once), referrals and placements (events),
returns recorded at a post and complaints received (events). Codes come out of the database as text:
employers and agencies by their id (32 hexadecimal digits), with codes of their own where a unit has none
(a direct hire, a return without a placement, a complaint naming no employer or no agency).
"""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, case, func, literal, select

from registry.extensions import db
from registry.people.models import Person
from registry.recruitment.models import Complaint, WorkerReturn
from registry.referrals.models import Employer, Referral, Vacancy
from registry.registration.models import Registration
from registry.statistics.sql import (
    NOT_STATED, age_group, age_on, band_of, days_between, id_text, month_of, quarter_of,
)


@dataclass(frozen=True)
class Population:
    key: str
    label: str
    unit: str  # what one count is
    person_level: bool


OUTBOUND = Population("outbound", "Registered outbound migrant workers", "persons", True)
RETURNING = Population("returning", "Registered returning migrant workers", "persons", True)
REFERRALS = Population("referrals", "Referrals issued", "referrals", False)
PLACEMENTS = Population("placements", "Placements in vacancies", "placements", False)
RETURNS = Population("returns", "Returns of registered migrant workers recorded at a post", "returns", False)
COMPLAINTS = Population("complaints", "Complaints against employers and agencies", "complaints", False)

# Codes of the units that have no employer or agency to be counted under (docs/statistics.md, code lists).
DIRECT = "DIRECT"  # a job order with no agency: the employer recruited directly
NO_PLACEMENT = "NO_PLACEMENT"  # a return with no placement linked (the worker left without one recorded)
NONE_NAMED = "NONE"  # a complaint naming no employer, or no agency

# Days from registration to departure, in bands (code, fewest, most days).
DEPARTURE_BANDS = (("D0T30", 0, 30), ("D31T60", 31, 60), ("D61T90", 61, 90), ("D91T180", 91, 180),
                   ("D181T365", 181, 365), ("D_GE366", 366, 100_000))


def person_key():
    """People linked at head office as the same person count once."""
    return func.coalesce(Person.same_as_id, Person.id)


def _registration_columns():
    return dict(
        sex=Person.sex,
        destination=Registration.destination_country,
        subdivision=func.coalesce(Registration.destination_subdivision, literal(NOT_STATED)),
        isco_major=func.coalesce(func.substr(Registration.occupation_code, 1, 1), literal(NOT_STATED)),
        isco_submajor=func.coalesce(func.substr(Registration.occupation_code, 1, 2), literal(NOT_STATED)),
        isced=func.coalesce(Person.education_level, literal(NOT_STATED)),
        isic=func.coalesce(Registration.intended_sector, literal(NOT_STATED)),
        home_area=func.coalesce(Person.home_subdivision, literal(NOT_STATED)),
        office=Registration.office_code,
    )


def _time_columns(day):
    return dict(month=month_of(day), quarter=quarter_of(day))


def _organisation(column, absent):
    """An employer's or agency's id as its code, or `absent` when there is none."""
    return case((column.is_(None), literal(absent)), else_=id_text(column))


def _population(query, columns, needed, conditions):
    return query.with_only_columns(*(columns[name].label(name) for name in needed)).where(
        and_(*conditions)).subquery("population")


def population_query(request, needed):
    """A subquery of the population, one row per counted unit, with the columns `needed`."""
    population = request.spec.population
    if population.person_level:
        return _people(request, needed)
    if population is RETURNS:
        return _returns(request, needed)
    if population is COMPLAINTS:
        return _complaints(request, needed)
    return _referrals(request, needed)


def _people(request, needed):
    population, period = request.spec.population, request.period
    home = current_app.config["HOME_COUNTRY"]
    day = Registration.registered_on if population is OUTBOUND else Registration.status_changed_on
    columns = _registration_columns()
    columns.update(age_group=age_group(age_on(Person.date_of_birth, day)), **_time_columns(day))
    conditions = [Registration.deleted_at.is_(None), Person.deleted_at.is_(None), day.between(period.start,
                                                                                               period.end),
                  Person.citizenship == home]
    if population is OUTBOUND:
        conditions.append(Registration.status != "cancelled")
    else:
        conditions.append(Registration.status == "returned")
    if request.office:
        conditions.append(Registration.office_code == request.office)
    if request.destination:
        conditions.append(Registration.destination_country == request.destination)
    # Each person once: the latest registration (or return) in the period decides their cells.
    latest = (day.desc(), Registration.registration_number.desc())
    query = (select(*(columns[name].label(name) for name in needed))
             .select_from(Registration).join(Person, Person.id == Registration.person_id).where(and_(*conditions)))
    if db.session.get_bind().dialect.name == "postgresql":
        # DISTINCT ON keeps the first row of each person in this order: the rows a rank would keep, with
        # one sort and no window over them (on a million registrations, about a third less time).
        inner = query.distinct(person_key()).order_by(person_key(), *latest).subquery("latest")
        return select(*(inner.c[name] for name in needed)).subquery("population")
    rank = func.row_number().over(partition_by=person_key(), order_by=latest)
    inner = query.add_columns(rank.label("rank")).subquery("ranked")
    return select(*(inner.c[name] for name in needed)).where(inner.c.rank == 1).subquery("population")


def _referrals(request, needed):
    """Referrals by the day issued; placements by the day placed (the day the worker departed)."""
    population, period = request.spec.population, request.period
    day = Referral.issued_on if population is REFERRALS else Referral.outcome_on
    conditions = [Referral.deleted_at.is_(None), day.between(period.start, period.end)]
    if population is PLACEMENTS:
        conditions.append(Referral.status == "placed")
    if request.office:
        conditions.append(Referral.office_code == request.office)
    columns = dict(target=Referral.kind, outcome=Referral.status, office=Referral.office_code, sex=Person.sex,
                   departure_days=band_of(days_between(Registration.registered_on, day), DEPARTURE_BANDS),
                   **_time_columns(day))
    query = select(Referral.id).select_from(Referral)
    if population is PLACEMENTS:
        query = query.join(Vacancy, Vacancy.id == Referral.vacancy_id)
        columns.update(destination=Vacancy.country,
                       isco_major=func.coalesce(func.substr(Vacancy.occupation_code, 1, 1), literal(NOT_STATED)),
                       employer=id_text(Vacancy.employer_id), agency=_organisation(Vacancy.agency_id, DIRECT))
    if request.destination and population is PLACEMENTS:
        conditions.append(Vacancy.country == request.destination)  # where the job is
    elif request.destination:
        conditions.append(Registration.destination_country == request.destination)
    if {"sex", "departure_days"} & set(needed) or (request.destination and population is REFERRALS):
        query = query.join(Registration, Registration.id == Referral.registration_id)
    if "sex" in needed:
        query = query.join(Person, Person.id == Registration.person_id)
    return _population(query, columns, needed, conditions)


def _returns(request, needed):
    """Returns recorded in the period (by the day of return) of nationals' registrations, each return once,
    with the placement that took the worker abroad when one is linked."""
    period, home = request.period, current_app.config["HOME_COUNTRY"]
    placed = Vacancy.id.is_not(None)
    returned_from = func.coalesce(Vacancy.country, Registration.destination_country)
    columns = dict(
        reason=WorkerReturn.reason, sex=Person.sex, destination=returned_from, office=Registration.office_code,
        employer=case((placed, id_text(Vacancy.employer_id)), else_=literal(NO_PLACEMENT)),
        agency=case((placed, _organisation(Vacancy.agency_id, DIRECT)), else_=literal(NO_PLACEMENT)),
        **_time_columns(WorkerReturn.returned_on))
    conditions = [WorkerReturn.deleted_at.is_(None), Registration.deleted_at.is_(None), Person.deleted_at.is_(None),
                  Person.citizenship == home, WorkerReturn.returned_on.between(period.start, period.end)]
    if request.office:
        conditions.append(Registration.office_code == request.office)
    if request.destination:
        conditions.append(returned_from == request.destination)
    query = (select(WorkerReturn.id).select_from(WorkerReturn)
             .join(Registration, Registration.id == WorkerReturn.registration_id)
             .join(Person, Person.id == Registration.person_id)
             .outerjoin(Referral, and_(Referral.id == WorkerReturn.referral_id, Referral.deleted_at.is_(None)))
             .outerjoin(Vacancy, Vacancy.id == Referral.vacancy_id))
    return _population(query, columns, needed, conditions)


def _complaints(request, needed):
    """Complaints received in the period, whatever their status now; the office that took each one."""
    period = request.period
    columns = dict(kind=Complaint.kind, status=Complaint.status, office=Complaint.office_code,
                   employer=_organisation(Complaint.employer_id, NONE_NAMED),
                   agency=_organisation(Complaint.agency_id, NONE_NAMED), **_time_columns(Complaint.received_on))
    conditions = [Complaint.deleted_at.is_(None), Complaint.received_on.between(period.start, period.end)]
    if request.office:
        conditions.append(Complaint.office_code == request.office)
    query = select(Complaint.id).select_from(Complaint)
    if request.destination:  # the employer's country: complaints naming no employer have none
        query = query.join(Employer, Employer.id == Complaint.employer_id)
        conditions.append(Employer.country == request.destination)
    return _population(query, columns, needed, conditions)
