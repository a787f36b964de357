"""Extract files read back as a user reads them (csv, openpyxl): every published number against the
computed counts (themselves checked against an independent count), x where a count is suppressed, the
metadata sheet, the provenance manifest and its audit event, atomic writing, the k-anonymous pseudonymised
microdata and the audited full extract with personal data.
"""
import csv
import hashlib
import json
import re
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.codes.classifications import ISCED_VERSION, ISIC_VERSION
from registry.codes.geography import ISO3166_VERSION, country_name
from registry.codes.isco import ISCO_VERSION
from registry.core.errors import Forbidden, ValidationFailed
from registry.extensions import db
from registry.statistics import microdata
from registry.statistics.extracts import atomic_file, write_manifest, write_table
from registry.statistics.microdata import (
    Disclosure, MicrodataRequest, pseudonym_prefix, write_full_extract, write_microdata,
)
from registry.statistics.publish import publish
from registry.statistics.tables import compute, date_range, make_request, parse_period
from tests.conftest import user
from tests.statistics.test_tables import TODAY, demo_rows, expected_counts  # noqa: F401 (a fixture)

THRESHOLD = 5  # the configured default: counts from 1 to 4 are suppressed
K = 5
EVERYTHING = date_range(date(2024, 7, 1), TODAY)  # the whole of demo_rows


# Helpers ------------------------------------------------------------------------------------------------

