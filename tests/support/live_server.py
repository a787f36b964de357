"""A real HTTP server on 127.0.0.1 for tests that need one: browser tests, and sync between two nodes.

`LiveServer(app)` serves any Flask app from a background thread on an ephemeral port;
`office_server(template, folder)` does that for an office app on its own copy of a seeded SQLite database.
Both stop cleanly: the listening socket is closed and the serving thread joined before the test ends.
"""
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from registry.extensions import db

HOST = "127.0.0.1"


class LiveServer:
    """Serves `app` on http://127.0.0.1:<ephemeral port> until `stop()`; usable as a context manager."""

    def __init__(self, app, host=HOST):
        self.app = app
        self._server = make_server(host, 0, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"live-server-{self.port}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        if self._thread.is_alive():
            self._server.shutdown()  # returns once serve_forever has left its loop
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@contextmanager
def office_server(template, folder, **config):
    """An office app (tests.conftest.make_app) on a copy of the seeded SQLite `template`, served live."""
    from tests.conftest import make_app  # imported late: conftest itself imports the support modules

    path = Path(folder) / "live.db"
    shutil.copyfile(template, path)
    app = make_app(f"sqlite:///{path}", **config)
    try:
        with LiveServer(app) as server:
            yield server
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
