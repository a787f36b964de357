"""The printed group list of candidates who leave together for a job order: for the transport operator and
the border crossing. A pure generator: `render_group_list(content) -> bytes` knows nothing of Flask or the
database (STYLE.md habit 10); `group_list_content` gathers what it prints."""
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registry.codes.geography import country_name, subdivision_name
from registry.people.identifiers import display_national_id
from registry.people.phones import format_phone
from registry.slips.fonts import register_fonts

COLUMNS = ("No.", "Surname", "Given names", "Sex", "Date of birth", "National ID", "Passport", "Registration",
           "Departed")


@dataclass(frozen=True)
class GroupRow:
    surname: str
    given_names: str
    sex: str
    date_of_birth: date
    national_id: str
    passport: str
    registration_number: str
    departed_on: date | None


@dataclass(frozen=True)
class GroupListContent:
    job: str
    employer: str
    employer_address: str
    employer_phone: str
    destination: str
    agency: str
    departure_on: date
    office: str
    printed_by: str
    printed_at: datetime
    rows: tuple


def _place(country, subdivision):
    name = country_name(country) or country
    return f"{subdivision_name(subdivision) or subdivision}, {name}" if subdivision else name


def group_list_content(vacancy, members, departure_on, office, actor, printed_at):
    employer = vacancy.employer
    rows = []
    for member in members:
        person = member.referral.registration.person
        passport = f"{person.passport_number} ({person.passport_country})" if person.passport_number else ""
        rows.append(GroupRow(
            surname=person.surname, given_names=person.given_names, sex=person.sex,
            date_of_birth=person.date_of_birth,
            national_id=display_national_id(person.national_id, person.national_id_country),
            passport=passport, registration_number=member.referral.registration_number,
            departed_on=member.departed_on))
    agency = vacancy.agency
    return GroupListContent(
        job=f"{vacancy.title} ({vacancy.occupation_code})", employer=employer.name,
        employer_address=vacancy.address or employer.address or "",
        employer_phone=format_phone(employer.phone) if employer.phone else "",
        destination=_place(vacancy.country, vacancy.subdivision),
        agency=f"{agency.name}, licence {agency.licence_number}" if agency else "none",
        departure_on=departure_on, office=office, printed_by=actor.username, printed_at=printed_at,
        rows=tuple(rows))


def render_group_list(content):
    """The group list as an A4 landscape PDF, as many pages as it takes, the heading repeated on each."""
    regular, bold = register_fonts()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
        bottomMargin=14 * mm, title=f"Group list: {content.job}, {content.employer}, {content.departure_on}",
        author="", creator="registry")
    text = ParagraphStyle("text", fontName=regular, fontSize=9, leading=11.5)
    heading = ParagraphStyle("heading", parent=text, fontName=bold, fontSize=14, leading=17)
    cell = ParagraphStyle("cell", parent=text, fontSize=8.5, leading=10)
    story = [
        Paragraph(f"Group list: {_escape(content.job)}", heading),
        Spacer(0, 2 * mm),
        Paragraph(f"<b>Employer</b> {_escape(content.employer)}"
                  + (f", {_escape(content.employer_address)}" if content.employer_address else "")
                  + (f", {_escape(content.employer_phone)}" if content.employer_phone else ""), text),
        Paragraph(f"<b>Destination</b> {_escape(content.destination)} &nbsp; <b>Recruitment agency</b> "
                  f"{_escape(content.agency)}", text),
        Paragraph(f"<b>Departure</b> {content.departure_on.isoformat()} &nbsp; <b>Workers</b> {len(content.rows)}"
                  f" &nbsp; <b>Office</b> {_escape(content.office)} &nbsp; <b>Printed</b> "
                  f"{content.printed_at:%Y-%m-%d %H:%M} UTC by {_escape(content.printed_by)}", text),
        Spacer(0, 4 * mm),
    ]
    data = [[Paragraph(f"<b>{name}</b>", cell) for name in COLUMNS]]
    for number, row in enumerate(content.rows, start=1):
        data.append([str(number), Paragraph(_escape(row.surname.upper()), cell),
                     Paragraph(_escape(row.given_names), cell), row.sex, row.date_of_birth.isoformat(),
                     Paragraph(_escape(row.national_id), cell), Paragraph(_escape(row.passport), cell),
                     row.registration_number, row.departed_on.isoformat() if row.departed_on else "ready"])
    widths = [10 * mm, 42 * mm, 48 * mm, 10 * mm, 24 * mm, 34 * mm, 34 * mm, 44 * mm, 22 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), regular), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story += [table, Spacer(0, 8 * mm), Paragraph(
        "Checked by (labour officer): ______________________ &nbsp;&nbsp; Driver or transport operator: "
        "______________________ &nbsp;&nbsp; Border officer: ______________________", text)]
    # The initial font too, or ReportLab adds a reference to Helvetica, a font the PDF does not carry.
    document.build(story, onFirstPage=_footer(regular), onLaterPages=_footer(regular),
                   canvasmaker=partial(Canvas, initialFontName=regular, initialFontSize=9))
    return buffer.getvalue()


def _footer(font):
    def draw(canvas, document):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawRightString(document.pagesize[0] - 12 * mm, 8 * mm, f"Page {document.page}")
        canvas.restoreState()
    return draw


def _escape(text):
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
