"""Bulk generation of synthetic people, registrations and (where the database has services and vacancies)
referrals, in batches, so a million rows fit in little memory.

Rows go in through Core inserts (the ORM's per-object bookkeeping would cost minutes at this scale), so
this module writes each row's outbox entry itself, the same entry the flush hook would have written.
"""
import random
from datetime import date, timedelta

from sqlalchemy import insert, select

from registry.core.ids import new_id, stable_id
from registry.core.types import utcnow
from registry.demo import data
from registry.extensions import db
from registry.matching.keys import key_row
from registry.matching.models import PersonMatchKey
from registry.people.models import Person
from registry.people.names import name_key
from registry.recruitment.models import WorkerReturn
from registry.referrals.models import Referral, Service, Vacancy
from registry.registration.models import Registration
from registry.registration.numbering import RegistrationNumber, RegistrationSequence, raise_sequence_floor
from registry.sync.models import OutboxEntry
from registry.sync.outbox import to_json_value

BATCH = 5000
# Share of registrations made by someone already registered (people come back season after season).
RETURNING_SHARE = 0.08
STATUS_WEIGHTS = {"registered": 45, "referred": 10, "departed": 32, "returned": 9, "cancelled": 4}
RETURN_REASON_WEIGHTS = {"contract_ended": 72, "family": 9, "illness": 5, "dismissed": 5, "deported": 3, "abuse": 2,
                         "other": 4}


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class DemoGenerator:
    def __init__(self, offices, seed=2026, today=None, days=730, id_serial_start=None):
        self.rng = random.Random(seed)
        self.offices = offices
        self.today = today or date.today()
        self.days = days
        # Serial numbers in the synthetic national IDs; continuing from what is stored keeps them unique.
        self.serial = id_serial_start or 100000
        self.sequences = {}
        self.recent_people = []

    def _person(self, office):
        rng = self.rng
        sex = "F" if rng.random() < 0.38 else "M"
        province = _weighted(rng, data.PROVINCE_WEIGHTS)
        district = rng.choice(data.DISTRICTS[province])
        surname = rng.choice(data.SURNAMES)
        given = rng.choice(data.GIVEN_FEMALE if sex == "F" else data.GIVEN_MALE)
        if rng.random() < 0.3:
            given += " " + rng.choice(data.GIVEN_FEMALE if sex == "F" else data.GIVEN_MALE)
        # The age on the first day registrations can fall on: a person is an adult at every registration, as
        # the app requires (someone registered at 16 would be refused a placement at 17).
        age = int(min(64, max(18, rng.gauss(31, 9))))
        first_day = self.today - timedelta(days=self.days)
        born = date(first_day.year - age, first_day.month, min(first_day.day, 28)) - timedelta(days=rng.randrange(365))
        self.serial += 1
        code = rng.randrange(2, 86)
        letters = "ABCDEFGHJKLMNPQRSTVWXYZ"
        has_passport = rng.random() < 0.4
        languages = data.LANGUAGES_BY_PROVINCE.get(province, ("sna", "eng"))
        return {
            "id": new_id(), "version": 1, "origin_office": office, "updated_at": utcnow(), "deleted_at": None,
            "surname": surname, "given_names": given, "surname_key": name_key(surname),
            "given_names_key": name_key(given), "sex": sex, "date_of_birth": born, "citizenship": "ZW",
            "national_id": f"{code:02d}{self.serial:07d}{rng.choice(letters)}{code:02d}", "national_id_country": "ZW",
            "passport_number": f"FN{self.serial:07d}" if has_passport else None,
            "passport_country": "ZW" if has_passport else None,
            "phone": f"+26377{rng.randrange(10**6, 10**7)}" if rng.random() < 0.85 else None,
            "home_subdivision": province, "home_district": district,
            "languages": list(languages[: rng.randrange(1, len(languages) + 1)]),
            "education_level": rng.choices("0123459", weights=(4, 22, 30, 30, 6, 4, 4))[0],
            "consent_at": utcnow(), "consent_recorded_by": f"officer.{office.lower()}",
        }

    def _registration(self, person_id, office):
        rng = self.rng
        registered_on = self.today - timedelta(days=rng.randrange(self.days))
        year = registered_on.year
        sequence = self.sequences.get((office, year), 0) + 1
        self.sequences[(office, year)] = sequence
        destination = _weighted(rng, data.DESTINATIONS)
        subdivision = _weighted(rng, data.DESTINATION_SUBDIVISIONS[destination]) \
            if destination in data.DESTINATION_SUBDIVISIONS else None
        occupation = _weighted(rng, {code: spec[0] for code, spec in data.OCCUPATIONS.items()})
        _, sector, skills = data.OCCUPATIONS[occupation]
        offer = rng.random() < 0.25
        age_days = (self.today - registered_on).days
        status = _weighted(rng, STATUS_WEIGHTS) if age_days > 30 else "registered"
        changed = registered_on + timedelta(days=rng.randrange(age_days + 1)) if status != "registered" else registered_on
        return {
            "id": new_id(), "version": 1, "origin_office": office, "updated_at": utcnow(), "deleted_at": None,
            "registration_number": str(RegistrationNumber(office, year, sequence)), "person_id": person_id,
            "office_code": office, "registered_on": registered_on, "registered_by": f"officer.{office.lower()}",
            "destination_country": destination, "destination_subdivision": subdivision, "intended_sector": sector,
            "occupation_code": occupation, "other_occupation_codes": [], "skills": skills, "certificates": None,
            "prior_learning_recognised": rng.random() < 0.05, "years_experience": rng.randrange(0, 15),
            "has_job_offer": offer, "employer_name": rng.choice(data.EMPLOYERS) if offer else None,
            "agency_name": rng.choice(data.AGENCIES) if rng.random() < 0.15 else None,
            "status": status, "status_changed_on": changed,
        }

    def use_targets(self, services, vacancies):
        """Referral targets present in the database: [(id, kind)], [(id, places, placed)]."""
        self.services = services
        self.vacancies = [[vacancy_id, places, placed] for vacancy_id, places, placed in vacancies]

    def _referral(self, registration):
        """Half of the referred and departed registrations got a referral: a service, or (departed ones,
        while a vacancy has places left) a placement."""
        rng = self.rng
        if registration["status"] not in ("referred", "departed") or rng.random() < 0.5 or not self.services:
            return None
        issued = min(registration["registered_on"] + timedelta(days=rng.randrange(0, 10)), self.today)
        open_vacancies = [v for v in self.vacancies if v[2] < v[1]]
        vacancy = rng.choice(open_vacancies) if registration["status"] == "departed" and open_vacancies \
            and rng.random() < 0.4 else None
        if vacancy:
            vacancy[2] += 1
            kind, service_id, vacancy_id, status = "vacancy", None, vacancy[0], "placed"
        else:
            service_id, kind = rng.choice(self.services)
            vacancy_id = None
            status = "issued" if registration["status"] == "referred" and rng.random() < 0.5 else \
                _weighted(rng, {"attended": 70, "no_show": 15, "declined": 5, "cancelled": 10})
        outcome_on = None if status == "issued" else min(issued + timedelta(days=rng.randrange(1, 15)), self.today)
        office = registration["office_code"]
        return {
            "id": new_id(), "version": 1, "origin_office": office, "updated_at": utcnow(), "deleted_at": None,
            "registration_id": registration["id"], "registration_number": registration["registration_number"],
            "sequence": 1, "office_code": office, "kind": kind, "service_id": service_id, "vacancy_id": vacancy_id,
            "issued_on": issued, "issued_by": f"officer.{office.lower()}", "due_by": issued + timedelta(days=14),
            "note": None, "status": status, "outcome_on": outcome_on,
            "outcome_by": None if status == "issued" else f"officer.{office.lower()}", "outcome_note": None,
        }

    def _return(self, registration):
        """The record of a returned registration's return, as an officer at the post would have made it (the
        app makes a registration returned only with one)."""
        if registration["status"] != "returned":
            return None
        rng = self.rng
        office = registration["office_code"]
        owed = rng.random() < 0.08
        return {
            "id": stable_id("worker_return", str(registration["id"])), "version": 1, "origin_office": office,
            "updated_at": utcnow(), "deleted_at": None, "registration_id": registration["id"],
            "person_id": registration["person_id"], "referral_id": None,
            "returned_on": registration["status_changed_on"], "reason": _weighted(rng, RETURN_REASON_WEIGHTS),
            "wages_owed_amount": rng.randrange(5, 60) * 100 if owed else None,
            "wages_owed_currency": "ZAR" if owed else None, "note": None, "office_code": office,
            "recorded_by": f"officer.{office.lower()}",
        }

    def batch(self, size):
        people, registrations = [], []
        for _ in range(size):
            office = self.rng.choice(self.offices)
            if self.recent_people and self.rng.random() < RETURNING_SHARE:
                person_id = self.rng.choice(self.recent_people)
            else:
                person = self._person(office)
                people.append(person)
                person_id = person["id"]
            registrations.append(self._registration(person_id, office))
        self.recent_people = [person["id"] for person in people[-500:]] or self.recent_people
        referrals = [made for made in map(self._referral, registrations) if made]
        returns = [made for made in map(self._return, registrations) if made]
        return people, registrations, referrals, returns


