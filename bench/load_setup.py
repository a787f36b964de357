"""`python -m bench.load_setup OFFICES OFFICERS PASSWORD`: prepare central for the load test; print JSON.

Run with central's environment (REGISTRY_ROLE=central, DATABASE_URL). In one committed transaction, through
the app's own services: OFFICES offices LDA, LDB, ... (each with a sync secret, issued as `flask offices
issue-secret` does) and OFFICERS users `load.officerNN`, role officer at head office. Then, read only: the
end of central's feed (where an office that is up to date would start pulling) and a sample of stored
people for the officers to search for. Prints one JSON object.
"""
import json
import string
import sys

from sqlalchemy import func, select, text

from registry import create_app
from registry.auth.services import UserData, create_user
from registry.core.db import command_transaction
from registry.extensions import db
from registry.offices.services import OfficeData, create_office
from registry.people.models import Person
from registry.registration.models import Registration
from registry.sync.central import feed_position, issue_secret

SAMPLE_PEOPLE = 3000


def office_codes(count):
    """LDA, LDB, ... LDZ, LEA, ...: codes no demo office uses, so their registration numbers are all new."""
    letters = string.ascii_uppercase
    return [f"L{letters[3 + n // 26]}{letters[n % 26]}" for n in range(count)]


def officer_names(count):
    return [f"load.officer{n + 1:02d}" for n in range(count)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    offices, officers, password = int(argv[0]), int(argv[1]), argv[2]
    app = create_app()
    with app.app_context():
        secrets = {}
        with command_transaction():
            for code in office_codes(offices):
                create_office(OfficeData(code, f"Load test office {code}", "district_office", "ZW", "ZW-MS",
                                         default_destination="ZA"))
                secrets[code] = issue_secret(code)
            for username in officer_names(officers):
                create_user(UserData(username, f"Load Officer {username[-2:]}", "officer", "HQ"), password)
        # A repeatable sample spread over the whole table (TABLESAMPLE reads whole pages, so it is quick).
        rows = db.session.execute(text(
            "SELECT surname, given_names, national_id FROM person TABLESAMPLE SYSTEM (1) REPEATABLE (2026) "
            "WHERE national_id IS NOT NULL AND deleted_at IS NULL AND same_as_id IS NULL LIMIT :n"),
            {"n": SAMPLE_PEOPLE}).all()
        result = {
            "secrets": secrets, "officers": officer_names(officers), "feed_end": feed_position(),
            "people": [{"surname": s, "given_names": g, "national_id": n} for s, g, n in rows],
            "stored_people": db.session.scalar(select(func.count()).select_from(Person)),
            "stored_registrations": db.session.scalar(select(func.count()).select_from(Registration)),
        }
        db.session.rollback()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
