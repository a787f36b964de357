"""`python -m bench.sync_add COUNT USERNAME`: register COUNT new people at this office, as an officer would.

Each goes through registry.registration.services.register (new person, new registration, audit event,
outbox entries by the app's flush hook), one committed transaction each, like COUNT form posts. Run with an
office node's environment (REGISTRY_ROLE=office, OFFICE_CODE, DATABASE_URL). Prints the count made.
"""
import sys
from datetime import date, timedelta

from sqlalchemy import select

from registry import create_app
from registry.auth.models import User
from registry.extensions import db
from registry.people.services import PersonData
from registry.registration.services import RegistrationData, register

SURNAMES = ("Moyo", "Ncube", "Sibanda", "Dube", "Mpofu", "Ndlovu", "Chikwanha", "Mutasa", "Banda", "Phiri")
GIVEN = ("Tendai", "Rudo", "Tatenda", "Farai", "Nyasha", "Tafadzwa", "Chipo", "Blessing", "Kudzai", "Simba")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    count, username = int(argv[0]), argv[1]
    serial_base = int(argv[2]) if len(argv) > 2 else 7_000_000
    app = create_app()
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise SystemExit(f"no user {username!r} at this office")
        for i in range(count):
            serial = serial_base + i
            # Names repeat, birth dates differ from run to run: no similar-name warnings to override.
            born = date(1968, 1, 1) + timedelta(days=(serial * 7919) % 12_000)
            person = PersonData(
                surname=SURNAMES[i % len(SURNAMES)], given_names=GIVEN[(i // len(SURNAMES)) % len(GIVEN)],
                sex="F" if i % 3 == 0 else "M", date_of_birth=born, national_id=f"63{serial:07d}A63",
                phone="0772123456", home_subdivision="ZW-MV", home_district="Chiredzi", languages=["sna", "eng"],
                education_level="3", consent=True)
            work = RegistrationData(destination_country="ZA", destination_subdivision="ZA-LP", intended_sector="A",
                                    occupation_code="9211", skills="Citrus picking", years_experience=2)
            register(actor, work, person_data=person, override_duplicates=True)
            db.session.commit()
    print(count)


if __name__ == "__main__":
    main()
