"""Automatic sync while an office app runs: a daemon thread that runs a round every N seconds.

It starts with the first request the app serves (so `flask` commands never start it), runs outside any
request, and never blocks officers: a round that fails only records its error for the status pages.
"""
import logging
import threading

from registry.sync.transport import SyncUnavailable

log = logging.getLogger(__name__)
# One round at a time in this process, whether started by the timer or by "Sync now".
ROUND_LOCK = threading.Lock()


class BackgroundSync:
    def __init__(self, app, interval):
        self.app, self.interval = app, interval
        self.stop_event = threading.Event()
        self.thread = None
        self.rounds = 0
        self._start_lock = threading.Lock()

    def ensure_started(self):
        if self.thread is None:
            with self._start_lock:
                if self.thread is None:
                    self.thread = threading.Thread(target=self._loop, name="registry-sync", daemon=True)
                    self.thread.start()

    def _loop(self):
        while not self.stop_event.wait(self.interval):
            self.run_once()

    def run_once(self):
        from registry.extensions import db
        from registry.sync.office import run_round

        if ROUND_LOCK.locked():
            return  # "Sync now" is running a round; the timer skips this turn
        with self.app.app_context():
            try:
                run_round()
            except SyncUnavailable:
                pass  # recorded by run_round for the status pages
            except Exception:  # the thread must survive anything a round throws
                log.exception("background sync round failed")
            finally:
                db.session.remove()
                self.rounds += 1

    def stop(self):
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=30)


def install(app):
    """Attach background sync to an office app when configured (SYNC_INTERVAL_SECONDS, CENTRAL_URL, OFFICE_SECRET)."""
    interval = int(app.config.get("SYNC_INTERVAL_SECONDS") or 0)
    if app.config["REGISTRY_ROLE"] != "office" or interval <= 0 or not app.config.get("CENTRAL_URL") \
            or not app.config.get("OFFICE_SECRET"):
        return None
    worker = BackgroundSync(app, interval)
    app.extensions["registry.background_sync"] = worker
    app.before_request(worker.ensure_started)
    return worker
