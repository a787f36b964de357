"""Keyword-only factories with sensible defaults, for services and request tests alike."""
from datetime import date

from registry.auth.services import UserData, create_user
from registry.people.services import PersonData
from registry.registration.services import RegistrationData, register

PASSWORD = "correct horse battery"
# (username, role, office) of the users every test database starts with.
USERS = (
    ("officer", "officer", "BBR"),
    ("supervisor", "supervisor", "BBR"),
    ("officer.hre", "officer", "HRE"),
    ("statistician", "statistician", "HQ"),
    ("admin", "admin", "HQ"),
)


def make_user(*, username, role="officer", office="BBR", password=PASSWORD):
    return create_user(UserData(username, username.title(), role, office), password)


_serial = [100000]


def unique_national_id():
    """A Zimbabwean national ID no other call gives. The serial is a multiple of 11, so no two of them differ
    in one digit or by two neighbouring digits exchanged: identity matching reads such IDs as one ID
    mistyped, and would take two made-up people for one."""
    _serial[0] += 1
    return f"63-{_serial[0] * 11} A 78"


def person_data(**overrides):
    """A valid adult Zimbabwean with a unique national ID, unless told otherwise."""
    values = dict(
        surname="Moyo", given_names="Tendai", sex="F", date_of_birth=date(1995, 3, 14), citizenship="ZW",
        national_id=unique_national_id(), phone="0772123456", home_subdivision="ZW-MV",
        home_district="Chiredzi", languages=["sna", "eng"], education_level="3", consent=True,
    )
    values.update(overrides)
    return PersonData(**values)


def registration_data(**overrides):
    values = dict(destination_country="ZA", destination_subdivision="ZA-LP", intended_sector="A",
                  occupation_code="9211", skills="Citrus picking", years_experience=2)
    values.update(overrides)
    return RegistrationData(**values)


def create_registration(*, actor, person=None, today=None, **person_overrides):
    """Register a new person (or `person`) with default registration data; return the registration."""
    if person is not None:
        return register(actor, registration_data(), person=person, today=today)
    return register(actor, registration_data(), person_data=person_data(**person_overrides),
                    override_duplicates=True, today=today)
