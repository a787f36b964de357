"""render_slip and render_batch, read back as a person and a scanner would: every field in the PDF's text,
names with letters beyond Latin-1 intact, the font embedded, and the QR code decoded from the drawn page."""
from dataclasses import replace
from datetime import date

import pytest
from reportlab.lib.units import mm

from registry.slips import labels as L
from registry.slips.payload import (
    SlipFields, SlipPayload, fields_digest, format_short_code, key_id_of, new_key_pair, parse_payload, sign,
)
from registry.slips.render import LayoutUnknown, SlipContent, render_batch, render_slip
from tests.slips.helpers import page_images, pdf_pages, pdf_text, scan, scan_pdf

KEYS = new_key_pair()
HELPLINE = "Labour helpline 0800 123 123 (free)\nIOM Beitbridge +263 286 22 451"


def content(surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi", number="BBR-2026-000123-K", copy_number=0,
            cancelled=False, language="sn", **changes):
    fields = SlipFields(number, surname, given_names, date(1995, 3, 14), "F", "ZA", "ZA-LP", "9211", "BBR",
                        date(2026, 1, 5), "t.moyo")
    payload = sign(SlipPayload(key_id_of(KEYS[1]), "BBR", number, date(2026, 1, 7), copy_number, cancelled,
                               fields_digest(fields)), KEYS[0])
    slip = SlipContent(
        registration_number=number, surname=surname, given_names=given_names, date_of_birth=date(1995, 3, 14),
        sex="F", destination="South Africa, Limpopo", destination_country="ZA",
        occupation="9211 — Crop farm labourers", office="BBR — Labour Migration Centre, Beitbridge",
        registered_on=date(2026, 1, 5), officer="t.moyo", printed_on=date(2026, 1, 7), copy_number=copy_number,
        cancelled=cancelled, short_code=payload.short_code, qr_text=payload.text(), language=language,
        helpline=HELPLINE, office_address="Old Customs Building, Beitbridge", office_phone="+263 286 22 001",
    )
    return replace(slip, **changes)


@pytest.mark.parametrize("layout", ["a4", "receipt"])
@pytest.mark.parametrize(("surname", "given_names"), [("Nemaṱhaṅwe", "Ṱhivhulawi"), ("Muñoz", "João"),
                                                      ("Dube", "Ŵilliam Ñkosi")])
def test_every_field_is_printed_with_its_name_intact(layout, surname, given_names):
    slip = content(surname=surname, given_names=given_names)
    pdf = render_slip(slip, layout)
    assert pdf.startswith(b"%PDF-") and len(pdf_pages(pdf)) == 1
    text = pdf_text(pdf)
    for label, value in (
        ("Registration number / Nhamba yekunyoreswa", "BBR-2026-000123-K"),
        ("Name / Zita", f"{surname.upper()}, {given_names}"),
        ("Date of birth / Zuva rekuzvarwa", "1995-03-14"),
        ("Sex / Murume kana mukadzi", "Female / Mukadzi"),
        ("Destination / Kwauri kuenda", "South Africa, Limpopo"),
        ("Occupation / Basa", "9211 — Crop farm labourers"),
        ("Date registered / Zuva rekunyoreswa", "2026-01-05"),
        ("Officer / Mushandi wehofisi", "t.moyo"),
        ("Printed on / Rakadhindwa", "2026-01-07"),
        ("Short code / Kodhi pfupi", format_short_code(slip.short_code)),
    ):
        assert f"{label} {value}" in text, (label, text)
    assert "Office / Hofisi" in text and "Labour Migration Centre, Beitbridge" in text
    assert "Your rights / Kodzero dzako" in text and "Where to get help / Kwaungawana rubatsiro" in text
    for line in L.RIGHTS_LINES:
        assert line in text
        assert L.Labels("sn").second(line) in text
    assert "Labour helpline 0800 123 123 (free)" in text and "IOM Beitbridge +263 286 22 451" in text
    assert "Old Customs Building, Beitbridge" in text and "+263 286 22 001" in text
    assert "COPY" not in text and "CANCELLED" not in text  # an original of a live registration


def test_the_font_travels_inside_the_pdf():
    pdf = render_slip(content(), "a4")
    fonts = set()
    for page in pdf_pages(pdf):
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else None
            fonts.add((str(font["/BaseFont"]), descriptor is not None and "/FontFile2" in descriptor))
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert {name.split("+")[-1] for name, _ in fonts} == {"DejaVuSans", "DejaVuSans-Bold"}