@pytest.fixture
def out(tmp_path):
    """A folder for extracts alone (the test's SQLite database lives in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.at)).all()


def count_events(action):
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".part"))


def as_number(value):
    """A published value as an int, or None for x; a 0 stands for zero, never for a suppressed count."""
    if value == "x":
        return None
    assert value not in ("", None), "a published cell is blank"
    return int(value)


def check_published_grid(body, totals, counts, labels_width):
    """Check table cells, row totals, column totals and the grand total against the computed grid: equal
    where shown, never 0 where suppressed, always x where a count is from 1 to THRESHOLD - 1; and no line
    with a published total has exactly one x (it could be worked out by subtraction)."""
    grid = counts.grid
    assert len(body) == len(grid)
    suppressed = 0
    lines = []
    for row, values in zip(body, grid):
        shown = [as_number(value) for value in row[labels_width:]]
        assert len(shown) == len(values) + 1
        lines.append((shown[:-1], shown[-1], values))
        for published, true in zip(shown, [*values, sum(values)]):
            if published is None:
                suppressed += 1
                assert true != 0, "a zero was suppressed"
            else:
                assert published == true
                assert not 1 <= true < THRESHOLD, f"{true} is below the threshold and was published"
    column_totals = [sum(column) for column in zip(*grid)]
    shown_totals = [as_number(value) for value in totals[labels_width:]]
    assert totals[0] == "Total"
    for published, true in zip(shown_totals, [*column_totals, sum(column_totals)]):
        if published is None:
            assert true != 0
        else:
            assert published == true
            assert not 1 <= true < THRESHOLD
    lines += [([line[0][j] for line in lines], shown_totals[j], [row[j] for row in grid])
              for j in range(len(column_totals))]
    for cells, total, _ in lines:
        if total is not None:
            assert sum(value is None for value in cells) != 1, "a lone x in a line with its total shown"
    return suppressed


def table_counts(name, period, office=None, destination=None):
    counts = compute(make_request(name, period, office, destination))
    expected = expected_counts(counts.spec, period, office, destination)
    found = {(key, column): value for key, row in zip(counts.row_keys, counts.grid)
             for column, value in zip(counts.column_keys, row) if value}
    assert found == expected  # the counts the extracts must show are the right ones
    return counts


# Tables -------------------------------------------------------------------------------------------------

def test_csv_has_the_header_every_row_and_the_totals_with_x_for_suppressed_counts(demo_rows, out):
    counts = table_counts("outbound-sex-destination", parse_period("2025"))
    path = out / "table.csv"
    manifest = write_table(publish(counts), path, "csv", run_by="statistician")
    rows = read_csv(path)
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header == ["Country of destination", "Female", "Male", "Total"]
    # Every destination counted, by its name, in the table's order.
    assert [row[0] for row in body] == [country_name(key[0]) for key in counts.row_keys]
    assert {key[0] for key in counts.row_keys} >= {"ZA", "BW"}
    suppressed = check_published_grid(body, totals, counts, 1)
    assert suppressed >= 1, "the data set must have small cells, or the check proves little"
    assert manifest.rows == len(body)
    assert path.read_bytes().count(b"\r\n") == len(rows)  # RFC 4180 line ends


def test_csv_of_a_three_way_table_has_two_label_columns(demo_rows, out):
    counts = table_counts("outbound-sex-age-destination", parse_period("2025"))
    path = out / "three.csv"
    write_table(publish(counts), path, "csv", run_by="statistician")
    rows = read_csv(path)
    assert rows[0] == ["Age group", "Country of destination", "Female", "Male", "Total"]
    body = rows[1:-1]
    assert [(row[0], row[1]) for row in body] == [(age, country_name(code)) for age, code in counts.row_keys]
    assert rows[-1][:2] == ["Total", ""]
    assert check_published_grid(body, rows[-1], counts, 2) >= 1


def test_xlsx_has_the_table_and_a_metadata_sheet(demo_rows, out):
    period = parse_period("2025")
    counts = table_counts("outbound-sex-age", period, office="HRE", destination="ZA")
    published = publish(counts)
    path = out / "table.xlsx"
    before = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    write_table(published, path, "xlsx", run_by="statistician")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Table", "Metadata"]
    rows = [list(row) for row in book["Table"].iter_rows(values_only=True)]
    assert rows[0][0] == "Registered outbound migrant workers by sex and age group"
    header_at = rows.index(["Age group", "Female", "Male", "Total"])
    last = max(i for i, row in enumerate(rows) if row and row[0] == "Total")
    body, totals = rows[header_at + 1:last], rows[last]
    assert [row[0] for row in body] == [key[0] for key in counts.row_keys]
    assert body[0][0] == "15-19" and body[-1][0] == "65+"
    # Numbers are numbers, suppressed values the letter x; never a 0 for a suppressed count.
    assert all(isinstance(value, int) or value == "x" for row in body for value in row[1:])
    assert check_published_grid(body, totals, counts, 1) >= 1
    metadata = {row[0]: row[1] for row in book["Metadata"].iter_rows(values_only=True)}
    book.close()
    assert metadata["Title"] == "Registered outbound migrant workers by sex and age group"
    assert "registered at a labour office" in metadata["Definition"]
    assert metadata["Period"].startswith("2025") and "2025-01-01" in metadata["Period"]
    assert "2025-12-31" in metadata["Period"]
    assert metadata["Office"] == "HRE" and metadata["Destination"] == "ZA"
    extracted = datetime.strptime(metadata["Extracted at"], "%Y-%m-%d %H:%M UTC").replace(tzinfo=timezone.utc)
    assert before <= extracted <= datetime.now(timezone.utc)
    assert "1 to 4" in metadata["Suppression rule"] and " x" in metadata["Suppression rule"]
    primary = sum(1 for row in counts.grid for value in row if 1 <= value < THRESHOLD)
    assert re.search(rf"\b{primary} cells?\b", metadata["Suppression rule"]), metadata["Suppression rule"]
    for version in (ISO3166_VERSION, ISCO_VERSION, ISCED_VERSION, ISIC_VERSION):
        assert version in metadata["Code lists"]
    assert metadata["Extracted by"] == "statistician"


def _age_code(label):
    if label == "65+":
        return "Y_GE65"
    low, high = label.split("-")
    return f"Y{low}T{high}"


def test_sdmx_csv_has_one_observation_a_row_with_confidential_values_blank(demo_rows, out):
    period = parse_period("2025")
    counts = table_counts("outbound-sex-age-destination", period)
    published = publish(counts)
    path = out / "table.sdmx.csv"
    write_table(published, path, "sdmx-csv", run_by="statistician")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames
        observations = list(reader)
    for column in ("DATAFLOW", "REF_AREA", "FREQ", "TIME_PERIOD", "SEX", "AGE", "COUNTERPART_AREA", "OBS_VALUE",
                   "OBS_STATUS", "CONF_STATUS"):
        assert column in columns
    assert len(observations) == (len(counts.row_keys) + 1) * (len(counts.column_keys) + 1)
    assert {(o["REF_AREA"], o["FREQ"], o["TIME_PERIOD"]) for o in observations} == {("ZW", "A", "2025")}
    # The true value of every observation, cells and totals, keyed by (age, destination, sex).
    truth = Counter()
    for (age, destination), row in zip(counts.row_keys, counts.grid):
        for sex, value in zip(counts.column_keys, row):
            for key in ((age, destination, sex), (age, destination, "_T"), ("_T", "_T", sex), ("_T", "_T", "_T")):
                truth[key] += value
    codes = {(_age_code(age), destination): (age, destination) for age, destination in counts.row_keys}
    codes[("_T", "_T")] = ("_T", "_T")
    seen = set()
    blank = 0
    for observation in observations:
        age, destination = codes[(observation["AGE"], observation["COUNTERPART_AREA"])]
        key = (age, destination, observation["SEX"])
        assert key not in seen
        seen.add(key)
        true = truth[key]
        if observation["OBS_VALUE"] == "":
            blank += 1
            assert true != 0, "a zero was suppressed"
            assert observation["CONF_STATUS"] == ("C" if true < THRESHOLD else "D"), key
        else:
            assert int(observation["OBS_VALUE"]) == true, key
            assert observation["CONF_STATUS"] == "F" and not 1 <= true < THRESHOLD
    assert blank >= 1 and len(seen) == len(observations)
    # The same numbers are suppressed in every format.
    write_table(published, out / "same.csv", "csv", run_by="statistician")
    rows = read_csv(out / "same.csv")
    assert sum(row.count("x") for row in rows) == blank


def test_manifest_has_rows_sha256_who_and_filters_and_goes_to_the_audit_log(demo_rows, out):
    counts = table_counts("outbound-sex-occupation", parse_period("2025"), office="HRE", destination="ZA")
    path = out / "occupations.csv"
    before = count_events("extract.created")
    manifest = write_table(publish(counts), path, "csv", run_by="statistician", actor=user("statistician"))
    target = write_manifest(manifest, path)
    assert target.name == "occupations.csv.manifest.json"
    written = json.loads(target.read_text(encoding="utf-8"))
    rows = read_csv(path)
    assert written["rows"] == len(rows) - 2 == len(counts.row_keys)
    assert written["sha256"] == sha256_of(path)
    assert written["bytes"] == path.stat().st_size
    assert written["run_by"] == "statistician"
    assert written["filters"] == {"period": "2025", "from": "2025-01-01", "to": "2025-12-31", "office": "HRE",
                                  "destination": "ZA"}
    assert written["subject"] == "outbound-sex-occupation" and written["format"] == "csv"
    assert ISCO_VERSION in written["code_lists"]
    assert "x" in written["disclosure_control"]
    generated = datetime.fromisoformat(written["generated_at"])
    assert abs(datetime.now(timezone.utc) - generated) < timedelta(minutes=1)
    assert count_events("extract.created") == before + 1
    event = events("extract.created")[-1]
    assert event.actor == "statistician"
    assert event.details["sha256"] == written["sha256"] and event.details["filters"] == written["filters"]
    assert event.details["rows"] == written["rows"]


# Atomic writing -----------------------------------------------------------------------------------------

def test_a_failed_write_leaves_no_file_and_no_part_file(demo_rows, out):
    # The target is a folder: the extract is written in full, then cannot take its place.
    published = publish(compute(make_request("outbound-sex-age", parse_period("2025"))))
    target = out / "extract"
    target.mkdir()
    before = count_events("extract.created")
    for file_format in ("csv", "xlsx", "sdmx-csv"):
        with pytest.raises(OSError):
            write_table(published, target, file_format, run_by="statistician")
        assert target.is_dir() and list(target.iterdir()) == [], file_format
        assert sorted(path.name for path in out.iterdir()) == ["extract"], file_format
    assert count_events("extract.created") == before


def test_atomic_file_keeps_the_old_file_when_writing_fails_and_replaces_it_when_done(out):
    target = out / "figures.csv"
    target.write_text("the earlier extract\n")
    with pytest.raises(ZeroDivisionError):
        with atomic_file(target) as binary:
            binary.write(b"half of a new extract")
            assert leftovers(out), "the new content goes to a temporary file beside the target"
            1 / 0
    assert target.read_text() == "the earlier extract\n"
    assert leftovers(out) == []
    with atomic_file(target) as binary:
        binary.write(b"a whole new extract\n")
    assert target.read_bytes() == b"a whole new extract\n"
    assert binary.digest.hexdigest() == sha256_of(target) and binary.size == target.stat().st_size
    assert sorted(path.name for path in out.iterdir()) == ["figures.csv"]
    fresh = out / "fresh.csv"
    with pytest.raises(KeyError):
        with atomic_file(fresh) as binary:
            binary.write(b"partial")
            raise KeyError("failed while writing")
    assert not fresh.exists() and leftovers(out) == []


# Microdata ----------------------------------------------------------------------------------------------

PERSONAL_COLUMNS = ("surname", "given_names", "national_id", "passport_number", "phone", "date_of_birth")


def stored_people():
    return db.session.execute(text(f"SELECT {', '.join(PERSONAL_COLUMNS)} FROM person")).all()


def assert_no_personal_data(content, people):
    """No name (as a word), ID or passport number, phone or date of birth of any stored person in `content`."""
    lowered = content.lower()
    words = set(re.findall(r"[^\W\d_]+", lowered))
    for person in people:
        surname, given, national_id, passport, phone, born = person
        for name in (surname, *given.split()):
            for word in re.findall(r"[^\W\d_]+", name.lower()):
                assert word not in words, f"the name {name!r} appears"
        for value in (national_id, passport, phone, phone and phone.lstrip("+"), str(born)[:10]):
            if value:
                assert value.lower() not in lowered, f"{value!r} appears"
    assert not re.search(r"\d{4}-\d{2}-\d{2}", content), "an exact date appears"


def microdata_source(period):
    """The registrations microdata covers, read with plain SQL."""
    return db.session.execute(text(
        "SELECT p.id, p.same_as_id, r.registered_on, r.office_code, r.status, p.sex, p.date_of_birth, "
        "p.home_subdivision, r.destination_country, r.occupation_code, p.education_level, r.intended_sector "
        "FROM registration r JOIN person p ON p.id = r.person_id "
        "WHERE r.deleted_at IS NULL AND p.deleted_at IS NULL AND p.citizenship = 'ZW' "
        "AND r.registered_on BETWEEN :start AND :end"),
        {"start": period.start, "end": period.end}).all()


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _five_year_group(born, day):
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    low = 15 + 5 * ((age - 15) // 5)
    return "65+" if age >= 65 else f"{low}-{low + 4}"


def documented_key(record):
    """The person key as docs/statistics.md defines it: the first 16 hexadecimal digits of SHA-256 over the
    secret followed by the person's id (the linked person's id for a linked record), worked out here."""
    person = uuid.UUID(str(record.same_as_id or record.id)).hex
    return hashlib.sha256((pseudonym_prefix() + person).encode()).hexdigest()[:16]


def stored_quasi_identifiers(record):
    return (record.sex, _five_year_group(_as_date(record.date_of_birth), _as_date(record.registered_on)),
            record.home_subdivision or "_U", record.destination_country, record.occupation_code,
            record.education_level or "_U")


def _matching(rows, records, fits):
    """A pairing of every row with its own record such that fits(row, record), or None (augmenting paths)."""
    owner = {}  # record index: row index

    def place(i, seen):
        for j, record in enumerate(records):
            if j not in seen and fits(rows[i], record):
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    if not all(place(i, set()) for i in range(len(rows))):
        return None
    return [(rows[i], records[j]) for j, i in owner.items()]


def paired(body, source, fits=lambda row, record: True):
    """The file's rows each with the registration it stands for. The rows are in no particular order and
    carry no registration number: rows and registrations are grouped by what the file shows as recorded
    (person key as documented, month, office, status, industry), the groups must be the same with the same
    sizes, and within a group (the same person twice in a month at most, in practice) rows are paired with
    registrations so that fits(row, record) holds for every pair."""
    rows_by, records_by = defaultdict(list), defaultdict(list)
    for row in body:
        rows_by[(row[0], row[1], row[2], row[3], row[10])].append(row)
    for record in source:
        records_by[(documented_key(record), _as_date(record.registered_on).isoformat()[:7], record.office_code,
                    record.status, record.intended_sector or "_U")].append(record)
    assert {key: len(rows) for key, rows in rows_by.items()} == {
        key: len(records) for key, records in records_by.items()}
    pairs = []
    for key, rows in rows_by.items():
        matched = _matching(rows, records_by[key], fits)
        assert matched is not None, f"no pairing of the rows {rows} with their registrations"
        pairs.extend(matched)
    return pairs


MICRODATA_HEADER = ["person_key", "month", "office", "status", "sex", "age_group", "home_area", "destination",
                    "occupation", "education", "industry"]
QUASI = MICRODATA_HEADER[4:10]


def test_microdata_is_pseudonymised_and_k_anonymous(demo_rows, out):
    path = out / "microdata.csv"
    before = count_events("extract.created")
    manifest = write_microdata(MicrodataRequest(EVERYTHING), path, run_by="statistician",
                               actor=user("statistician"))
    rows = read_csv(path)
    header, body = rows[0], rows[1:]
    assert header == MICRODATA_HEADER
    source = microdata_source(EVERYTHING)
    assert len(body) == len(source) == manifest.rows >= 500
    assert_no_personal_data(path.read_text(encoding="utf-8"), stored_people())
    assert sorted(p.name for p in out.iterdir()) == ["microdata.csv"]  # no temporary file left beside it

    # The rows are the registrations: each person's key as documented (on PostgreSQL worked out in SQL),
    # month, office, status and industry as stored.
    paired(body, source)
    keys = [row[0] for row in body]
    people = [str(record.same_as_id or record.id) for record in source]
    assert all(re.fullmatch(r"[0-9a-f]{16}", key) for key in keys)
    assert len(set(keys)) == len(set(people)) < len(people), "people registered twice make the check meaningful"
    linked = [record for record in source if record.same_as_id]
    assert linked and all(documented_key(record) in keys for record in linked)
    for record in source:
        assert documented_key(record) not in str(record.id).replace("-", "")

    # The stored quasi-identifiers are not k-anonymous; the published ones are.
    stored = Counter(stored_quasi_identifiers(record) for record in source)
    assert min(stored.values()) < K
    published = Counter(tuple(row[4:10]) for row in body)
    for values, size in published.items():
        assert size >= K or set(values) == {"*"}, (values, size)
    starred = published.get(("*",) * 6, 0)
    assert starred <= 0.02 * len(body) + K  # suppression is the last resort, not the rule
    assert len(published) > 1

    # The manifest describes the plan: k, what was generalised, how many records were suppressed.
    notes = manifest.notes
    assert f"k = {K}" in notes
    if starred:
        assert f"{starred:,} of {len(body):,} records" in notes
    else:
        assert "no record needed suppressing" in notes
    ten_year = {"15-24", "25-34", "35-44", "45-54", "55-64"}
    if {row[5] for row in body} & ten_year:
        assert "age group generalised" in notes
    if all(len(row[8]) < 4 or row[8] == "*" for row in body):
        assert "occupation" in notes
    assert manifest.sha256 == sha256_of(path) and manifest.run_by == "statistician"
    assert count_events("extract.created") == before + 1
    event = events("extract.created")[-1]
    assert event.details["kind"] == "microdata" and event.details["rows"] == len(body)
    assert event.details["disclosure_control"] == notes and event.actor == "statistician"

    # A second extract gives every person the same key again.
    again = out / "again.csv"
    write_microdata(MicrodataRequest(EVERYTHING), again, run_by="statistician")
    assert Counter(row[0] for row in read_csv(again)[1:]) == Counter(keys)


def test_microdata_for_a_larger_k_and_filters(demo_rows, out):
    path = out / "hre.csv"
    period = parse_period("2025")
    manifest = write_microdata(MicrodataRequest(period, "HRE", "ZA"), path, run_by="statistician", k=10)
    body = read_csv(path)[1:]
    assert {(row[2], row[1][:4]) for row in body} == {("HRE", "2025")}
    assert all(row[7] in ("ZA", "SADC", "*") for row in body)
    expected = [record for record in microdata_source(period)
                if record.office_code == "HRE" and record.destination_country == "ZA"]
    assert len(body) == len(expected) == manifest.rows > 0
    paired(body, expected)
    for values, size in Counter(tuple(row[4:10]) for row in body).items():
        assert size >= 10 or set(values) == {"*"}
    assert "k = 10" in manifest.notes
    assert manifest.filters == {"period": "2025", "from": "2025-01-01", "to": "2025-12-31", "office": "HRE",
                                "destination": "ZA"}


def test_microdata_csv_and_xlsx_hold_the_same_rows(demo_rows, out, monkeypatch):
    # On PostgreSQL the CSV reads the rows once and counts their classes as they come, the XLSX counts them
    # with a GROUP BY and generalises in SQL: both must publish the same rows under the same plan.
    for k in (K, 25):
        csv_manifest = write_microdata(MicrodataRequest(EVERYTHING), out / f"k{k}.csv", run_by="statistician", k=k)
        xlsx_manifest = write_microdata(MicrodataRequest(EVERYTHING), out / f"k{k}.xlsx", run_by="statistician",
                                        k=k, file_format="xlsx")
        from_csv = read_csv(out / f"k{k}.csv")
        book = load_workbook(out / f"k{k}.xlsx", read_only=True)
        from_xlsx = [["" if value is None else str(value) for value in row]
                     for row in book["Microdata"].iter_rows(values_only=True)]
        book.close()
        assert from_csv[0] == from_xlsx[0] == MICRODATA_HEADER
        assert Counter(map(tuple, from_csv[1:])) == Counter(map(tuple, from_xlsx[1:]))
        assert csv_manifest.notes == xlsx_manifest.notes and f"k = {k}" in csv_manifest.notes
        assert csv_manifest.rows == xlsx_manifest.rows == len(from_csv) - 1
    assert Counter(tuple(row[4:10]) for row in read_csv(out / f"k{K}.csv")[1:]) != Counter(
        tuple(row[4:10]) for row in from_csv[1:]), "a larger k generalises or suppresses more"
    # The rows pass through buffers of a megabyte, cut at line breaks: with buffers of a few rows (the cuts
    # fall in every row's middle somewhere) the file holds the same rows.
    monkeypatch.setattr(microdata, "COPY_BUFFER", 500)
    write_microdata(MicrodataRequest(EVERYTHING), out / "small-buffers.csv", run_by="statistician", k=25)
    assert Counter(map(tuple, read_csv(out / "small-buffers.csv"))) == Counter(map(tuple, from_csv))


def test_microdata_refuses_a_value_that_would_garble_its_rows(demo_rows, out, backend, monkeypatch):
    # The CSV on PostgreSQL marks each row's quasi-identifiers with U+001E and cuts at line breaks; a stored
    # value holding either (no code does) must stop the extract, not shift values between rows. Small
    # buffers: the refusal comes while COPY is still sending, which is then cancelled.
    monkeypatch.setattr(microdata, "COPY_BUFFER", 500)
    person = db.session.execute(text(
        "SELECT p.id FROM person p JOIN registration r ON r.person_id = p.id WHERE p.citizenship = 'ZW' "
        "AND p.deleted_at IS NULL AND r.deleted_at IS NULL ORDER BY p.id LIMIT 1")).scalar_one()
    db.session.execute(text("UPDATE person SET home_subdivision = :value WHERE id = :id"),
                       {"value": "ZW\x1eHA", "id": person})
    db.session.commit()
    before = count_events("extract.created")
    path = out / "microdata.csv"
    if backend == "postgresql":
        with pytest.raises(ValueError, match="line break or the character U\\+001E"):
            write_microdata(MicrodataRequest(EVERYTHING), path, run_by="statistician")
        db.session.rollback()  # as the command and the web page do
        assert list(out.iterdir()) == [] and count_events("extract.created") == before
        # The connection is left fit for use: with the value put right, the extract is made.
        db.session.execute(text("UPDATE person SET home_subdivision = 'ZW-HA' WHERE id = :id"), {"id": person})
        manifest = write_microdata(MicrodataRequest(EVERYTHING), path, run_by="statistician")
        assert len(read_csv(path)) - 1 == manifest.rows == len(microdata_source(EVERYTHING))
    else:  # read in batches through the csv module, which quotes what needs quoting
        manifest = write_microdata(MicrodataRequest(EVERYTHING), path, run_by="statistician")
        assert len(read_csv(path)) - 1 == manifest.rows == len(microdata_source(EVERYTHING))
        assert count_events("extract.created") == before + 1


# The full extract -----------------------------------------------------------------------------------------

AGREEMENT = Disclosure("International Organization for Migration", "Reintegration follow-up",
                       "MoU MOL-IOM 2026/04")


def test_full_extract_is_refused_to_anyone_but_an_administrator(demo_rows, out):
    path = out / "full.csv"
    before = count_events("extract.disclosed"), count_events("extract.created")
    for actor in (user("statistician"), user("officer"), user("supervisor"), "a name, not a user"):
        with pytest.raises(Forbidden, match="Only administrators"):
            write_full_extract(MicrodataRequest(EVERYTHING), AGREEMENT, path, actor)
        assert list(out.iterdir()) == [], actor
    assert (count_events("extract.disclosed"), count_events("extract.created")) == before


def test_full_extract_needs_recipient_purpose_and_agreement(demo_rows, out):
    path = out / "full.csv"
    before = count_events("extract.disclosed")
    for disclosure, fields in ((Disclosure("", "", ""), {"recipient", "purpose", "agreement"}),
                               (Disclosure("IOM", "  ", "MoU 1"), {"purpose"}),
                               (Disclosure("IOM", "Research", "x" * 201), {"agreement"})):
        with pytest.raises(ValidationFailed) as refused:
            write_full_extract(MicrodataRequest(EVERYTHING), disclosure, path, user("admin"))
        assert set(refused.value.errors) == fields
        assert list(out.iterdir()) == []
    assert count_events("extract.disclosed") == before


def test_full_extract_holds_personal_data_and_is_recorded_in_the_disclosure_log(demo_rows, out):
    path = out / "full.csv"
    period = parse_period("2025")
    manifest = write_full_extract(MicrodataRequest(period, office="BBR"), AGREEMENT, path, user("admin"))
    rows = read_csv(path)
    header, body = rows[0], rows[1:]
    for column in ("registration_number", "surname", "given_names", "date_of_birth", "national_id",
                   "passport_number", "phone"):
        assert column in header
    expected = db.session.execute(text(
        "SELECT r.registration_number, p.surname, p.national_id, p.date_of_birth FROM registration r "
        "JOIN person p ON p.id = r.person_id WHERE r.deleted_at IS NULL AND p.deleted_at IS NULL "
        "AND r.office_code = 'BBR' AND r.registered_on BETWEEN '2025-01-01' AND '2025-12-31'")).all()
    got = {row[header.index("registration_number")]: row for row in body}
    assert len(body) == len(got) == len(expected) == manifest.rows > 0
    for number, surname, national_id, born in expected:
        row = got[number]
        assert row[header.index("surname")] == surname
        assert row[header.index("national_id")] == national_id
        assert row[header.index("date_of_birth")] == str(born)[:10]
    assert manifest.sha256 == sha256_of(path)
    (event,) = events("extract.disclosed")
    assert event.actor == "admin"
    assert event.details["recipient"] == "International Organization for Migration"
    assert event.details["purpose"] == "Reintegration follow-up"
    assert event.details["agreement"] == "MoU MOL-IOM 2026/04"
    assert event.details["filters"] == {"period": "2025", "from": "2025-01-01", "to": "2025-12-31",
                                        "office": "BBR", "destination": None}
    assert event.details["sha256"] == manifest.sha256 and event.details["rows"] == len(body)



# SADC's members: the coarser level of the destination in microdata.
SADC_MEMBERS = {"AO", "BW", "KM", "CD", "LS", "MG", "MW", "MU", "MZ", "NA", "SC", "ZA", "SZ", "TZ", "ZM"}
BROAD_LEVELS = {"0-2": "012", "3-4": "34", "5-8": "5678"}


def generalises(published, stored, name):
    """Whether `published` is `stored` itself, a coarser group that contains it, or removed (*)."""
    if published in ("*", stored):
        return True
    if name == "age_group":
        low, high = (int(part) for part in published.split("-"))
        return stored != "65+" and high - low == 9 and low <= int(stored.split("-")[0]) <= high
    if name == "destination":
        return published == ("SADC" if stored in SADC_MEMBERS else "OTHER")
    if name == "occupation":
        return stored.startswith(published) and len(published) in (1, 2)
    if name == "education":
        return stored in BROAD_LEVELS.get(published, "")
    return False


def check_truthful_generalisation(out, k):
    path = out / f"k{k}.csv"
    manifest = write_microdata(MicrodataRequest(EVERYTHING), path, run_by="statistician", k=k)
    body = read_csv(path)[1:]
    source = microdata_source(EVERYTHING)
    assert len(body) == len(source) == manifest.rows

    def truthful(row, record):
        return all(generalises(value, stored, name)
                   for name, value, stored in zip(QUASI, row[4:10], stored_quasi_identifiers(record)))

    coarser = Counter()
    for row, record in paired(body, source, truthful):
        for name, value, stored in zip(QUASI, row[4:10], stored_quasi_identifiers(record)):
            coarser[name] += value != stored
    for values, size in Counter(tuple(row[4:10]) for row in body).items():
        assert size >= k or set(values) == {"*"}, (values, size)
    assert f"k = {k}" in manifest.notes
    assert coarser["destination"] > 0  # generalised to SADC or elsewhere: the hierarchy was used


def test_microdata_generalises_truthfully_for_any_k(demo_rows, out):
    for k in (8, 40):
        check_truthful_generalisation(out, k)


@pytest.mark.parametrize("backend", ["postgresql"])  # the COPY path
def test_the_pseudonym_secret_never_travels_in_a_statements_text(demo_rows, out, backend, monkeypatch):
    """COPY takes no server-side parameters; were the secret quoted into the statement, pg_stat_activity and
    the server's log could show it. The statements sent are recorded on their way (the database is real)."""
    import psycopg

    from registry.statistics.microdata import pseudonym_prefix

    sent = []
    real_copy = psycopg.Cursor.copy

    def recording_copy(self, statement, params=None, **kwargs):
        sent.append(statement if isinstance(statement, str) else statement.as_string(self))
        return real_copy(self, statement, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", recording_copy)
    write_microdata(MicrodataRequest(EVERYTHING), out / "microdata.csv", run_by="statistician",
                    actor=user("statistician"))
    assert sent, "the extract did not use COPY"
    secret = pseudonym_prefix()
    assert all(secret not in statement for statement in sent)
