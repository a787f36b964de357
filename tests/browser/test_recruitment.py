"""A job order walked in real Chromium: a supervisor adds a licensed agency and a job order through it; the
fee it charges the worker keeps it a draft until removed; the contract is vetted and the order published;
the registered job seeker is on its shortlist with the reasons, is referred with one click, goes through the
selection steps, is on the printed group list, and departs; comes home, is recorded back with the wages
owed, and complains about the employer, whose page then counts the complaint."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from registry.recruitment.orders import CHECKLIST
from tests.browser.test_officer_day import log_in_with_keyboard, registered_number, start_registration
from tests.slips.helpers import pdf_text

pytestmark = pytest.mark.browser
TODAY = date.today()


def test_a_job_order_from_creation_through_shortlist_and_selection_to_departure(page, live_office, watch, tmp_path):
    log_in_with_keyboard(page, "supervisor")
    start_registration(page, "63-123456 A 78", surname="Ncube", given_names="Sipho")
    number = registered_number(page)

    page.get_by_role("link", name="Agencies").click()
    page.get_by_role("link", name="Add agency").click()
    page.get_by_label("Name").fill("Limpopo Farm Labour Services")
    page.get_by_label("Licence number").fill("ZA-PEA-2024-0117")
    page.get_by_label("Licence valid from").fill((TODAY - timedelta(days=100)).isoformat())
    page.get_by_label("Licence valid until").fill((TODAY + timedelta(days=300)).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Agency Limpopo Farm Labour Services added")

    page.get_by_role("link", name="Job orders").click()
    page.get_by_role("link", name="Employers").click()
    page.get_by_role("link", name="Add employer").click()
    page.get_by_label("Name").fill("Mopani Citrus Estates")
    page.get_by_label("Province or region").select_option("ZA-LP")
    page.get_by_label("Sector (ISIC Rev.4)").select_option("A")
    page.get_by_label("Verified by the labour office").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.details")).to_contain_text(f"By supervisor on {TODAY}")

    page.get_by_role("link", name="Add job order").click()
    page.get_by_label("Job", exact=True).fill("Citrus pickers")
    occupation = page.get_by_role("combobox", name="Occupation (ISCO-08)")
    occupation.fill("9211")
    occupation.press("Escape")
    page.get_by_label("Workers wanted").fill("2")
    page.get_by_label("Work starts").fill(TODAY.isoformat())
    page.get_by_label("Work ends").fill((TODAY + timedelta(days=150)).isoformat())
    page.get_by_label("Recruitment agency").select_option(label="Limpopo Farm Labour Services (ZA-PEA-2024-0117)")
    page.get_by_label("Season").fill("Citrus harvest")
    page.get_by_label("Skills required").fill("citrus picking, pruning")
    page.get_by_label("Housing provided").check()
    page.get_by_label("Recruitment fee charged to the worker").fill("500")
    page.get_by_label("Fee currency").select_option("ZAR")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-error").first).to_contain_text(
        "saved as a draft: it cannot be published while it charges the worker a recruitment fee (ZAR 500)")
    expect(page.locator("p.status")).to_contain_text("Draft. Not taking referrals")

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Recruitment fee charged to the worker").fill("")
    page.get_by_label("Fee currency").select_option("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Job order Citrus pickers saved.")

    page.get_by_role("link", name="Vet the contract").click()
    for label in CHECKLIST.values():
        page.get_by_role("group", name=label).get_by_label("Met", exact=True).check()
    page.get_by_role("button", name="Record the vetting").click()
    expect(page.get_by_role("status")).to_contain_text("Vetting recorded: the contract meets every point.")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The job order is published: it takes referrals.")
    expect(page.locator("p.status")).to_contain_text("Open. Taking referrals")

    page.get_by_role("link", name="Shortlist").click()
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("same occupation (9211 crop farm labourers); wants to go to ZA-LP; "
                                "skills: citrus picking, pruning (2 of 2); 4 years' experience")
    row.get_by_role("button", name="Refer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selection")
    expect(page.get_by_role("status")).to_contain_text(f"Referred 1: {number}/R1")

    for step in ("Interviewed", "Medical done", "Documents ready (passport, permit)", "Contract signed"):
        page.get_by_label("Choose Sipho Ncube").check()
        page.get_by_label("Step").select_option(label=step)
        page.get_by_role("button", name="Record the step").click()
        expect(page.get_by_role("status")).to_contain_text(f"{step} on {TODAY} recorded for {number}/R1")

    page.get_by_label("Choose Sipho Ncube").check()
    page.get_by_label("Departure").fill(TODAY.isoformat())
    with page.expect_download() as download:
        page.get_by_role("button", name="Print group list (PDF)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    text = pdf_text(path.read_bytes())
    assert "Group list: Citrus pickers (9211)" in text and "NCUBE" in text and number in text
    assert "Limpopo Farm Labour Services, licence ZA-PEA-2024-0117" in text

    page.get_by_label("Choose Sipho Ncube").check()
    page.get_by_label("Step").select_option(label="Departed")
    page.get_by_role("button", name="Record the step").click()
    expect(page.get_by_role("status")).to_contain_text(f"Departed on {TODAY} recorded for {number}/R1")
    expect(page.get_by_role("row").filter(has_text=f"{number}/R1")).to_contain_text("Placed")
    expect(page.locator("p.status")).to_contain_text("1 of 2 places filled")

    page.get_by_role("link", name=f"{number}/R1").click()
    page.get_by_role("link", name="Registration", exact=True).click()
    expect(page.locator("p.status")).to_contain_text("Departed")
    expect(page.get_by_role("region", name="Referrals")).to_contain_text(re.compile(r"Vacancy: Citrus pickers"))

    # The worker comes home: the return is recorded with its reason and the wages owed, and a complaint taken.
    page.get_by_role("link", name="Record the return").click()
    expect(page.locator("dl.details")).to_contain_text("Citrus pickers, Mopani Citrus Estates (through Limpopo "
                                                       "Farm Labour Services)")
    page.get_by_label("Why they came back").select_option(label="Dismissed")
    page.get_by_label("Wages owed by the employer").fill("-2600")
    page.get_by_label("Currency of the wages owed").select_option("ZAR")
    page.get_by_role("button", name="Record the return").click()
    expect(page.locator("#wages_owed_amount-error")).to_contain_text("Wages owed cannot be negative")
    page.get_by_label("Wages owed by the employer").fill("2600")
    page.get_by_role("button", name="Record the return").click()
    expect(page.get_by_role("status")).to_contain_text(f"Return of {number} recorded on {TODAY}.")
    expect(page.locator("p.status")).to_contain_text("Returned")
    expect(page.get_by_role("region", name="Return")).to_contain_text("ZAR 2,600")
    page.get_by_role("link", name="Take a complaint").click()
    page.get_by_label("What about").select_option(label="Unpaid wages")
    page.get_by_label("Against the employer").select_option(label="Mopani Citrus Estates")
    page.get_by_label("What happened").fill("Dismissed without the last month's wages")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Complaint recorded.")
    page.get_by_role("link", name="Mopani Citrus Estates").click()
    expect(page.locator("table.complaint-counts")).to_contain_text("1 complaint, 1 open")

    assert watch.foreign_requests == []
    assert watch.console_errors == []
