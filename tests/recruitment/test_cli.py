"""`flask jobs list` and `flask jobs shortlist`, run as an operator would: open job orders one a line, id
first; the shortlist as CSV, written whole or not at all; clear messages and a non-zero exit on bad input."""
import csv
from datetime import date, timedelta

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from tests.conftest import user
from tests.recruitment.helpers import candidate, counts_in, make_order
from tests.referrals.helpers import make_employer

TODAY = date.today()


def orders(app):
    with app.app_context(), command_transaction():
        supervisor, officer = user("supervisor"), user("officer")
        employer = make_employer(supervisor)
        soon = make_order(supervisor, employer=employer, title="Orange harvest", places=4,
                          starts_on=TODAY + timedelta(days=10), ends_on=TODAY + timedelta(days=100),
                          closes_on=TODAY + timedelta(days=5))
        now = make_order(supervisor, employer=employer, title="Citrus pickers", places=3)
        make_order(supervisor, employer=employer, title="Draft order", draft=True)
        make_order(supervisor, employer=employer, title="Fee order", worker_fee_amount=100, worker_fee_currency="ZAR")
        numbers = [candidate(officer, surname=name, registration={"years_experience": years}).registration_number
                   for name, years in (("Moyo", 1), ("Ncube", 4), ("Dube", 0))]
        return str(now.id), str(soon.id), numbers


def test_jobs_list_shows_open_job_orders_one_a_line_id_first(app, runner):
    now, soon, _ = orders(app)
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [now, soon]  # soonest start first; drafts left out
    assert lines[0].endswith("| 3 of 3 places left") and "Citrus pickers | Mopani Citrus Estates | ZA-LP" in lines[0]


def test_jobs_list_says_when_nothing_is_open(app, runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0 and result.stdout == "" and "No job order is open." in result.stderr


def test_jobs_shortlist_writes_the_ranked_candidates_as_csv(app, runner, tmp_path):
    now, _, numbers = orders(app)
    target = tmp_path / "out" / "shortlist.csv"
    result = runner.invoke(args=["jobs", "shortlist", now, "--limit", "2", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 candidates for Citrus pickers at Mopani Citrus Estates (3 of 3 places left)" in result.output
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["registration_number", "score", "reasons"]
    assert [row[0] for row in rows[1:]] == [numbers[1], numbers[0]]  # most experience first
    # Same unit group 40, the province wanted 20, two points a year of experience; no skills asked for.
    assert rows[1][1] == str(40 + 20 + 4 * 2)
    assert rows[1][2] == "same occupation (9211 crop farm labourers); wants to go to ZA-LP; 4 years' experience"
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "recruitment.shortlist_extracted")).one()
        assert (event.actor, event.details["candidates"], event.details["limit"]) == ("cli", 2, 2)
    assert list(target.parent.iterdir()) == [target]  # no temporary file left beside it


def test_jobs_shortlist_refuses_bad_input_and_writes_nothing(app, runner, tmp_path):
    now, _, _ = orders(app)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "shortlist.csv"
    before = counts_in(app)
    cases = [
        (["nope", "-o", str(target)], "'nope' is not a job order id (a UUID, as `flask jobs list` shows)."),
        (["0190d3f0-0000-7000-8000-000000000001", "-o", str(target)],
         "There is no job order 0190d3f0-0000-7000-8000-000000000001."),
        ([now, "--limit", "0", "-o", str(target)], "give a whole number from 1 to 1000, not 0"),
        ([now, "--limit", "1001", "-o", str(target)], "give a whole number from 1 to 1000, not 1001"),
        ([now, "--limit", "many", "-o", str(target)], "'many' is not a valid integer"),
        ([now], "Missing option '--output'"),
        ([now, "-o", str(folder)], "is a directory"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["jobs", "shortlist", *args])
        assert result.exit_code != 0, (args, result.output)
        assert message in result.output, (args, result.output)
    assert list(folder.iterdir()) == []
    assert counts_in(app) == before
