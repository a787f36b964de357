"""`flask match score`, `scan`, `reindex` and `evaluate`, run as an operator would."""
import csv
from datetime import date

from sqlalchemy import func, select

from registry.extensions import db
from registry.matching.models import DuplicateCandidate, PersonMatchKey
from registry.matching.scoring import score_pair
from registry.people.services import create_person
from tests.conftest import user
from tests.support.factories import person_data

HEADER = ["id"] + [f"{side}_{name}" for side in ("left", "right") for name in (
    "surname", "given_names", "sex", "date_of_birth", "national_id", "passport", "phone")]
SAME = ["p1", "Moyo", "Tendai", "F", "1990-05-03", "63-123456 A 78", "", "0772123456",
        "Moyo", "Tendayi", "F", "1990-03-05", "", "FN123456", ""]
OTHER = ["p2", "Moyo", "Tendai", "F", "1990-05-03", "63-123456 A 78", "", "",
         "Sibanda", "Sipho", "M", "1970-01-02", "63-999999 Z 78", "", ""]


def write(path, rows, header=HEADER):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def as_record(row, side):
    values = dict(zip(HEADER, row))
    return {name: values[f"{side}_{name}"] for name in (
        "surname", "given_names", "sex", "date_of_birth", "national_id", "passport", "phone")}


def test_score_writes_score_decision_and_reasons_per_pair(runner, tmp_path):
    out = tmp_path / "out" / "scores.csv"
    result = runner.invoke(args=["match", "score", "--pairs", str(write(tmp_path / "in.csv", [SAME, OTHER])),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert [row["id"] for row in rows] == ["p1", "p2"] and [row["line"] for row in rows] == ["2", "3"]
    for row, given in zip(rows, (SAME, OTHER)):
        expected = score_pair(as_record(given, "left"), as_record(given, "right"))
        assert float(row["score"]) == round(expected.score, 4)
        assert row["decision"] == expected.decision
        assert row["reasons"] == "; ".join(expected.reasons)
    assert rows[0]["decision"] == "match" and rows[1]["decision"] == "distinct"
    assert "scored 2 pairs (1 match, 0 possible, 1 distinct)" in result.output


def test_malformed_rows_are_reported_by_line_and_the_others_still_scored(runner, tmp_path):
    bad_date = SAME[:4] + ["1990-02-30"] + SAME[5:]
    one_letter = SAME[:1] + ["M"] + SAME[2:]
    empty_given = SAME[:9] + [""] + SAME[10:]
    short = SAME[:6]
    long = SAME + ["surplus"]
    path = write(tmp_path / "in.csv", [SAME, bad_date, one_letter, empty_given, short, long, OTHER])
    out = tmp_path / "scores.csv"
    result = runner.invoke(args=["match", "score", "--pairs", str(path), "-o", str(out)])
    assert result.exit_code == 0
    errors = result.stderr
    assert "line 3: left_date_of_birth: the date of birth '1990-02-30' is not a date that exists" in errors
    assert "line 4: left_surname: the surname 'M' needs at least two letters" in errors
    assert "line 5: right_given_names: the given names are empty" in errors
    assert "line 6: expected 15 fields, found 6" in errors
    assert "line 7: expected 15 fields, found 16" in errors
    assert "line 2:" not in errors and "line 8:" not in errors
    assert [row["line"] for row in read(out)] == ["2", "8"]
    assert "5 rows could not be scored" in result.output


def test_a_file_with_no_scorable_row_fails(runner, tmp_path):
    out = tmp_path / "scores.csv"
    only_bad = write(tmp_path / "bad.csv", [SAME[:3]])
    result = runner.invoke(args=["match", "score", "--pairs", str(only_bad), "-o", str(out)])
    assert result.exit_code != 0 and "no pair could be scored" in result.output
    assert "line 2: expected 15 fields, found 3" in result.stderr
    header_only = write(tmp_path / "empty.csv", [])
    assert runner.invoke(args=["match", "score", "--pairs", str(header_only), "-o", str(out)]).exit_code != 0
    assert not out.exists()


def test_an_unreadable_file_is_refused_with_a_message(runner, tmp_path):
    out = tmp_path / "scores.csv"
    missing = runner.invoke(args=["match", "score", "--pairs", str(tmp_path / "nope.csv"), "-o", str(out)])
    assert missing.exit_code != 0 and "cannot read" in missing.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(HEADER).encode() + b"\n" + ",".join(SAME).replace("Tendai", "T\xe9ndai").encode("latin-1"))
    result = runner.invoke(args=["match", "score", "--pairs", str(latin), "-o", str(out)])
    assert result.exit_code != 0 and "is not UTF-8 text (line 2)" in result.output
    no_header = write(tmp_path / "noheader.csv", [SAME], header=None)
    result = runner.invoke(args=["match", "score", "--pairs", str(no_header), "-o", str(out)])
    assert result.exit_code != 0 and "missing: left_surname" in result.output
    assert not out.exists()  # nothing half-written


def test_broken_quoting_is_reported_by_line(runner, tmp_path):
    path = tmp_path / "in.csv"
    stray = '"p3"x,' + ",".join(SAME[1:])
    path.write_text(",".join(HEADER) + "\n" + ",".join(SAME) + "\n" + stray + "\n" + ",".join(OTHER) + '\n"p4,Moyo\n')
    out = tmp_path / "scores.csv"
    result = runner.invoke(args=["match", "score", "--pairs", str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert "line 3: not valid CSV" in result.stderr and "line 5: not valid CSV" in result.stderr
    assert [(row["id"], row["line"]) for row in read(out)] == [("p1", "2"), ("p2", "4")]


def test_formulas_in_names_are_not_run_by_a_spreadsheet(runner, tmp_path):
    row = SAME[:1] + ["=HYPERLINK(\"x\")Moyo"] + SAME[2:]
    out = tmp_path / "scores.csv"
    assert runner.invoke(args=["match", "score", "--pairs", str(write(tmp_path / "in.csv", [row])),
                               "-o", str(out)]).exit_code == 0
    assert read(out)[0]["left_surname"].startswith("'=")


def test_scan_and_reindex_commands(app, runner):
    with app.app_context():
        actor = user("officer")
        for given, born, national_id, passport in (("Tendai", date(1990, 5, 3), "63-123456 A 78", ""),
                                                   ("Tendayi", date(1990, 3, 5), "", "FN123456")):
            create_person(person_data(surname="Moyo", given_names=given, date_of_birth=born,
                                      national_id=national_id, passport_number=passport), actor,
                          override_duplicates=True)
        db.session.commit()
    result = runner.invoke(args=["match", "scan"])
    assert result.exit_code == 0, result.output
    assert "queued 1 new pairs" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 1
        db.session.execute(PersonMatchKey.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["match", "reindex"])
    assert result.exit_code == 0 and "rebuilt the matching keys of 2 people" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PersonMatchKey)) == 2
    assert "queued 0 new pairs" in runner.invoke(args=["match", "scan"]).output


def test_evaluate_prints_precision_recall_and_the_curve(runner, tmp_path):
    out = tmp_path / "quality.json"
    result = runner.invoke(args=["match", "evaluate", "--seed", "5", "--true-pairs", "60", "--distinct-pairs", "120",
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Seed 5: 60 true pairs, 120 distinct pairs" in result.output
    assert "threshold  precision  recall" in result.output
    assert '"seed": 5' in out.read_text()
