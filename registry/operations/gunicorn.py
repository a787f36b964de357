"""gunicorn settings for central: `gunicorn -c python:registry.operations.gunicorn wsgi:app`.

Each value can be overridden on the command line or with GUNICORN_CMD_ARGS (docs/operations.md). Two
workers of four threads suit a small server: a sync push holds one thread while central applies it, and
PostgreSQL does the heavy work in its own processes.
"""
import os

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
