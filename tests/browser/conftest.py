"""Browser fixtures: one Chromium per session, a live office server and a watched page per test."""
from urllib.parse import urlsplit

import pytest

from tests.conftest import skip_or_fail
from tests.support.browser import find_chromium, launch_chromium
from tests.support.live_server import HOST, office_server

LOCAL_SCHEMES = {"data", "blob", "about"}  # never leave the browser


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the browser tests, closed when they are done."""
    executable = find_chromium()
    if executable is None:
        skip_or_fail("Chromium not found (set CHROMIUM_PATH or install Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        yield browser
        browser.close()


@pytest.fixture
def live_office(sqlite_template, tmp_path):
    """The office app (BBR) on its own copy of the seeded SQLite database, on http://127.0.0.1:<port>."""
    with office_server(sqlite_template, tmp_path) as server:
        yield server


class BrowserWatch:
    """What the page did that it should not: requests off this machine, console errors, script errors."""

    def __init__(self):
        self.foreign_requests = []
        self.console_errors = []

    @staticmethod
    def is_local(url):
        parts = urlsplit(url)
        return parts.scheme in LOCAL_SCHEMES or parts.hostname == HOST

    def on_request(self, request):
        if not self.is_local(request.url):
            self.foreign_requests.append(request.url)

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location.get('url')}")

    def on_page_error(self, error):
        self.console_errors.append(f"uncaught: {error}")


@pytest.fixture
def watch():
    return BrowserWatch()


@pytest.fixture
def new_page(chromium, watch):
    """new_page(base_url) -> a page in a fresh browser context (a user at their own desk), every request and
    console message seen by `watch`; the contexts are closed when the test ends."""
    contexts = []

    def open_page(base_url):
        context = chromium.new_context(base_url=base_url, locale="en-GB", viewport={"width": 1366, "height": 768})
        contexts.append(context)
        context.set_default_timeout(10_000)
        context.on("request", watch.on_request)
        context.route(lambda url: not watch.is_local(url), lambda route: route.abort())  # recorded, never sent
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        # The browser reports a Content-Security-Policy violation on the console; this makes sure of it.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI); });"
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(live_office, new_page):
    """A fresh browser context on the live office."""
    return new_page(live_office.url)
