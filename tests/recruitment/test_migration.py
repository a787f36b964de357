"""Revision 0009 on a database that already holds vacancies: they keep their data and get no housing, no
transport, no agency and no vetting checklist; downgraded, a draft job order (unknown before) is closed."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from registry.extensions import db
from tests.test_migrations import empty_app, empty_database_url  # noqa: F401  (fixtures)

EMPLOYER = "0190d3f0-0000-7000-8000-000000000001"
VACANCIES = ("0190d3f0-0000-7000-8000-000000000002", "0190d3f0-0000-7000-8000-000000000003")


def _id(value):
    return value if db.engine.dialect.name == "postgresql" else value.replace("-", "")


def test_upgrade_keeps_vacancies_and_downgrade_closes_drafts(empty_app):  # noqa: F811
    upgrade(revision="0008")
    stamp = "'2026-01-01 00:00:00+00:00'"
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO employer (id, version, origin_office, updated_at, name, country, active) "
            f"VALUES (:id, 1, 'BBR', {stamp}, 'Mopani Citrus Estates', 'ZA', :yes)"),
            {"id": _id(EMPLOYER), "yes": True})
        for number, vacancy_id in enumerate(VACANCIES):
            connection.execute(text(
                "INSERT INTO vacancy (id, version, origin_office, updated_at, employer_id, title, occupation_code, "
                "country, places, starts_on, contract_vetted, status) VALUES (:id, 1, 'BBR', "
                f"{stamp}, :employer, :title, '9211', 'ZA', 3, '2026-02-01', :no, 'open')"),
                {"id": _id(vacancy_id), "employer": _id(EMPLOYER), "title": f"Pickers {number}", "no": False})
    upgrade()
    with db.engine.begin() as connection:
        rows = connection.execute(text(
            "SELECT title, status, housing_provided, transport_provided, agency_id, vetting_checklist, "
            "worker_fee_amount FROM vacancy ORDER BY title")).all()
        assert [tuple(row) for row in rows] == [("Pickers 0", "open", False, False, None, None, None),
                                                ("Pickers 1", "open", False, False, None, None, None)]
        assert connection.execute(text("SELECT sector, verified_on FROM employer")).one() == (None, None)
        connection.execute(text("UPDATE vacancy SET status = 'draft' WHERE title = 'Pickers 1'"))
    tables = set(inspect(db.engine).get_table_names())
    assert {"agency", "selection_step"} <= tables
    db.session.remove()

    downgrade(revision="0008")
    assert not {"agency", "selection_step"} & set(inspect(db.engine).get_table_names())
    assert "agency_id" not in {c["name"] for c in inspect(db.engine).get_columns("vacancy")}
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT title, status FROM vacancy ORDER BY title")).all() == [
            ("Pickers 0", "open"), ("Pickers 1", "closed")]
    upgrade()
    assert {"agency", "selection_step"} <= set(inspect(db.engine).get_table_names())
