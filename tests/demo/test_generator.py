"""The demo data generator makes data the app itself would accept."""
from datetime import date

from registry.demo.generator import DemoGenerator


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_everyone_is_an_adult_at_every_registration():
    # Registrations fall on any of the last two years; a person's age is drawn from 18 up, so the youngest
    # must be 18 on the first of those days, not only today.
    today = date(2026, 11, 24)
    generator = DemoGenerator(["BBR", "HRE"], seed=5, today=today)
    generator.use_targets([], [])
    people, registrations, _ = generator.batch(5000)
    born = {person["id"]: person["date_of_birth"] for person in people}
    ages = [_age(born[registration["person_id"]], registration["registered_on"]) for registration in registrations]
    assert len(ages) == 5000
    assert min(ages) == 18  # adults, and the youngest drawn are still there
    assert max(ages) <= 67
    assert min(registration["registered_on"] for registration in registrations) < date(2025, 1, 1)
