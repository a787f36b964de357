"""`flask extract ...` run through Click's test runner against the real database: files and manifests for
good requests; for bad ones a non-zero exit, one clear line, and nothing written or changed."""
import csv
import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.statistics.tables import CATALOGUE

TODAY = date(2026, 6, 30)


@pytest.fixture
def data(app):
    """Two years of registrations at BBR and HRE, committed, so every command sees them."""
    with app.app_context():
        load_demo(250, ["BBR", "HRE"], seed=23, today=TODAY)
        db.session.commit()
    return app


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def audit_counts(app):
    with app.app_context():
        return dict(db.session.execute(select(AuditEvent.action, func.count()).where(
            AuditEvent.action.like("extract.%")).group_by(AuditEvent.action)).all())


def sql(app, statement, **params):
    with app.app_context():
        return db.session.execute(text(statement), params).all()


def run(runner, *args):
    return runner.invoke(args=["extract", *map(str, args)])


def error_line(result):
    """The one line that says what was wrong; no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def check_manifest(path, kind, rows):
    manifest = json.loads(path.with_name(path.name + ".manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == kind
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["bytes"] == path.stat().st_size
    assert manifest["rows"] == rows
    assert manifest["run_by"] == "command line" or kind == "full"
    return manifest


def test_extract_list_names_every_standard_table(runner):
    result = run(runner, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(CATALOGUE) >= 13
    for name, spec in CATALOGUE.items():
        assert any(line.split()[0] == name and spec.title in line for line in lines), name


def test_extract_table_writes_the_file_and_its_manifest(data, runner, tmp_path):
    for file_format, suffix in (("csv", "csv"), ("xlsx", "xlsx"), ("sdmx-csv", "sdmx.csv")):
        out = tmp_path / file_format
        out.mkdir()
        check_table_command(data, runner, out / f"ages.{suffix}", file_format)


def check_table_command(data, runner, path, file_format):
    out = path.parent
    before = audit_counts(data)
    result = run(runner, "outbound-sex-age", "--from", "2025-01-01", "--to", "2025-12-31", "--office", "hre",
                 "--format", file_format, "-o", path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [path.name, path.name + ".manifest.json"]
    assert str(path) in result.output and "x" in result.output
    if file_format == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        assert book.sheetnames == ["Table", "Metadata"]
        rows = [row for row in book["Table"].iter_rows(values_only=True)]
        book.close()
        header_at = rows.index(("Age group", "Female", "Male", "Total"))
        totals_at = max(i for i, row in enumerate(rows) if row and row[0] == "Total")
        data_rows = totals_at - header_at - 1
    elif file_format == "csv":
        rows = read_csv(path)
        assert rows[0] == ["Age group", "Female", "Male", "Total"] and rows[-1][0] == "Total"
        data_rows = len(rows) - 2
        # The grand total, when shown, is the number of people registered at HRE in 2025, counted here.
        people = sql(data, "SELECT COUNT(DISTINCT p.id) FROM registration r JOIN person p ON p.id = r.person_id "
                           "WHERE r.office_code = 'HRE' AND r.status <> 'cancelled' AND r.deleted_at IS NULL "
                           "AND r.registered_on BETWEEN '2025-01-01' AND '2025-12-31'")[0][0]
        assert rows[-1][-1] in ("x", str(people)) and people > 0
    else:
        rows = read_csv(path)
        assert rows[0][:4] == ["DATAFLOW", "REF_AREA", "FREQ", "TIME_PERIOD"]
        data_rows = len(rows) - 1
    manifest = check_manifest(path, "table", data_rows)
    assert manifest["filters"] == {"period": "2025-01-01 to 2025-12-31", "from": "2025-01-01", "to": "2025-12-31",
                                   "office": "HRE", "destination": None}
    assert manifest["format"] == file_format and manifest["subject"] == "outbound-sex-age"
    after = audit_counts(data)
    assert after.get("extract.created", 0) == before.get("extract.created", 0) + 1


BAD_INPUT = [
    (["people-by-name", "--period", "2025"], "There is no standard table 'people-by-name'"),
    (["outbound-sex-age", "--from", "2026-02-01", "--to", "2026-01-01"], "ends (2026-01-01) before it starts"),
    (["outbound-sex-age", "--period", "2025", "--office", "XYZ"], "There is no office XYZ"),
    (["outbound-sex-age", "--period", "2026-13"], "months run from 01 to 12"),
    (["outbound-sex-age", "--period", "last year"], "is not a period"),
    (["outbound-sex-age", "--period", "2025", "--from", "2025-01-01"], "not both"),
    (["outbound-sex-age", "--from", "2025-01-01"], "give --from and --to"),
    (["outbound-sex-age", "--from", "2025-02-30", "--to", "2025-03-01"], "2025-02-30"),
    (["outbound-sex-age", "--period", "2025", "--destination", "QQ"], "QQ is not an ISO 3166-1"),
    (["outbound-sex-age", "--period", "2025", "--format", "pdf"], "'pdf' is not one of"),
    (["microdata", "--period", "2025", "--office", "XYZ"], "There is no office XYZ"),
    (["microdata", "--from", "2025-03-01", "--to", "2025-02-01"], "before it starts"),
]


def test_bad_input_exits_non_zero_with_one_line_and_writes_nothing(data, runner, out):
    path = out / "table.csv"
    before = audit_counts(data)
    for arguments, reason in BAD_INPUT:
        result = run(runner, *arguments, "-o", path)
        assert reason in error_line(result), arguments
        assert list(out.iterdir()) == [], arguments
    assert audit_counts(data) == before
    # A refusal by the registry's rules is that one line and nothing else.
    result = run(runner, "outbound-sex-age", "--period", "2025", "--office", "XYZ", "-o", path)
    assert result.exit_code == 1
    assert result.output.splitlines() == ["Error: There is no office XYZ."]


def test_an_existing_file_is_untouched_when_the_command_is_refused(data, runner, out):
    path = out / "figures.csv"
    path.write_text("last month's figures\n")
    for arguments in (["outbound-sex-age", "--period", "2025", "--office", "XYZ"],
                      ["nonsense", "--period", "2025"],
                      ["outbound-sex-age", "--from", "2025-05-01", "--to", "2025-04-01"],
                      ["microdata", "--period", "2025-13"],
                      ["full", "--period", "2025", "--by", "officer", "--recipient", "IOM", "--purpose", "Research",
                       "--agreement", "MoU 1"]):
        result = run(runner, *arguments, "-o", path)
        assert result.exit_code != 0, arguments
        assert path.read_text() == "last month's figures\n", arguments
        assert sorted(p.name for p in out.iterdir()) == ["figures.csv"], arguments
    # A completed extract does replace it, with its manifest beside it.
    result = run(runner, "outbound-sex-age", "--period", "2025", "-o", path)
    assert result.exit_code == 0, result.output
    assert read_csv(path)[0] == ["Age group", "Female", "Male", "Total"]
    assert sorted(p.name for p in out.iterdir()) == ["figures.csv", "figures.csv.manifest.json"]


def test_output_that_is_a_folder_is_refused(data, runner, out):
    folder = out / "reports"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    result = run(runner, "outbound-sex-age", "--period", "2025", "-o", folder)
    assert "is a directory" in error_line(result)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in out.iterdir()) == ["reports"]


def test_extract_microdata_writes_pseudonymised_rows_and_a_manifest(data, runner, out):
    path = out / "micro.csv"
    before = audit_counts(data)
    result = run(runner, "microdata", "--period", "2025", "--office", "BBR", "-o", path)
    assert result.exit_code == 0, result.output
    rows = read_csv(path)
    assert rows[0] == ["person_key", "month", "office", "status", "sex", "age_group", "home_area", "destination",
                       "occupation", "education", "industry"]
    expected = sql(data, "SELECT COUNT(*) FROM registration r JOIN person p ON p.id = r.person_id "
                         "WHERE r.office_code = 'BBR' AND r.deleted_at IS NULL AND p.citizenship = 'ZW' "
                         "AND r.registered_on BETWEEN '2025-01-01' AND '2025-12-31'")[0][0]
    assert len(rows) - 1 == expected > 0
    assert {row[2] for row in rows[1:]} == {"BBR"} and {row[1][:4] for row in rows[1:]} == {"2025"}
    manifest = check_manifest(path, "microdata", expected)
    assert "k = 5" in manifest["disclosure_control"] and "k = 5" in result.output
    ids = {national_id for national_id, in sql(data, "SELECT national_id FROM person")}
    content = path.read_text(encoding="utf-8")
    assert not any(national_id in content for national_id in ids)
    assert audit_counts(data).get("extract.created", 0) == before.get("extract.created", 0) + 1


FULL = ["full", "--period", "2025", "--recipient", "International Organization for Migration",
        "--purpose", "Reintegration follow-up", "--agreement", "MoU MOL-IOM 2026/04"]


def test_extract_full_is_refused_unless_by_an_administrator(data, runner, out):
    path = out / "full.csv"
    before = audit_counts(data)
    for username in ("officer", "supervisor", "statistician", "nobody"):
        result = run(runner, *FULL, "--by", username, "-o", path)
        assert f"'{username}' is not an active administrator" in error_line(result)
        assert list(out.iterdir()) == [], username
    assert audit_counts(data) == before


def test_extract_full_needs_a_recipient_purpose_and_agreement(data, runner, out):
    path = out / "full.csv"
    before = audit_counts(data)
    missing = run(runner, "full", "--period", "2025", "--by", "admin", "--purpose", "Research", "--agreement",
                  "MoU 1", "-o", path)
    assert "--recipient" in error_line(missing)
    blank = run(runner, "full", "--period", "2025", "--by", "admin", "--recipient", "  ", "--purpose", "Research",
                "--agreement", "MoU 1", "-o", path)
    assert "Say who receives the data" in error_line(blank)
    assert list(out.iterdir()) == []
    assert audit_counts(data) == before


def test_extract_full_by_an_administrator_holds_personal_data_and_is_logged(data, runner, out):
    path = out / "full.csv"
    result = run(runner, *FULL, "--by", "admin", "-o", path)
    assert result.exit_code == 0, result.output
    rows = read_csv(path)
    header = rows[0]
    expected = sql(data, "SELECT r.registration_number, p.national_id, p.surname FROM registration r "
                         "JOIN person p ON p.id = r.person_id WHERE r.deleted_at IS NULL "
                         "AND r.registered_on BETWEEN '2025-01-01' AND '2025-12-31'")
    got = {(row[header.index("registration_number")], row[header.index("national_id")],
            row[header.index("surname")]) for row in rows[1:]}
    assert got == {tuple(row) for row in expected} and len(rows) - 1 == len(expected)
    check_manifest(path, "full", len(expected))
    with data.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "extract.disclosed")).all()
        assert event.actor == "admin"
        assert (event.details["recipient"], event.details["purpose"], event.details["agreement"]) == (
            "International Organization for Migration", "Reintegration follow-up", "MoU MOL-IOM 2026/04")
        assert event.details["filters"]["period"] == "2025"
        assert event.details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
