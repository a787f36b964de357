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
    people, registrations, _, _ = generator.batch(5000)
    born = {person["id"]: person["date_of_birth"] for person in people}
    ages = [_age(born[registration["person_id"]], registration["registered_on"]) for registration in registrations]
    assert len(ages) == 5000
    assert min(ages) == 18  # adults, and the youngest drawn are still there
    assert max(ages) <= 67
    assert min(registration["registered_on"] for registration in registrations) < date(2025, 1, 1)


def test_every_returned_registration_has_its_return_record(ctx):
    from sqlalchemy import func, select

    from registry.demo.generator import load_demo
    from registry.extensions import db
    from registry.recruitment.models import WorkerReturn
    from registry.registration.models import Registration
    from registry.statistics.tables import compute, date_range, make_request
    from registry.sync.models import OutboxEntry

    load_demo(800, ["BBR", "HRE"], seed=3, today=date(2026, 11, 24))
    returned = set(db.session.scalars(select(Registration.id).where(Registration.status == "returned")))
    records = db.session.execute(select(WorkerReturn.registration_id, WorkerReturn.returned_on,
                                        Registration.status_changed_on)
                                 .join(Registration, Registration.id == WorkerReturn.registration_id)).all()
    assert returned and {row.registration_id for row in records} == returned
    assert all(row.returned_on == row.status_changed_on for row in records)
    # They travel to central like the rest of the demo data.
    assert db.session.scalar(select(func.count()).select_from(OutboxEntry).where(
        OutboxEntry.entity == "worker_return")) == len(records)
    # So the returns tables and the returning migrant workers' table see the same returns.
    period = date_range(date(2024, 11, 1), date(2026, 11, 24))
    returns = compute(make_request("returns-country-reason", period))
    assert returns.total == len(records)
