"""Extract files: tables as CSV, XLSX (with a metadata sheet) and tidy SDMX-style CSV; pseudonymised
microdata; the full extract with personal data. Every file is written under a temporary name and renamed
when complete, so a failed or refused extract never leaves a file that looks finished; every extract gets a
provenance manifest (what, which filters, when, how many rows, code lists, SHA-256, who), recorded in the
audit log.
"""
import csv
import hashlib
import io
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

from registry.audit.services import record_event
from registry.core.errors import DomainError
from registry.statistics.publish import CODE_LISTS
from registry.statistics.tables import AGE_GROUPS, NOT_STATED

TABLE_FORMATS = {"csv": "CSV (UTF-8)", "xlsx": "Excel workbook with a metadata sheet",
                 "sdmx-csv": "Tidy SDMX-style CSV, one observation a row"}
MEDIA_TYPES = {"csv": "text/csv", "sdmx-csv": "text/csv",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SUFFIXES = {"csv": ".csv", "sdmx-csv": ".sdmx.csv", "xlsx": ".xlsx"}
SDMX_COLUMNS = ("DATAFLOW", "REF_AREA", "FREQ", "TIME_PERIOD", "SEX", "AGE", "CLASSIF", "CLASSIF2",
                "COUNTERPART_AREA", "UNIT_MEASURE", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS")
TOTAL_CODE, NOT_APPLICABLE = "_T", "_Z"
UNITS = {"persons": "PS", "referrals": "REFERRALS", "placements": "PLACEMENTS", "returns": "RETURNS",
         "complaints": "COMPLAINTS"}


class ExtractRefused(DomainError):
    pass


def check_format(name):
    if name not in TABLE_FORMATS:
        raise ExtractRefused(f"There is no format {name!r}: choose {', '.join(TABLE_FORMATS)}.", field="format")
    return name


# Writing safely ------------------------------------------------------------------------------------------

class HashingWriter(io.RawIOBase):
    """A binary file that also hashes and counts what goes through it."""

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, data):
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)


@contextmanager
def atomic_file(path):
    """Yield a HashingWriter on a temporary file beside `path`; rename it to `path` only when the block ends
    without an error, and remove it otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw:
            writer = HashingWriter(raw)
            yield writer
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text a spreadsheet would run as a formula (=, +, - or @ first), made inert with a leading apostrophe;
    numbers, dates and phone numbers in E.164 (+ and digits only) are left as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if value[0] in "+-" and value[1:].replace(" ", "").isdigit():
        return value
    return "'" + value


def _text_stream(binary):
    return io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)


# Tables -------------------------------------------------------------------------------------------------

def write_table_csv(published, binary):
    stream = _text_stream(binary)
    writer = csv.writer(stream)
    rows = published.rows()
    writer.writerows(rows)
    stream.detach()
    return len(rows) - 2  # data rows, without the header and the totals


def write_table_xlsx(published, binary, metadata):
    from openpyxl import Workbook  # imported on use: it adds ~0.2 s to every process start
    from openpyxl.styles import Font

    # write_only streams rows to the file, so memory stays flat however long the table is.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Table")
    bold = Font(bold=True)
    sheet.append([_bold_cell(sheet, published.spec.title, bold)])
    sheet.append([published.request.filters()])
    sheet.append([])
    sheet.append([_bold_cell(sheet, value, bold) for value in published.header()])
    body = published.body()
    for row in body:
        sheet.append(row)
    sheet.append([_bold_cell(sheet, value, bold) for value in published.total_row()])
    sheet.append([])
    sheet.append([f"x: suppressed to protect the people counted. {published.suppression}"])
    info = book.create_sheet("Metadata")
    for name, value in metadata:
        info.append([_bold_cell(info, name, bold), value])
    book.save(binary)
    return len(body)


def _bold_cell(sheet, value, font):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell


def _age_code(code):
    if code == TOTAL_CODE or code == NOT_STATED:
        return code
    for label, low, high in AGE_GROUPS:
        if code == label:
            return f"Y_GE{low}" if high >= 200 else f"Y{low}T{high}"
    return code


def _sdmx_place(observation, dimension, code, request):
    """Put one dimension's code into the tidy row's columns."""
    column, prefix = dimension.sdmx, dimension.sdmx_prefix
    if column == "SEX":
        observation["SEX"] = code
    elif column == "AGE":
        observation["AGE"] = _age_code(code)
    elif column in ("COUNTERPART_AREA", "COUNTERPART_AREA_SUB"):
        observation["COUNTERPART_AREA"] = code
    elif column == "HOME_AREA":
        observation["REF_AREA"] = current_app.config["HOME_COUNTRY"] if code == TOTAL_CODE else code
    elif column == "TIME_PERIOD_MONTH" or column == "TIME_PERIOD_QUARTER":
        if code != TOTAL_CODE:
            observation["FREQ"] = "M" if column == "TIME_PERIOD_MONTH" else "Q"
            observation["TIME_PERIOD"] = code
    else:
        slot = "CLASSIF" if observation["CLASSIF"] == NOT_APPLICABLE else "CLASSIF2"
        if code in (TOTAL_CODE, NOT_STATED):
            observation[slot] = code
        else:
            observation[slot] = f"{prefix or column + '_'}{code}".upper()


def sdmx_observations(published):
    """One dict per published number (cells and totals), in SDMX-CSV's tidy layout."""
    spec, counts, request = published.spec, published.counts, published.request
    flow = f"REGISTRY:{spec.name.upper().replace('-', '_')}(1.0)"
    base = {name: NOT_APPLICABLE for name in SDMX_COLUMNS}
    base.update(DATAFLOW=flow, REF_AREA=current_app.config["HOME_COUNTRY"],
                FREQ=request.period.frequency if request.period.frequency != "D" else "D",
                TIME_PERIOD=request.period.sdmx_time, SEX=TOTAL_CODE, AGE=TOTAL_CODE,
                UNIT_MEASURE=UNITS[spec.population.unit])
    if published.empty:
        return
    protected = published.protected
    row_keys = counts.row_keys + [tuple(TOTAL_CODE for _ in spec.rows)]
    column_keys = counts.column_keys + [TOTAL_CODE]
    for i, row_key in enumerate(row_keys):
        for j, column_key in enumerate(column_keys):
            last_row, last_column = i == len(counts.row_keys), j == len(counts.column_keys)
            if last_row and last_column:
                value, position = protected.grand_total, ("grand",)
            elif last_row:
                value, position = protected.col_totals[j], ("col", j)
            elif last_column:
                value, position = protected.row_totals[i], ("row", i)
            else:
                value, position = protected.cells[i][j], ("cell", i, j)
            observation = dict(base)
            for dimension, code in zip(spec.rows, row_key):
                _sdmx_place(observation, dimension, code, request)
            _sdmx_place(observation, spec.column, column_key, request)
            observation["OBS_VALUE"] = "" if value is None else value
            observation["OBS_STATUS"] = "M" if value is None else "A"
            observation["CONF_STATUS"] = ("C" if position in protected.primary else
                                          "D" if position in protected.secondary else "F")
            yield observation


