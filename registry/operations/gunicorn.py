"""gunicorn settings for central: `gunicorn -c python:registry.operations.gunicorn wsgi:app`.

Each value can be overridden on the command line or with GUNICORN_CMD_ARGS (docs/operations.md). Two
workers of four threads suit a small server: a sync push holds one thread while central applies it, and
PostgreSQL does the heavy work in its own processes.
"""
import os
import re

from gunicorn.glogging import Logger

bind = os.environ.get("REGISTRY_BIND", "127.0.0.1:8000")  # the reverse proxy in front terminates TLS
workers = int(os.environ.get("REGISTRY_WORKERS", "2"))
threads = int(os.environ.get("REGISTRY_THREADS", "4"))
worker_class = "gthread"
# A push of 1,000 changes is well under a minute even on a loaded server; anything longer is stuck.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Restart workers now and then, so a slow leak in any library can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Behind the reverse proxy: trust its X-Forwarded-* headers only from the proxy itself.
forwarded_allow_ips = os.environ.get("REGISTRY_PROXY_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# No query strings in the access log: search terms are personal data.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus'


class RedactingLogger(Logger):
    """gunicorn's own error lines name the request's URI ("Error handling request GET /people/?q=...")
    when the app fails hard: the query string, which may hold what an officer searched for, is cut off."""

    QUERY = re.compile(r"\?[^\s\"']*")

    def _redacted(self, msg, args):
        text = msg % args if args else msg
        return self.QUERY.sub("?[query removed]", str(text))

    def error(self, msg, *args, **kwargs):
        super().error(self._redacted(msg, args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(self._redacted(msg, args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(self._redacted(msg, args), **kwargs)


logger_class = RedactingLogger
