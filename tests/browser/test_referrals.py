"""A supervisor adds a clinic, registers a person, refers them there and prints the referral slip, all in real
Chromium; anyone checks the slip on /verify; the outcome is recorded and the registration follows."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_officer_day import log_in_with_keyboard, registered_number, start_registration
from tests.slips.helpers import pdf_text, scan_pdf

pytestmark = pytest.mark.browser


def test_a_supervisor_adds_a_service_refers_a_person_and_the_slip_verifies(page, chromium, live_office, watch,
                                                                          tmp_path):
    log_in_with_keyboard(page, "supervisor")
    page.get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Add service").click()
    page.get_by_label("Kind of service").select_option("medical")
    page.get_by_label("Name").fill("Migrant health clinic")
    page.get_by_label("Address").fill("Hospital Road, Beitbridge")
    page.get_by_label("Phone").fill("077 200 0011")
    page.get_by_label("What to bring").fill("National ID\nMedical records")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Service Migrant health clinic added")
    expect(page.get_by_role("table")).to_contain_text("+263 77 200 0011")

    start_registration(page, "63-123456 A 78", surname="Muñoz", given_names="João")
    number = registered_number(page)
    page.get_by_role("link", name="Refer to a service or vacancy").click()
    page.get_by_label("Refer to").select_option(label="Migrant health clinic")
    page.get_by_role("button", name="Issue referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {number}/R1")
    expect(page.locator("p.status")).to_have_text("Issued")

    with page.expect_download() as download:
        page.get_by_role("button", name="Print referral slip (A4)").click()
    assert download.value.suggested_filename == f"referral-{number}-R1-a4.pdf"
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    pdf = path.read_bytes()
    text = pdf_text(pdf)
    assert f"Referral reference {number}/R1" in text and "MUÑOZ, João" in text and "Medical records" in text
    [[scanned]] = scan_pdf(pdf)

    visitor = chromium.new_context(base_url=live_office.url)
    try:
        check = visitor.new_page()
        check.goto("/verify")
        check.get_by_label("Scanned code").fill(scanned)
        check.get_by_role("button", name="Check the scanned code").click()
        verdict = check.get_by_role("status")
        expect(verdict.get_by_role("heading")).to_have_text("Genuine")
        expect(verdict).to_contain_text("Migrant health clinic")
        expect(verdict).to_contain_text(f"{number}/R1")
    finally:
        visitor.close()

    page.reload()
    page.get_by_label("Outcome").select_option("attended")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.locator("p.status")).to_contain_text("Attended")
    page.get_by_role("link", name="Registration", exact=True).click()
    expect(page.locator("p.status")).to_contain_text("Referred")
    referrals = page.get_by_role("region", name="Referrals")
    expect(referrals).to_contain_text(re.compile(r"Medical examination: Migrant health clinic"))

    assert watch.foreign_requests == []
    assert watch.console_errors == []
