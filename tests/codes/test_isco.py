"""ISCO-08: the packaged list, its agreement with the reference file, and `flask codes import-isco`."""
import csv
import re
from collections import Counter

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from registry.codes.isco import PACKAGED_FILE, all_groups, read_packaged
from registry.codes.models import IscoGroup
from registry.config import PROJECT_ROOT
from registry.extensions import db
from tests.conftest import skip_or_fail

# The ESCO export of the ISCO-08 groups, kept beside the project (../shared/data, see its SOURCE.md).
REFERENCE = PROJECT_ROOT.parent / "shared" / "data" / "isco08" / "ISCOGroups_en.csv"
# Where the packaged list follows the ILO's own wording and ESCO's export differs beyond spelling:
# the ILO titles major group 8 "Plant and machine operators, and assemblers"; ESCO drops the comma.
ILO_WORDING = {"8"}


@pytest.fixture(scope="module")
def reference():
    """code -> title from the reference file, read with a real CSV parser (its fields span lines)."""
    if not REFERENCE.exists():
        skip_or_fail(f"the ISCO-08 reference file is missing: {REFERENCE}")
    with REFERENCE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: " ".join(row["preferredLabel"].split()) for row in csv.DictReader(handle)}


def comparable(title):
    """Ignore case, apostrophe style and British/American -ise/-ize spelling."""
    text = title.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"is(e|es|ed|ing|ation|ations|er|ers)\b", r"iz\1", text)


def test_packaged_list_has_every_level_and_every_parent():
    entries = read_packaged()
    codes = [entry.code for entry in entries]
    assert len(codes) == len(set(codes)) == 619
    assert Counter(entry.level for entry in entries) == {1: 10, 2: 43, 3: 130, 4: 436}
    with PACKAGED_FILE.open(encoding="utf-8", newline="") as handle:
        assert all(int(row["level"]) == len(row["code"]) for row in csv.DictReader(handle))
    known = set(codes)
    assert all(code[:-1] in known for code in codes if len(code) > 1)
    assert all(re.fullmatch(r"[0-9]{1,4}", code) for code in codes)
    assert all(entry.title and entry.title == entry.title.strip() for entry in entries)


def test_packaged_list_agrees_with_the_reference_file(reference):
    packaged = {entry.code: entry.title for entry in read_packaged()}
    assert set(packaged) == set(reference)
    differing = {code for code in packaged if comparable(packaged[code]) != comparable(reference[code])}
    assert differing == ILO_WORDING, {code: (packaged[code], reference[code]) for code in differing}
    for code in ILO_WORDING:
        assert comparable(packaged[code]).replace(",", "") == comparable(reference[code]).replace(",", "")


def groups_as_stored(app):
    """Every isco_group row, retired ones included: (code, level, title, retired)."""
    with app.app_context():
        return db.session.execute(select(IscoGroup.code, IscoGroup.level, IscoGroup.title,
                                         IscoGroup.deleted_at.is_not(None)).order_by(IscoGroup.code)).all()


def counts_line(added=0, updated=0, retired=0, unchanged=0):
    return f"{added} added, {updated} updated, {retired} retired, {unchanged} unchanged"


def test_import_of_the_esco_csv_succeeds_and_is_idempotent(app, runner, reference):
    packaged = {entry.code: entry.title for entry in read_packaged()}
    changed = {code for code in reference if reference[code] != packaged[code]}

    result = runner.invoke(args=["codes", "import-isco", str(REFERENCE)])
    assert result.exit_code == 0, result.output
    assert counts_line(updated=len(changed), unchanged=619 - len(changed)) in result.output
    stored = groups_as_stored(app)
    assert {code: title for code, _, title, _ in stored} == reference
    assert not any(retired for *_, retired in stored)

    again = runner.invoke(args=["codes", "import-isco", str(REFERENCE)])
    assert again.exit_code == 0, again.output
    assert counts_line(unchanged=619) in again.output
    assert groups_as_stored(app) == stored


def write_ilo_workbook(path, entries, *, header=("Level", "ISCO 08 Code", "Title EN", "Definitions")):
    """The ILO structure spreadsheet's layout: codes as text (they keep leading zeros), one row a group."""
    book = Workbook()
    sheet = book.active
    sheet.title = "ISCO-08 EN Struct and defin"
    sheet.append(list(header))
    for code, title in entries:
        # A spreadsheet may hold a unit group's code as a number; 1111 reads back as "1111".
        cell = int(code) if code == "1111" else code
        sheet.append([len(code), cell, title, f"Definition of {code}."])
    book.save(path)


