"""Part 4 of the statistics benchmark: the dashboard's first paint, in Chromium, served by gunicorn at central.

gunicorn serves central's app on 127.0.0.1 with two workers of four threads, as registry/operations/gunicorn.py does.
Playwright drives Debian's Chromium (tests/support/browser.py): the statistician logs in, then opens
/statistics/dashboard. The page's frame comes first and each chart then fetches its figures
(/statistics/dashboard/KEY.json), which each gunicorn worker keeps for five minutes. "Cold" is the first
load after gunicorn started (nothing kept); gunicorn is restarted for every cold load. "Warm" loads follow
in the same browser. Times are the page's own, from its Performance API: first contentful paint, and
performance.now() when window.Chart.instances first holds five charts (polled at every animation frame).
"""
import http.client
import shlex
import subprocess
import sys
import time

from bench.machine import ROOT
from bench.server import CENTRAL_ARGS, free_port, stop_gunicorn
from bench.statistics_central import LOGS

START_TIMEOUT = 120
DRAWN_TIMEOUT_MS = 300_000
COLD_LOADS = 2

MEASURE = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const navigation = performance.getEntriesByType('navigation')[0];
  const charts = performance.getEntriesByType('resource').filter(e => e.name.includes('/statistics/dashboard/'));
  return {
    first_contentful_paint_ms: paint ? paint.startTime : null,
    response_end_ms: navigation ? navigation.responseEnd : null,
    dom_content_loaded_ms: navigation ? navigation.domContentLoadedEventEnd : null,
    load_ms: navigation ? navigation.loadEventEnd : null,
    charts: charts.map(e => ({url: e.name.replace(location.origin, ''), start_ms: e.startTime,
                              end_ms: e.responseEnd, ms: e.duration})),
  };
}"""
DRAWN = "() => (window.Chart && Object.keys(window.Chart.instances).length === 5) ? performance.now() : false"


class CentralServer:
    """`with CentralServer(env) as server:` serves central with gunicorn on 127.0.0.1; `restart()` empties
    every worker's kept figures."""

    def __init__(self, env, args=CENTRAL_ARGS):
        self.env, self.args = env, args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = LOGS / "gunicorn-dashboard.log"
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        command = [sys.executable, "-m", "gunicorn", *shlex.split(self.args), "-b", f"127.0.0.1:{self.port}",
                   "--no-control-socket", "wsgi:app"]
        with self.log.open("a") as handle:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            if self._healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT} s; see {self.log}")

    def _healthy(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self):
        process, self.process = self.process, None
        stop_gunicorn(process)

    def restart(self):
        self.stop()
        self.start()


def _open_dashboard(page, url):
    page.goto(f"{url}/statistics/dashboard", wait_until="load")
    drawn = page.wait_for_function(DRAWN, polling="raf", timeout=DRAWN_TIMEOUT_MS).json_value()
    measured = page.evaluate(MEASURE)
    measured["charts_drawn_ms"] = drawn
    measured["chart_requests_ms"] = max((c["end_ms"] for c in measured["charts"]), default=None)
    return measured


def dashboard_benchmark(env, password, warm_loads, say=print):
    from playwright.sync_api import sync_playwright

    from tests.support.browser import find_chromium, launch_chromium

    executable = find_chromium()
    if executable is None:
        raise RuntimeError("Chromium not found (set CHROMIUM_PATH or install Debian's chromium package)")
    result = {"cold": [], "warm": [], "gunicorn": CENTRAL_ARGS, "chromium": executable,
              "target_ms": 1000.0}
    with CentralServer(env) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        result["browser_version"] = browser.version
        try:
            context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 768})
            context.set_default_timeout(60_000)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{server.url}/login")
            page.get_by_label("Username").fill("statistician")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state("load")
            if "/login" in page.url:
                raise RuntimeError("the statistician could not log in")
            for number in range(COLD_LOADS):
                server.restart()  # every worker starts with nothing kept
                measured = _open_dashboard(page, server.url)
                result["cold"].append(measured)
                say(f"    cold {number + 1}: first paint {measured['first_contentful_paint_ms']:.0f} ms, "
                    f"five charts drawn at {measured['charts_drawn_ms']:.0f} ms")
                for again in range(warm_loads):
                    measured = _open_dashboard(page, server.url)
                    measured["after_cold"] = number + 1
                    result["warm"].append(measured)
                    say(f"    warm {again + 1}: first paint {measured['first_contentful_paint_ms']:.0f} ms, "
                        f"five charts drawn at {measured['charts_drawn_ms']:.0f} ms")
            result["page_errors"] = errors
            context.close()
        finally:
            browser.close()
    return result