@pytest.mark.parametrize("layout", ["a4", "receipt"])
def test_the_qr_code_decodes_from_the_drawn_page_and_its_signature_verifies(layout):
    slip = content(copy_number=4)
    pdf = render_slip(slip, layout)
    [[found]] = scan_pdf(pdf)
    assert found == slip.qr_text
    payload = parse_payload(found)
    assert payload.signature_valid(KEYS[1])
    assert (payload.registration_number, payload.copy_number, payload.short_code) == (
        "BBR-2026-000123-K", 4, slip.short_code)


def test_a_receipt_slip_still_scans_at_a_thermal_printers_resolution():
    pdf = render_slip(content(), "receipt")
    [image] = page_images(pdf, dpi=203)  # 8 dots a millimetre
    assert scan(image.convert("1").convert("L")) == [content().qr_text]  # black and white only


def test_copies_and_cancelled_registrations_say_so_in_both_languages():
    text = pdf_text(render_slip(content(copy_number=2, cancelled=True, language="pt"), "receipt"))
    assert "COPY 2 / CÓPIA 2" in text
    assert "CANCELLED / ANULADO" in text
    assert "This registration has been cancelled. Este registo foi anulado." in text
    assert "Destination / Destino South Africa, Limpopo (África do Sul)" in text


def test_an_office_without_a_second_language_prints_english_only():
    text = pdf_text(render_slip(content(language=None), "a4"))
    assert "Name NEMAṰHAṄWE, Ṱhivhulawi" in text
    assert " / " not in text.replace("Female / ", "")  # no bilingual label anywhere
    assert "Zita" not in text


def test_receipts_are_80_mm_wide_and_as_long_as_their_content():
    short = pdf_pages(render_slip(content(helpline=None), "receipt"))[0].mediabox
    long = pdf_pages(render_slip(content(helpline="\n".join(f"Helpline {n}: 0800 000 00{n}" for n in range(8))),
                                 "receipt"))[0].mediabox
    assert float(short.width) == pytest.approx(80 * mm)
    assert float(long.height) > float(short.height) + 8 * 8
    a4 = pdf_pages(render_slip(content(), "a4"))[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)


def test_a_batch_has_one_page_per_slip_each_with_its_own_qr_code():
    slips = [content(number=number, surname=surname) for number, surname in (
        ("BBR-2026-000123-K", "Moyo"), ("BBR-2026-000124-U", "Ncube"), ("BBR-2026-000125-G", "Muñoz"))]
    pdf = render_batch(slips, "a4")
    assert len(pdf_pages(pdf)) == 3
    assert scan_pdf(pdf) == [[slip.qr_text] for slip in slips]
    for page, slip in enumerate(slips):
        assert f"{slip.surname.upper()}, Ṱhivhulawi" in pdf_text(pdf, page)


def test_an_unknown_layout_is_refused():
    with pytest.raises(LayoutUnknown, match="choose a4 or receipt"):
        render_slip(content(), "letter")


def text_heights(pdf):
    """The baseline height of every piece of text on the first page, in points from the bottom."""
    heights = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            heights.append(cm[5] + tm[5] * cm[3])

    pdf_pages(pdf)[0].extract_text(visitor_text=visit)
    return heights


def test_the_longest_a4_slip_still_fits_its_page():
    longest = content(copy_number=12, cancelled=True, language="nd",
                      helpline=("Helpline for migrant workers in distress, open day and night: 0800 123 123 (free "
                                "from any network)\n" * 5)[:500],
                      occupation="9999 — " + "a long occupation title that wraps " * 3,
                      office_address="Old Customs Building, Main Road, Beitbridge, Matabeleland South Province, "
                                     "Zimbabwe")
    pdf = render_slip(longest, "a4")
    assert len(pdf_pages(pdf)) == 1
    heights = text_heights(pdf)
    assert min(heights) > 15 * mm and max(heights) < 297 * mm - 15 * mm
    assert L.VERIFY_NOTE in pdf_text(pdf) and "Hlola leli phepha" in pdf_text(pdf)
    [[found]] = scan_pdf(pdf)
    assert found == longest.qr_text
