"""Draw registration and referral slips as PDF: `render_slip(content, layout) -> bytes`, `render_batch(contents,
layout)`.

Pure: the caller hands over everything printed (`SlipContent` or `ReferralSlipContent`), already signed; nothing here knows of Flask
or the database. Two layouts: `a4` (one slip per A4 page) and `receipt` (an 80 mm roll, as long as the slip
needs). Labels are in English and in the office's second language (labels.py); text is set in DejaVu Sans,
embedded in the PDF (fonts.py). The QR code is drawn as vector squares, sharp on any printer.
"""
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from io import BytesIO

import zxingcpp
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from registry.slips import labels as L
from registry.slips.fonts import register_fonts
from registry.slips.payload import format_short_code

LAYOUTS = ("a4", "receipt")
RECEIPT_WIDTH = 80 * mm
# A QR module of 0.75 mm is 6 dots of a 203 dpi receipt printer, so every module prints the same size.
QR_MODULE = {"a4": 0.8 * mm, "receipt": 0.75 * mm}
QUIET_MODULES = 4  # the blank margin a QR code needs around it (ISO/IEC 18004)
A4_MARGIN = 18 * mm
RIGHTS_SIZES = (10, 9, 8, 7)  # points, tried in turn until an A4 slip fits its page


class LayoutUnknown(ValueError):
    pass


@dataclass(frozen=True)
class SlipContent:
    """Everything one slip shows, ready to print."""

    registration_number: str
    surname: str
    given_names: str
    date_of_birth: date
    sex: str  # F or M
    destination: str  # e.g. "South Africa, Limpopo"
    destination_country: str  # ISO 3166-1, for the country's name in the second language
    occupation: str  # e.g. "9211 — Crop farm labourers"
    office: str  # the registering office, e.g. "BBR — Labour Migration Centre, Beitbridge"
    registered_on: date
    officer: str
    printed_on: date
    copy_number: int  # 0: the original
    cancelled: bool
    short_code: str
    qr_text: str
    language: str | None = None  # the printing office's second language (labels.LANGUAGES)
    helpline: str | None = None  # the printing office's helpline numbers and addresses, as it typed them
    office_address: str | None = None  # the printing office's
    office_phone: str | None = None

    @property
    def name(self):
        return f"{self.surname.upper()}, {self.given_names}"


@dataclass(frozen=True)
class ReferralSlipContent:
    """Everything one referral slip shows, ready to print."""

    reference: str  # BBR-2026-000123-K/R2
    registration_number: str
    surname: str
    given_names: str
    date_of_birth: date
    target_kind: str  # e.g. "Medical examination", "Vacancy"
    target_name: str  # the service, or the job and employer
    target_address: str
    target_phone: str | None
    target_hours: str | None
    job: str | None  # a vacancy's occupation, place, period and wage
    what_to_bring: str | None  # one item a line
    office: str
    issued_on: date
    due_by: date
    officer: str
    printed_on: date
    copy_number: int
    cancelled: bool
    short_code: str
    qr_text: str
    language: str | None = None
    helpline: str | None = None
    office_address: str | None = None
    office_phone: str | None = None

    @property
    def name(self):
        return f"{self.surname.upper()}, {self.given_names}"


@dataclass(frozen=True)
class _Kind:
    """What differs between a registration slip and a referral slip: title, number, fields, the text below."""

    title: str
    number_label: str
    number: str
    fields: list
    notes: object  # draws the text under the fields: (page, content, labels, x, width, size)
    cancelled_note: str
    verify_note: str


def _kind(content, labels):
    if isinstance(content, ReferralSlipContent):
        return _Kind(L.REFERRAL_TITLE, L.REFERENCE, content.reference, _referral_fields(content, labels),
                     _bring_and_help, L.REFERRAL_CANCELLED_NOTE, L.REFERRAL_VERIFY_NOTE)
    return _Kind(L.TITLE, L.NUMBER, content.registration_number, _fields(content, labels), _rights_and_help,
                 L.CANCELLED_NOTE, L.VERIFY_NOTE)


DARK_RUN = re.compile(rb"\x00+")  # zxing-cpp draws dark modules as 0, light ones as 255


@dataclass(frozen=True)
class QrSymbol:
    """A QR code as its side in modules and its rows' runs of dark modules: (row, first column, length)."""

    size: int
    runs: tuple


