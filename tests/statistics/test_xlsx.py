"""The streaming XLSX writer gives the cells openpyxl's own writer gives: read back by openpyxl, every value,
type and number format is the same, in both of its reading modes; and text a worksheet cannot hold is refused."""
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from registry.statistics.xlsx import StreamingWorkbook

ROWS = [
    ["text", "", None, 5, -3, 2.5, 1e-05, True, False, date(2026, 3, 1), datetime(2026, 3, 1, 12, 30, 15)],
    [None, "  spaces kept ", "x<y&z>\"'", "'=SUM(A1)", "+263772123456", "é ñ ü", "tab\there", "line\nbreak",
     date(1950, 1, 1), 0, "z" * 40_000],
    [],
    ["after an empty row", None, None, "last"],
]


def cells(data, read_only):
    book = load_workbook(io.BytesIO(data), read_only=read_only)
    found = {name: [[(cell.value, cell.data_type, cell.number_format) for cell in row if cell.value is not None]
                    for row in book[name].iter_rows()] for name in book.sheetnames}
    book.close()
    return book.sheetnames, found


def test_cells_read_back_as_openpyxls_own():
    ours, theirs = io.BytesIO(), io.BytesIO()
    reference = Workbook(write_only=True)
    streamed = StreamingWorkbook(ours)
    for title, rows in (("Registrations", ROWS), ("Metadata", [["Title", "Test"], ["Rows", 4]])):
        sheet, streamed_sheet = reference.create_sheet(title), streamed.sheet(title)
        for row in rows:
            sheet.append(row)
            streamed_sheet.append(row)
    reference.save(theirs)
    streamed.close()

    for read_only in (True, False):
        names, found = cells(ours.getvalue(), read_only)
        assert names == ["Registrations", "Metadata"]
        assert found == cells(theirs.getvalue(), read_only)[1]
    names, found = cells(ours.getvalue(), False)
    assert (datetime(2026, 3, 1), "d", "yyyy-mm-dd") in found["Registrations"][0]  # a date, shown as one
    assert len(found["Registrations"][1][-1][0]) == 32767  # cut as openpyxl cuts


@pytest.mark.parametrize("value", ["bell\x07", "nul\x00"])
def test_text_a_worksheet_cannot_hold_is_refused(value):
    book = StreamingWorkbook(io.BytesIO())
    with pytest.raises(IllegalCharacterError):
        book.sheet("Data").append([value])


def test_sheet_names_a_workbook_cannot_have_are_refused():
    book = StreamingWorkbook(io.BytesIO())
    for title in ("", "a" * 32, "a/b", "what?"):
        with pytest.raises(ValueError):
            book.sheet(title)
