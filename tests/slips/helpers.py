"""Reading slips back as a person or a scanner would: the PDF's text (pypdf), its pages drawn to pixels
(pdfium) and the QR code found and decoded in them (zxing-cpp); and the rows slips leave behind."""
from io import BytesIO

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.slips.models import PrivateKey, Revocation, SigningKey, SlipPrint
from registry.sync.models import OutboxEntry

DPI = 200
COUNTED = {"print": SlipPrint, "revocation": Revocation, "key": SigningKey, "private_key": PrivateKey,
           "audit": AuditEvent, "outbox": OutboxEntry}


def pdf_pages(pdf):
    return PdfReader(BytesIO(pdf)).pages


def pdf_text(pdf, page=0):
    """The text of one page, with line breaks and runs of spaces made single spaces."""
    return " ".join(pdf_pages(pdf)[page].extract_text().split())


def page_images(pdf, dpi=DPI):
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].render(scale=dpi / 72).to_pil() for index in range(len(document))]
    finally:
        document.close()


def scan(image):
    """The QR codes a scanner finds in one rendered page, as text."""
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def scan_pdf(pdf):
    """Every page's QR codes: one list per page."""
    return [scan(image) for image in page_images(pdf)]


def counts():
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def audit_actions(since=0):
    return [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.at))][since:]
