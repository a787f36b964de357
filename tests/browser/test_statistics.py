"""A statistician opens a standard table and the dashboard in real Chromium: suppressed cells show x, the
CSV downloads, every chart is drawn from locally served Chart.js with its figures in a table, and the page
breaks no content-security rule."""
import os
from datetime import date

import pytest
from playwright.sync_api import expect

from registry.demo.generator import load_demo
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_a_statistician_reads_a_table_and_the_dashboard(page, live_office, watch, tmp_path):
    with live_office.app.app_context():
        load_demo(300, ["BBR"], seed=5, today=date.today())

    page.goto("/login")
    page.get_by_label("Username").fill("statistician")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Statistics").click()
    page.get_by_label("Table").select_option("outbound-sex-destination")
    page.get_by_label("Period").fill(str(date.today().year))
    page.get_by_role("button", name="Show the table").click()
    table = page.locator("table.figures")
    expect(table).to_be_visible()
    expect(table.locator("tfoot")).to_contain_text("Total")
    expect(page.locator("main")).to_contain_text("shown as x")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "table.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8").splitlines()[0].startswith("Country of destination,Female,Male,Total")

    page.goto("/statistics/dashboard")
    for title in ("Registrations by month and sex", "Top countries of destination", "Age pyramid"):
        chart = page.get_by_role("region", name=title)
        expect(chart.locator(".chart-data table tbody tr").first).to_be_attached()
    # Chart.js (served by the registry) has drawn all five charts.
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 5")
    page.screenshot(path=os.environ.get("DASHBOARD_SHOT", str(tmp_path / "dashboard.png")), full_page=True)

    assert watch.foreign_requests == []
    assert watch.console_errors == []
