"""ISCO-08: the packaged list, lookups, and the import of the official structure from CSV or XLSX."""
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from registry.codes.models import IscoGroup
from registry.core.errors import DomainError
from registry.core.ids import stable_id
from registry.extensions import db

ISCO_VERSION = "ISCO-08 (International Labour Organization), English titles"
PACKAGED_FILE = Path(__file__).parent / "data" / "isco08.csv"
CODE_RE = re.compile(r"^[0-9]{1,4}$")
TITLE_MAX = IscoGroup.title.type.length

# Header names by layout: ours, ESCO's CSV export, and the ILO's structure spreadsheet.
CODE_HEADERS = ("code", "isco 08 code", "isco-08 code", "isco08 code", "unit")
TITLE_HEADERS = ("title", "preferredlabel", "title en", "title_en", "english title")


class IscoImportError(DomainError):
    """The file cannot be imported; `problems` lists every reason with its line number."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))


@dataclass(frozen=True)
class IscoEntry:
    code: str
    title: str

    @property
    def level(self):
        return len(self.code)


def isco_row_id(code):
    return stable_id("isco08", code)


def read_packaged():
    with PACKAGED_FILE.open(encoding="utf-8", newline="") as handle:
        return [IscoEntry(row["code"], row["title"]) for row in csv.DictReader(handle)]


def read_structure_file(path):
    """Read ISCO-08 groups from a CSV or XLSX file in any known layout; raise with every problem found."""
    path = Path(path)
    if not path.exists():
        raise IscoImportError([f"{path}: no such file"])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    else:
        rows = _csv_rows(path)
    return _parse_rows(rows, str(path.name))


def _csv_rows(path):
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise IscoImportError([f"{path.name} line {line}: not UTF-8 text; save the CSV as UTF-8"]) from None
    # Line numbers count physical lines, since quoted fields may span several (ESCO's descriptions do).
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        yield reader.line_num, row


def _xlsx_rows(path):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise IscoImportError([f"{path.name}: not a readable XLSX workbook ({exc.__class__.__name__})"]) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if cell is None else str(cell) for cell in row]
    finally:
        workbook.close()


def _find_column(header, names):
    lowered = [cell.strip().lower() for cell in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _parse_rows(rows, name):
    problems = []
    rows = iter(rows)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise IscoImportError([f"{name}: the file is empty"]) from None
    code_col = _find_column(header, CODE_HEADERS)
    title_col = _find_column(header, TITLE_HEADERS)
    if code_col is None or title_col is None:
        raise IscoImportError([
            f"{name} line {header_line}: no code or title column found; expected headers such as "
            "'code' and 'title' (or ESCO's 'code' and 'preferredLabel', or the ILO's 'ISCO 08 Code' and 'Title EN')"
        ])
    entries, lines = {}, {}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(code_col, title_col):
            problems.append(f"{name} line {line}: too few columns")
            continue
        code, title = row[code_col].strip(), " ".join(row[title_col].split())
        if code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]  # spreadsheets that stored the code as a number
        if not CODE_RE.match(code):
            problems.append(f"{name} line {line}: {code!r} is not an ISCO-08 code (1 to 4 digits)")
            continue
        if not title:
            problems.append(f"{name} line {line}: code {code} has no title")
            continue
        if len(title) > TITLE_MAX:
            problems.append(f"{name} line {line}: the title of code {code} is longer than {TITLE_MAX} characters")
            continue
        if code in entries:
            problems.append(f"{name} line {line}: code {code} appears twice")
            continue
        entries[code] = IscoEntry(code, title)
        lines[code] = line
    for code in entries:
        if len(code) > 1 and code[:-1] not in entries:
            problems.append(f"{name} line {lines[code]}: code {code} has no parent group {code[:-1]} in the file")
    if not entries and not problems:
        problems.append(f"{name}: no ISCO-08 groups found")
    majors = [code for code in entries if len(code) == 1]
    if entries and len(majors) != 10:
        problems.append(f"{name}: ISCO-08 has 10 major groups, the file has {len(majors)}")
    if problems:
        raise IscoImportError(problems)
    return sorted(entries.values(), key=lambda entry: entry.code)


def import_isco(entries):
    """Bring the isco_group table in line with `entries`; return counts of added, updated, retired, unchanged.

    Codes missing from the file are retired (tombstoned), never removed: old registrations keep their code.
    """
    existing = {group.code: group for group in db.session.scalars(select(IscoGroup))}
    counts = {"added": 0, "updated": 0, "retired": 0, "unchanged": 0}
    wanted = {entry.code for entry in entries}
    for entry in entries:
        group = existing.get(entry.code)
        if group is None:
            db.session.add(IscoGroup(id=isco_row_id(entry.code), code=entry.code, level=entry.level, title=entry.title))
            counts["added"] += 1
        elif group.title != entry.title or group.is_deleted:
            group.title = entry.title
            group.deleted_at = None
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    for code, group in existing.items():
        if code not in wanted and not group.is_deleted:
            group.mark_deleted()
            counts["retired"] += 1
    db.session.flush()
    return counts


def occupation_title(code):
    if not code:
        return None
    return db.session.scalar(select(IscoGroup.title).where(IscoGroup.code == code, IscoGroup.deleted_at.is_(None)))


def occupation_titles(codes):
    """{ISCO-08 code: title} for many codes in one query, as occupation_title reads each."""
    return dict(db.session.execute(select(IscoGroup.code, IscoGroup.title).where(
        IscoGroup.code.in_(list(codes)), IscoGroup.deleted_at.is_(None))).all())


def is_unit_group(code):
    return bool(code) and len(code) == 4 and occupation_title(code) is not None


def all_groups():
    return db.session.execute(
        select(IscoGroup.code, IscoGroup.level, IscoGroup.title)
        .where(IscoGroup.deleted_at.is_(None))
        .order_by(IscoGroup.code)
    ).all()
