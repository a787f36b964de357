"""People: validate, create, change, search, and warn of likely duplicates before a second record is made."""
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import date

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from registry.audit.services import record_event
from registry.codes.classifications import ISCED_LEVELS
from registry.codes.geography import is_country, is_language, is_subdivision_of
from registry.core.access import can_change_office_records
from registry.core.errors import DomainError, Forbidden, NotFound, StaleVersion, ValidationFailed
from registry.core.ids import new_id
from registry.core.types import utcnow
from registry.extensions import db
from registry.people.identifiers import compact, normalise_national_id, normalise_passport
from registry.people.models import SEXES, Person
from registry.people.names import clean_name, name_key
from registry.people.phones import normalise_phone

MIN_AGE, MAX_AGE = 15, 80
SEARCH_LIMIT = 50
# How many likely matches an officer is shown before a new person is recorded (best first).
LIKELY_MATCHES = 5


@dataclass
class PersonData:
    """What an officer enters about a person, before validation (strings as typed)."""

    surname: str = ""
    given_names: str = ""
    sex: str = ""
    date_of_birth: date | None = None
    citizenship: str = "ZW"
    national_id: str = ""
    passport_number: str = ""
    passport_country: str = ""
    phone: str = ""
    home_subdivision: str = ""
    home_district: str = ""
    languages: list = field(default_factory=list)
    education_level: str = ""
    consent: bool = False


class DuplicateNationalId(DomainError):
    def __init__(self, existing):
        self.existing = existing
        super().__init__(
            "A person with this national ID is already registered; open their record and add a registration "
            "there instead of creating a second person.",
            field="national_id",
        )


class PossibleDuplicates(DomainError):
    def __init__(self, candidates):
        self.candidates = candidates  # [registry.matching.scoring.Match], best first, each with its .person
        super().__init__(
            "Someone already registered may be this person. Check the people listed: attach the registration "
            "to the same person, or confirm that this is someone else.",
        )


def age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate_person(data, today=None):
    """Return the normalised column values, or raise ValidationFailed with a message for every bad field."""
    today = today or date.today()
    errors, values = {}, {}

    def check(name, fn):
        try:
            values[name] = fn()
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))

    check("surname", lambda: clean_name(data.surname, "surname"))
    check("given_names", lambda: clean_name(data.given_names, "given names"))
    if data.sex not in SEXES:
        errors["sex"] = ["Choose female or male."]
    else:
        values["sex"] = data.sex
    born = data.date_of_birth
    if not isinstance(born, date):
        errors["date_of_birth"] = ["Enter the date of birth as YYYY-MM-DD."]
    elif born > today:
        errors["date_of_birth"] = ["The date of birth is in the future."]
    elif not MIN_AGE <= age_on(born, today) <= MAX_AGE:
        errors["date_of_birth"] = [
            f"The person would be {age_on(born, today)}: registration is for people aged {MIN_AGE} to {MAX_AGE}."
        ]
    else:
        values["date_of_birth"] = born
    if not is_country(data.citizenship):
        errors["citizenship"] = ["Choose a country of citizenship."]
    else:
        values["citizenship"] = data.citizenship
    values["national_id"] = values["national_id_country"] = None
    if (data.national_id or "").strip():
        check("national_id", lambda: normalise_national_id(data.national_id, data.citizenship))
        values["national_id_country"] = data.citizenship
    values["passport_number"] = values["passport_country"] = None
    if (data.passport_number or "").strip():
        check("passport_number", lambda: normalise_passport(data.passport_number))
        country = data.passport_country or data.citizenship
        if not is_country(country):
            errors["passport_country"] = ["Choose the country that issued the passport."]
        values["passport_country"] = country
    if not values.get("national_id") and not values.get("passport_number") and "national_id" not in errors \
            and "passport_number" not in errors:
        errors["national_id"] = ["Enter a national ID or a passport number, so the person can be found again."]
    values["phone"] = None
    if (data.phone or "").strip():
        check("phone", lambda: normalise_phone(data.phone, data.citizenship if is_country(data.citizenship) else "ZW"))
    values["home_subdivision"] = data.home_subdivision or None
    if data.home_subdivision and not is_subdivision_of(data.home_subdivision, data.citizenship):
        errors["home_subdivision"] = [f"{data.home_subdivision} is not a province or region of {data.citizenship}."]
    district = " ".join((data.home_district or "").split())
    if len(district) > 80:
        errors["home_district"] = ["The district name is longer than 80 characters."]
    values["home_district"] = district or None
    unknown = [code for code in data.languages if not is_language(code)]
    if unknown:
        errors["languages"] = [f"Unknown language code(s): {', '.join(unknown)}."]
    values["languages"] = sorted(set(data.languages))
    if data.education_level and data.education_level not in ISCED_LEVELS:
        errors["education_level"] = ["Choose an ISCED 2011 level."]
    values["education_level"] = data.education_level or None
    if not data.consent:
        errors["consent"] = ["The person must consent to the processing of their data before it is recorded."]
    if errors:
        raise ValidationFailed(errors)
    values["surname_key"] = name_key(values["surname"])
    values["given_names_key"] = name_key(values["given_names"])
    return values