def qr_symbol(text):
    """The QR code of `text` at error correction level M (15% of it may be lost), made by zxing-cpp."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = symbol.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    pixels = bytes(memoryview(image))
    runs = []
    for row in range(size):
        offset = row * size
        for match in DARK_RUN.finditer(pixels, offset, offset + size):
            runs.append((row, match.start() - offset, match.end() - match.start()))
    return QrSymbol(size, tuple(runs))


def qr_matrix(text):
    """The same QR code as rows of booleans, True for a dark module (for tests and comparisons)."""
    symbol = qr_symbol(text)
    rows = [[False] * symbol.size for _ in range(symbol.size)]
    for row, start, length in symbol.runs:
        rows[row][start:start + length] = [True] * length
    return rows


class _Page:
    """Drawing operations measured from the top of the page, so a receipt's length is known before drawing."""

    def __init__(self, regular, bold):
        self.regular, self.bold = regular, bold
        self.ops = []
        self.y = 0.0

    def text(self, x, text, size, bold=False, leading=1.25, center=False):
        font = self.bold if bold else self.regular
        self.ops.append(("text", x, self.y + size, font, size, text, center))
        self.y += size * leading

    def wrapped(self, x, text, size, width, bold=False, leading=1.25, indent=0.0):
        font = self.bold if bold else self.regular
        for number, line in enumerate(_split(text, font, size, width - indent)):
            self.ops.append(("text", x + (indent if number else 0), self.y + size, font, size, line, False))
            self.y += size * leading

    def box(self, x, top, width, height, line_width=1.2):
        self.ops.append(("box", x, top, width, height, line_width))

    def rule(self, x, width):
        self.ops.append(("rule", x, self.y, width))

    def qr(self, x, top, symbol, module):
        self.ops.append(("qr", x, top, symbol, module))

    def draw(self, canvas, height):
        """Every text in one PDF text object (one BT ... ET), then the lines, boxes and the QR code."""
        text = canvas.beginText()
        font_now = None
        for op in self.ops:
            if op[0] != "text":
                continue
            _, x, baseline, font, size, line, center = op
            if (font, size) != font_now:
                text.setFont(font, size)
                font_now = (font, size)
            if center:
                x -= stringWidth(line, font, size) / 2
            text.setTextOrigin(x, height - baseline)
            text.textOut(line)
        canvas.drawText(text)
        for op in self.ops:
            kind = op[0]
            if kind == "box":
                _, x, top, width, box_height, line_width = op
                canvas.setLineWidth(line_width)
                canvas.rect(x, height - top - box_height, width, box_height, stroke=1, fill=0)
            elif kind == "rule":
                _, x, top, width = op
                canvas.setLineWidth(0.5)
                canvas.line(x, height - top, x + width, height - top)
            elif kind == "qr":
                _, x, top, symbol, module = op
                _draw_qr(canvas, x, height - top, symbol, module)


@lru_cache(maxsize=4096)
def _split(text, font, size, width):
    """Lines of `text` that fit `width`. Cached: the rights and help texts are the same on every slip of an
    office, so a batch wraps them once."""
    return tuple(simpleSplit(text, font, size, width)) or ("",)


def _draw_qr(canvas, left, top, symbol, module):
    """The dark modules as one filled path of horizontal runs. Drawn in a coordinate system of one unit a
    module, so every rectangle is whole numbers: the PDF operators are written directly (ReportLab's
    addLiteral), which is many times faster than a path.rect call per run and draws exactly the same."""
    size = symbol.size
    canvas.saveState()
    canvas.transform(module, 0, 0, module, left, top - size * module)
    canvas.addLiteral("\n".join(f"{start} {size - 1 - row} {length} 1 re" for row, start, length in symbol.runs)
                      + "\nf")
    canvas.restoreState()


def _fields(content, labels):
    """(label, second-language label, value) for every field, in print order."""
    sex_english, sex_other = labels.both(L.SEXES.get(content.sex, content.sex))
    destination = content.destination
    other_country = L.country_name(content.destination_country, labels.language) if labels.language else None
    if other_country and other_country not in destination:
        destination = f"{destination} ({other_country})"
    values = (
        (L.NAME, content.name),
        (L.DATE_OF_BIRTH, content.date_of_birth.isoformat()),
        (L.SEX, sex_english if sex_other is None else f"{sex_english} / {sex_other}"),
        (L.DESTINATION, destination),
        (L.OCCUPATION, content.occupation),
        (L.OFFICE, content.office),
        (L.REGISTERED_ON, content.registered_on.isoformat()),
        (L.OFFICER, content.officer),
        (L.PRINTED_ON, content.printed_on.isoformat()),
    )
    return [(*labels.both(label), value) for label, value in values]