def write_table_sdmx(published, binary):
    stream = _text_stream(binary)
    writer = csv.DictWriter(stream, fieldnames=SDMX_COLUMNS)
    writer.writeheader()
    rows = 0
    for observation in sdmx_observations(published):
        writer.writerow(observation)
        rows += 1
    stream.detach()
    return rows


# Manifests ----------------------------------------------------------------------------------------------

@dataclass
class Manifest:
    kind: str  # table, microdata, full
    subject: str  # the table's name, or what the query selects
    filters: dict
    format: str
    rows: int
    sha256: str
    size: int
    run_by: str
    generated_at: str
    file_name: str
    notes: str = ""

    def as_dict(self):
        return {"kind": self.kind, "subject": self.subject, "filters": self.filters, "format": self.format,
                "rows": self.rows, "sha256": self.sha256, "bytes": self.size, "run_by": self.run_by,
                "generated_at": self.generated_at, "file": self.file_name, "code_lists": list(CODE_LISTS),
                "node": f"{current_app.config['OFFICE_CODE']} ({current_app.config['REGISTRY_ROLE']})",
                "disclosure_control": self.notes}


def _filters(request):
    return {"period": request.period.label, "from": request.period.start.isoformat(),
            "to": request.period.end.isoformat(), "office": request.office, "destination": request.destination}


def write_table(published, path, file_format, run_by, actor=None):
    """Write a published table to `path` in one of TABLE_FORMATS; return its Manifest (also audited)."""
    check_format(file_format)
    generated = datetime.now(timezone.utc)
    with atomic_file(path) as binary:
        if file_format == "csv":
            rows = write_table_csv(published, binary)
        elif file_format == "xlsx":
            rows = write_table_xlsx(published, binary, published.metadata(run_by, generated))
        else:
            rows = write_table_sdmx(published, binary)
    manifest = Manifest("table", published.spec.name, _filters(published.request), file_format, rows,
                        binary.digest.hexdigest(), binary.size, run_by, generated.isoformat(timespec="seconds"),
                        Path(path).name, published.suppression)
    record_event("extract.created", None, actor=actor or run_by, details=manifest.as_dict())
    return manifest


def write_manifest(manifest, path):
    """The manifest as JSON beside the extract (FILE.manifest.json), written safely too."""
    target = Path(f"{path}.manifest.json")
    with atomic_file(target) as binary:
        binary.write(json.dumps(manifest.as_dict(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
    return target


def table_bytes(published, file_format, run_by, actor=None):
    """The extract as bytes for a download, with its manifest; written through a temporary file."""
    check_format(file_format)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{published.spec.name}{SUFFIXES[file_format]}"
        manifest = write_table(published, path, file_format, run_by, actor=actor)
        return path.read_bytes(), manifest