def person_data_from(person):
    """The editable fields of a stored person, for pre-filling a form."""
    return PersonData(
        surname=person.surname, given_names=person.given_names, sex=person.sex, date_of_birth=person.date_of_birth,
        citizenship=person.citizenship, national_id=person.national_id or "",
        passport_number=person.passport_number or "", passport_country=person.passport_country or "",
        phone=person.phone or "", home_subdivision=person.home_subdivision or "",
        home_district=person.home_district or "", languages=list(person.languages or []),
        education_level=person.education_level or "", consent=True,
    )


def get_person(person_id):
    try:
        # A tampered form may post anything as the id; it must not reach the database as a bad UUID.
        person_id = person_id if isinstance(person_id, uuid.UUID) else uuid.UUID(str(person_id))
    except ValueError:
        raise NotFound("No such person.") from None
    person = db.session.get(Person, person_id)
    if person is None or person.is_deleted:
        raise NotFound("No such person.")
    return person


def find_by_national_id(national_id, country, exclude_id=None):
    """The person holding this national ID of this country: two countries may issue the same number."""
    if not national_id:
        return None
    query = select(Person).where(Person.national_id == national_id, Person.national_id_country == country,
                                 Person.deleted_at.is_(None))
    if exclude_id:
        query = query.where(Person.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def likely_duplicates(values, exclude_id=None):
    """Stored people who may be the person described by validated column values, best first
    (registry.matching: spelling variants, swapped names, day-month swaps, IDs, passports, phones)."""
    # Imported here: the matching package's views import auth, whose views import offices, which imports
    # people; importing it at the top would close that circle whichever package is imported first.
    from registry.matching.candidates import rank_candidates
    from registry.matching.normalise import BadRecord

    try:
        return rank_candidates(values, limit=LIKELY_MATCHES, exclude_id=exclude_id, min_decision="possible")
    except BadRecord:
        # Validation accepts letters of any script; the matcher compares Latin letters, so a name with none
        # (say, written in Cyrillic only) cannot be compared by name. The national ID check still applies.
        return []


def create_person(data, actor, override_duplicates=False, today=None):
    """Add a person after the duplicate checks. A national ID already on record always refuses; someone the
    matcher finds possibly or likely the same refuses unless the officer confirmed it is someone else
    (recorded, with what the officer was shown)."""
    values = validate_person(data, today)
    existing = find_by_national_id(values["national_id"], values["national_id_country"])
    if existing:
        raise DuplicateNationalId(existing)
    similar = likely_duplicates(values)
    if similar and not override_duplicates:
        raise PossibleDuplicates(similar)
    # The id is made here, so nothing needs writing until the request commits: on SQLite the write lock
    # is then held only for the final burst of inserts, not through the rest of the request.
    person = Person(id=new_id(), version=1, **values, consent_at=utcnow(), consent_recorded_by=actor.username)
    db.session.add(person)
    record_event("person.created", person, actor=actor)
    if similar:
        record_event("person.duplicate_warning_overridden", person, actor=actor, details={
            "candidates": [{"person_id": str(match.person.id), "score": match.percent, "decision": match.decision,
                            "reasons": match.reasons} for match in similar],
        })
    return person


EDITABLE = [f.name for f in fields(PersonData) if f.name != "consent"]


def update_person(person, data, expected_version, actor, today=None):
    """Change a person's details; refuse another office's record, a stale form, or a clash of national ID."""
    if not can_change_office_records(actor, person.origin_office):
        raise Forbidden(f"This person was registered at {person.origin_office}; only that office can change the record.")
    if person.version != expected_version:
        raise StaleVersion("Someone changed this person's record since you opened it. Reload it and enter your change again.")
    data = replace(data, consent=True)  # consent was given when the person was first recorded
    values = validate_person(data, today)
    clash = find_by_national_id(values["national_id"], values["national_id_country"], exclude_id=person.id)
    if clash:
        raise DuplicateNationalId(clash)
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(person, name)
        if old != value:
            before[name], after[name] = _plain(old), _plain(value)
            setattr(person, name, value)
    if not after:
        return person, False
    db.session.flush()
    record_event("person.updated", person, actor=actor, details={"before": before, "after": after})
    return person, True


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def _name_splits(tokens):
    """Every way to read typed words as (surname, given names): either end may be the surname, and a
    double-barrelled surname ('Moyo-Ncube', folded to 'MOYO NCUBE') is two words."""
    splits = set()
    for cut in range(1, len(tokens)):
        splits.add((" ".join(tokens[cut:]), " ".join(tokens[:cut])))
        splits.add((" ".join(tokens[:cut]), " ".join(tokens[cut:])))
    return sorted(splits)


def _prefix_range(column, prefix):
    """column starts with prefix (upper-case A-Z), as a range. The bound stays a letter ('MOZ' -> 'MP', not
    'MO['): punctuation does not sort after letters under a linguistic collation (en_US, ICU)."""
    stem = prefix.rstrip("Z")
    if not stem:
        return column >= prefix
    return (column >= prefix) & (column < stem[:-1] + chr(ord(stem[-1]) + 1))


def search_people(text="", born=None, limit=SEARCH_LIMIT):
    """Find people by national ID, passport number, or name (optionally with date of birth), best first."""
    text = (text or "").strip()
    if not text and not born:
        return []
    results, seen = [], set()

    def add(people):
        for person in people:
            if person.id not in seen:
                seen.add(person.id)
                results.append(person)

    key = compact(text)
    if key:
        add(db.session.scalars(
            select(Person).where(or_(Person.national_id == key, Person.passport_number == key),
                                 Person.deleted_at.is_(None)).limit(limit)
        ))
    # Names hold no digits: text with digits is an ID or passport number, never a name to look up.
    tokens = [] if any(ch.isdigit() for ch in text) else name_key(text).split()
    if tokens or (born and not text):
        base = select(Person).where(Person.deleted_at.is_(None))
        if born:
            base = base.where(Person.date_of_birth == born)
        if tokens:
            splits = _name_splits(tokens)
            # First the people whose name is exactly what was typed, in either order...
            if splits:
                add(db.session.scalars(base.where(or_(*(
                    (Person.surname_key == surname) & (Person.given_names_key == given)
                    for surname, given in splits
                ))).limit(limit)))
            # ...then those who share a surname with it, closest first.
            surnames = {" ".join(tokens)} | {surname for surname, _ in splits}
            conditions = [Person.surname_key.in_(surnames)]
            if len(tokens) == 1:
                conditions.append(_prefix_range(Person.surname_key, tokens[0]))
            candidates = db.session.scalars(base.where(or_(*conditions)).limit(limit * 4)).all()
            typed = " ".join(tokens)
            candidates.sort(key=lambda person: -fuzz.token_sort_ratio(typed, f"{person.surname_key} {person.given_names_key}"))
            add(candidates)
        else:
            add(db.session.scalars(base.limit(limit)))
    return results[:limit]
