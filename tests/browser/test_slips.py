"""An officer prints a registration slip from the web page in real Chromium; the QR code is read off the printed
PDF and checked on /verify by someone who is not logged in, as scanned and as typed from the paper."""
import re

import pytest
from playwright.sync_api import expect

from registry.slips.payload import format_short_code, parse_payload
from tests.browser.test_officer_day import log_in_with_keyboard, registered_number, start_registration
from tests.slips.helpers import pdf_text, scan_pdf

pytestmark = pytest.mark.browser


def test_an_officer_prints_a_slip_and_anyone_verifies_it(page, chromium, live_office, watch, tmp_path):
    log_in_with_keyboard(page, "officer")
    start_registration(page, "63-123456 A 78", surname="Muñoz", given_names="João")
    number = registered_number(page)

    with page.expect_download() as download:
        page.get_by_role("button", name="Print slip (A4)").click()
    assert download.value.suggested_filename == f"slip-{number}-a4.pdf"
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    pdf = path.read_bytes()
    assert f"Registration number {number}" in pdf_text(pdf) and "MUÑOZ, João" in pdf_text(pdf)
    [[scanned]] = scan_pdf(pdf)
    short_code = format_short_code(parse_payload(scanned).short_code)

    # The page lists the slip; a reprint is a numbered copy.
    page.reload()
    slips = page.get_by_role("table").filter(has_text="Short code")
    expect(slips.get_by_role("row").filter(has_text=short_code)).to_contain_text("Original")
    with page.expect_download() as copy:
        page.get_by_role("button", name="Print slip (receipt)").click()
    assert copy.value.suggested_filename == f"slip-{number}-copy1-receipt.pdf"

    # Anyone, not logged in, checks the slip: the scanner types the code into the page.
    visitor = chromium.new_context(base_url=live_office.url)
    try:
        check = visitor.new_page()
        check.on("console", watch.on_console)
        check.goto("/login")
        check.get_by_role("link", name="Check a registration slip").click()
        expect(check.get_by_role("heading", level=1)).to_have_text("Check a registration slip")
        expect(check.get_by_label("Scanned code")).to_be_focused()
        check.keyboard.type(scanned)
        check.keyboard.press("Enter")
        verdict = check.get_by_role("status")
        expect(verdict.get_by_role("heading")).to_have_text("Genuine")
        expect(verdict).to_contain_text("MUÑOZ, João")
        expect(verdict).to_contain_text(number)
        # Ready for the next slip: the field is empty and focused, so the scanner can type straight in.
        expect(check.get_by_label("Scanned code")).to_have_value("")
        expect(check.get_by_label("Scanned code")).to_be_focused()

        check.get_by_label("Registration number").fill(number.lower())
        check.get_by_label("Short code").fill(short_code)
        check.get_by_role("button", name="Check number and short code").click()
        expect(check.get_by_role("status").get_by_role("heading")).to_have_text("Genuine")

        # A code altered in one character is not genuine, and shows no personal data.
        altered = scanned[:30] + ("A" if scanned[30] != "A" else "B") + scanned[31:]
        check.get_by_label("Scanned code").fill(altered)
        check.get_by_role("button", name="Check the scanned code").click()
        expect(check.get_by_role("status").get_by_role("heading")).to_have_text(re.compile("Altered or forged|Unknown"))
        expect(check.locator("main")).not_to_contain_text("MUÑOZ")
    finally:
        visitor.close()

    assert watch.foreign_requests == []
    assert watch.console_errors == []