def _referral_fields(content, labels):
    """(label, second-language label, value) for every field of a referral slip, in print order."""
    values = (
        (L.NAME, content.name),
        (L.DATE_OF_BIRTH, content.date_of_birth.isoformat()),
        (L.NUMBER, content.registration_number),
        (L.REFERRED_TO, f"{content.target_kind}: {content.target_name}"),
        (L.ADDRESS, content.target_address),
        (L.PHONE, content.target_phone),
        (L.HOURS, content.target_hours),
        (L.JOB, content.job),
        (L.ISSUED_ON, content.issued_on.isoformat()),
        (L.ATTEND_BY, content.due_by.isoformat()),
        (L.OFFICE, content.office),
        (L.OFFICER, content.officer),
        (L.PRINTED_ON, content.printed_on.isoformat()),
    )
    return [(*labels.both(label), value) for label, value in values if value]


def _banners(page, content, labels, x, width, cancelled_note):
    """CANCELLED and COPY n, boxed, so they cannot be missed (or cut off without it showing)."""
    if content.cancelled:
        top = page.y
        page.y += 3
        page.wrapped(x + 4, labels.joined(L.CANCELLED), 13, width - 8, bold=True)
        page.wrapped(x + 4, labels.joined(cancelled_note, separator=" "), 8, width - 8)
        page.box(x, top, width, page.y - top + 2, line_width=2)
        page.y += 6
    if content.copy_number:
        top = page.y
        page.y += 3
        page.wrapped(x + 4, labels.joined(L.COPY, number=content.copy_number), 12, width - 8, bold=True)
        page.box(x, top, width, page.y - top, line_width=1.2)
        page.y += 6


def _bullet(page, line, labels, x, width, size):
    page.wrapped(x, "• " + line, size, width, indent=size * 0.8)
    translated = labels.second(line)
    if translated:
        page.wrapped(x + size * 0.8, translated, size - 0.5, width - size * 0.8)
    page.y += size * 0.2


def _rights_and_help(page, content, labels, x, width, size):
    page.wrapped(x, labels.joined(L.RIGHTS), size + 1.5, width, bold=True)
    for line in L.RIGHTS_LINES:
        _bullet(page, line, labels, x, width, size)
    page.y += size * 0.4
    _help(page, content, labels, x, width, size)


def _bring_and_help(page, content, labels, x, width, size):
    """A referral slip: what to bring (the target's own list, then this slip and an identity document)."""
    page.wrapped(x, labels.joined(L.WHAT_TO_BRING), size + 1.5, width, bold=True)
    for line in (content.what_to_bring or "").splitlines():
        if line.strip():
            page.wrapped(x, "• " + line.strip(), size, width, indent=size * 0.8)
            page.y += size * 0.2
    _bullet(page, L.BRING_SLIP, labels, x, width, size)
    page.y += size * 0.4
    _help(page, content, labels, x, width, size)


def _help(page, content, labels, x, width, size):
    page.wrapped(x, labels.joined(L.HELP), size + 1.5, width, bold=True)
    if content.helpline:
        for line in content.helpline.splitlines():
            if line.strip():
                page.wrapped(x, line.strip(), size, width, indent=size)
    if content.office_address:
        page.wrapped(x, f"{labels.joined(L.ADDRESS)}: {content.office_address}", size, width, indent=size)
    if content.office_phone:
        page.wrapped(x, f"{labels.joined(L.PHONE)}: {content.office_phone}", size, width, indent=size)


def _a4(content, labels, regular, bold):
    """One A4 page. When a long helpline text would run off the page, the rights and help are set smaller."""
    symbol = qr_symbol(content.qr_text)
    for size in RIGHTS_SIZES:
        page = _a4_page(content, labels, regular, bold, symbol, size)
        if page.y <= A4[1] - A4_MARGIN:
            break
    return page, A4