def _outbox_rows(model, rows):
    """The entries the flush hook would write: every column of the table, absent ones as null."""
    now = utcnow()
    columns = [column.name for column in model.__table__.columns]
    return [{
        "entity": model.__tablename__, "row_id": row["id"], "operation": "insert", "version": 1, "base_version": 0,
        "office_code": row["origin_office"], "created_at": now,
        "payload": {name: to_json_value(row.get(name)) for name in columns},
    } for row in rows]


def load_demo(total, offices, seed=2026, today=None, progress=None):
    """Insert `total` registrations (and their people) in committed batches; return (people, registrations)."""
    already = db.session.scalar(select(db.func.count()).select_from(Person)) or 0
    generator = DemoGenerator(offices, seed=seed + already, today=today, id_serial_start=1_000_000 + already * 2)
    for office, year, last in db.session.execute(select(
            RegistrationSequence.office_code, RegistrationSequence.year, RegistrationSequence.last_value)):
        generator.sequences[(office, year)] = last
    placed = dict(db.session.execute(select(Referral.vacancy_id, db.func.count()).where(
        Referral.status == "placed").group_by(Referral.vacancy_id)).all())
    generator.use_targets(
        db.session.execute(select(Service.id, Service.kind).where(Service.active.is_(True))
                           .order_by(Service.name)).all(),
        [(v.id, v.places, placed.get(v.id, 0)) for v in db.session.scalars(
            select(Vacancy).where(Vacancy.status == "open").order_by(Vacancy.title))])
    made_people = made_registrations = 0
    remaining = total
    while remaining > 0:
        size = min(BATCH, remaining)
        people, registrations, referrals, returns = generator.batch(size)
        if people:
            db.session.execute(insert(Person), people)
            # Core inserts pass the flush hook by, so the identity-matching keys are written here too.
            db.session.execute(insert(PersonMatchKey), [row for row in map(key_row, people) if row is not None])
        db.session.execute(insert(Registration), registrations)
        if referrals:
            db.session.execute(insert(Referral), referrals)
        if returns:
            db.session.execute(insert(WorkerReturn), returns)
        db.session.execute(insert(OutboxEntry), _outbox_rows(Person, people) + _outbox_rows(Registration, registrations)
                           + _outbox_rows(Referral, referrals) + _outbox_rows(WorkerReturn, returns))
        for (office, year), last in generator.sequences.items():
            raise_sequence_floor(office, year, last)
        db.session.commit()
        made_people += len(people)
        made_registrations += len(registrations)
        remaining -= size
        if progress:
            progress(size)
    return made_people, made_registrations
