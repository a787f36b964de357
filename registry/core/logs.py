"""Logs: one JSON object a line on standard error, each with the id of the request it belongs to, and
never personal data.

What keeps personal data out: a request is logged by its route's pattern (`/registrations/<number>`),
never its path or query string, which hold registration numbers and what officers searched for; the
database driver's messages leave out statement parameters (`hide_parameters`, registry.config), so an
error never prints a name or ID number; Werkzeug's own request lines, which carry the query string, are
turned off. Staff usernames are logged: they say who did what, and are not migrants' data.
"""
import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

# A request id from the reverse proxy (nginx's $request_id) is kept if it looks like one.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = logging.getLogger("registry.requests")


class _RequestContext(logging.Filter):
    def filter(self, record):
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
        return True


class _Handler(logging.StreamHandler):
    """The registry's one handler (a second create_app in the same process replaces it). It writes to
    whatever standard error is at the time, as Python's last-resort handler does, so a replaced stream
    (a test's capture, a service manager's redirection) is followed, never written after it closed."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def install(app):
    handler = _Handler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                                       json_ensure_ascii=False))
    handler.addFilter(_RequestContext())
    logger = logging.getLogger("registry")  # the app's logger and every module's under it
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL") or logging.INFO)
    logger.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its request lines carry query strings

    app.before_request(_start)
    app.after_request(_finish)


def _start():
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response):
    from flask_login import current_user

    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.endpoint == "static":
        return response
    started = g.get("request_started")
    log.info("request", extra={
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user": current_user.username if getattr(current_user, "is_authenticated", False) else None,
    })
    return response