def test_import_of_an_ilo_xlsx_updates_retires_and_restores(app, runner, tmp_path):
    packaged = [(entry.code, entry.title) for entry in read_packaged()]
    retired_code = "9629"  # a unit group with siblings, so no parent is left without children
    assert retired_code in dict(packaged)
    entries = [(code, "Legislators (national and provincial)" if code == "1111" else title)
               for code, title in packaged if code != retired_code]
    workbook = tmp_path / "ISCO-08 EN Structure and definitions.xlsx"
    write_ilo_workbook(workbook, entries)

    result = runner.invoke(args=["codes", "import-isco", str(workbook)])
    assert result.exit_code == 0, result.output
    assert counts_line(updated=1, retired=1, unchanged=617) in result.output
    stored = {code: (title, retired) for code, _, title, retired in groups_as_stored(app)}
    assert stored["1111"] == ("Legislators (national and provincial)", False)
    assert stored[retired_code][1] is True  # kept for old registrations, no longer offered
    assert stored["0110"] == (dict(packaged)["0110"], False)
    with app.app_context():
        assert retired_code not in {code for code, _, _ in all_groups()}

    # Importing the packaged list brings the retired group back and the title as it was.
    restored = runner.invoke(args=["codes", "import-isco", str(PACKAGED_FILE)])
    assert restored.exit_code == 0, restored.output
    assert counts_line(updated=2, unchanged=617) in restored.output
    assert {code: title for code, _, title, _ in groups_as_stored(app)} == dict(packaged)


def packaged_lines():
    return PACKAGED_FILE.read_text(encoding="utf-8").splitlines()


def bad_files(folder):
    """(file, what the error output must say) for every way an import file can be wrong."""
    lines = packaged_lines()
    header, rows = lines[0], lines[1:]
    position = {line.split(",")[0]: number for number, line in enumerate(lines, start=1)}
    cases = []

    def add(name, content, expected):
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        cases.append((path, expected))

    add("empty.csv", "", "empty.csv: the file is empty")
    add("headers.csv", "isco,name\n" + "\n".join(rows) + "\n", "headers.csv line 1: no code or title column found")
    without_011 = [line for line in lines if line.split(",")[0] != "011"]
    line_of_0110 = next(n for n, line in enumerate(without_011, start=1) if line.startswith("0110,"))
    add("orphan.csv", "\n".join(without_011) + "\n",
        f"orphan.csv line {line_of_0110}: code 0110 has no parent group 011 in the file")
    add("badcode.csv", "\n".join(lines[:5] + ["12a,4,Not a code"] + lines[5:]) + "\n",
        "badcode.csv line 6: '12a' is not an ISCO-08 code (1 to 4 digits)")
    duplicate_line = len(lines) + 1
    add("duplicate.csv", "\n".join(lines + ["1111,4,Legislators again"]) + "\n",
        f"duplicate.csv line {duplicate_line}: code 1111 appears twice")
    add("notitle.csv", "\n".join(line if not line.startswith("1112,") else "1112,4," for line in lines) + "\n",
        f"notitle.csv line {position['1112']}: code 1112 has no title")
    add("longtitle.csv", "\n".join(line if not line.startswith("1112,") else "1112,4," + "x" * 256
                                   for line in lines) + "\n",
        f"longtitle.csv line {position['1112']}: the title of code 1112 is longer than 255 characters")
    latin1 = "\n".join(line if not line.startswith("2111,") else "2111,4,Physiciens et astronomes (\u00e9)"
                       for line in lines) + "\n"
    add("latin1.csv", latin1.encode("latin-1"), f"latin1.csv line {position['2111']}: not UTF-8 text")
    no_armed_forces = [line for line in lines if not line.startswith("0")]
    add("ninemajors.csv", "\n".join(no_armed_forces) + "\n", "ISCO-08 has 10 major groups, the file has 9")
    write_ilo_workbook(folder / "headers.xlsx", [(entry.code, entry.title) for entry in read_packaged()],
                       header=("Level", "Code number", "Name", "Definitions"))
    cases.append((folder / "headers.xlsx", "headers.xlsx line 1: no code or title column found"))
    add("garbage.xlsx", b"PK\x03\x04 this is not really a workbook" * 20, "garbage.xlsx: not a readable XLSX workbook")
    cases.append((folder / "missing.csv", "missing.csv: no such file"))
    return cases


def test_bad_import_files_are_refused_with_line_numbers_and_change_nothing(app, runner, tmp_path):
    before = groups_as_stored(app)
    with app.app_context():
        versions = db.session.scalar(select(func.sum(IscoGroup.version)))
    for path, expected in bad_files(tmp_path):
        result = runner.invoke(args=["codes", "import-isco", str(path)])
        assert result.exit_code == 1, (path.name, result.output)
        assert expected in result.output, (path.name, result.output)
        assert "nothing imported" in result.output, path.name
        assert "added" not in result.output, path.name
        assert groups_as_stored(app) == before, path.name
    with app.app_context():
        assert db.session.scalar(select(func.sum(IscoGroup.version))) == versions