def _a4_page(content, labels, regular, bold, symbol, rights_size):
    width = A4[0]
    margin = A4_MARGIN
    inner = width - 2 * margin
    kind = _kind(content, labels)
    page = _Page(regular, bold)
    page.y = margin
    english, other = labels.both(kind.title)
    page.text(margin, english, 18, bold=True)
    if other:
        page.text(margin, other, 12)
    page.y += 4
    _banners(page, content, labels, margin, inner, kind.cancelled_note)

    module = QR_MODULE["a4"]
    qr_size = symbol.size * module
    qr_left = width - margin - qr_size
    column = qr_left - QUIET_MODULES * module - margin  # the fields keep out of the QR code's quiet zone
    top = page.y
    page.wrapped(margin, labels.joined(kind.number_label), 9, column)
    page.text(margin, kind.number, 20, bold=True, leading=1.5)
    for label, second, value in kind.fields:
        page.wrapped(margin, label if second is None else f"{label} / {second}", 8, column)
        page.wrapped(margin, value, 12, column, bold=True, leading=1.3)
        page.y += 2
    page.qr(qr_left, top + QUIET_MODULES * module, symbol, module)
    code_top = top + (symbol.size + QUIET_MODULES + 2) * module
    page.ops.append(("text", qr_left + qr_size / 2, code_top + 9, regular, 9, labels.joined(L.SHORT_CODE), True))
    page.ops.append(("text", qr_left + qr_size / 2, code_top + 27, bold, 16, format_short_code(content.short_code),
                     True))
    page.y = max(page.y, code_top + 36) + 6
    page.rule(margin, inner)
    page.y += 10
    kind.notes(page, content, labels, margin, inner, rights_size)
    page.y += 8
    page.rule(margin, inner)
    page.y += 6
    page.wrapped(margin, kind.verify_note, 8, inner)
    verify_other = labels.second(kind.verify_note)
    if verify_other:
        page.wrapped(margin, verify_other, 8, inner)
    return page


def _receipt(content, labels, regular, bold):
    width = RECEIPT_WIDTH
    margin = 4 * mm
    inner = width - 2 * margin
    kind = _kind(content, labels)
    page = _Page(regular, bold)
    page.y = 3 * mm
    english, other = labels.both(kind.title)
    page.text(width / 2, english, 12, bold=True, center=True)
    if other:
        page.text(width / 2, other, 9, center=True)
    page.y += 3
    _banners(page, content, labels, margin, inner, kind.cancelled_note)
    page.wrapped(margin, labels.joined(kind.number_label), 7.5, inner)
    page.text(margin, kind.number, 14, bold=True, leading=1.4)
    for label, second, value in kind.fields:
        page.wrapped(margin, label if second is None else f"{label} / {second}", 7, inner)
        page.wrapped(margin, value, 9.5, inner, bold=True, leading=1.25)
        page.y += 1
    symbol = qr_symbol(content.qr_text)
    module = QR_MODULE["receipt"]
    qr_size = symbol.size * module
    page.y += QUIET_MODULES * module
    page.qr((width - qr_size) / 2, page.y, symbol, module)
    page.y += qr_size + QUIET_MODULES * module
    page.text(width / 2, labels.joined(L.SHORT_CODE), 7.5, center=True)
    page.text(width / 2, format_short_code(content.short_code), 14, bold=True, center=True, leading=1.5)
    page.rule(margin, inner)
    page.y += 6
    kind.notes(page, content, labels, margin, inner, 7.5)
    page.y += 4
    page.rule(margin, inner)
    page.y += 4
    page.wrapped(margin, kind.verify_note, 6.5, inner)
    verify_other = labels.second(kind.verify_note)
    if verify_other:
        page.wrapped(margin, verify_other, 6.5, inner)
    page.y += 8 * mm  # room for the printer's cutter
    return page, (width, page.y)


def _draw(canvas, content, layout):
    if layout not in LAYOUTS:
        raise LayoutUnknown(f"There is no slip layout {layout!r}: choose a4 or receipt.")
    regular, bold = register_fonts()
    labels = L.Labels(content.language)
    page, size = (_a4 if layout == "a4" else _receipt)(content, labels, regular, bold)
    canvas.setPageSize(size)
    page.draw(canvas, size[1])
    canvas.showPage()


def _canvas(buffer, title):
    regular, _ = register_fonts()
    # The initial font too, or ReportLab adds a reference to Helvetica, a font the PDF does not carry.
    canvas = Canvas(buffer, pageCompression=1, initialFontName=regular, initialFontSize=9)
    canvas.setTitle(title)
    canvas.setCreator("registry")
    canvas.setAuthor("")
    return canvas


def render_slip(content, layout="a4"):
    """One slip as a PDF document."""
    buffer = BytesIO()
    title = (f"Referral slip {content.reference}" if isinstance(content, ReferralSlipContent)
             else f"Registration slip {content.registration_number}")
    canvas = _canvas(buffer, title)
    _draw(canvas, content, layout)
    canvas.save()
    return buffer.getvalue()


def render_batch(contents, layout="a4"):
    """Many slips in one PDF, one page each, in the order given."""
    buffer = BytesIO()
    canvas = _canvas(buffer, f"Registration slips ({len(contents)})")
    for content in contents:
        _draw(canvas, content, layout)
    canvas.save()
    return buffer.getvalue()
