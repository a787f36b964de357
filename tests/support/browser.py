"""Debian's Chromium driven by Playwright; Playwright's own browser downloads are never used.

Where Chromium is missing the browser tests skip, except in CI (CI=true), where that is a failure.
"""
import os
import shutil

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def find_chromium():
    """The Chromium to drive: $CHROMIUM_PATH if set, else Debian's; None when there is none."""
    configured = os.environ.get("CHROMIUM_PATH")
    candidates = (configured,) if configured else CANDIDATES
    for candidate in candidates:
        found = shutil.which(candidate)  # an executable file, by path or by name
        if found:
            return found
    return None


def launch_chromium(playwright, executable):
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
