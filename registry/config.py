"""Configuration: defaults, then the instance file, then the environment, then explicit overrides.

Production refuses to start without its secrets; the demo and the tests set their own.
"""
import os
import re
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Variables read from the environment (strings); the instance file `registry.cfg` may set any of them too.
ENV_KEYS = (
    "REGISTRY_ENV",
    "REGISTRY_ROLE",
    "OFFICE_CODE",
    "DATABASE_URL",
    "SECRET_KEY",
    "CENTRAL_URL",
    "OFFICE_SECRET",
    "SYNC_INTERVAL_SECONDS",
    "SYNC_BATCH_SIZE",
    "DEFAULT_DESTINATION",
    "NATIONAL_ID_PATTERNS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCKOUT_MINUTES",
    "HOME_COUNTRY",
    "DISCLOSURE_THRESHOLD",
    "MICRODATA_K",
    "PSEUDONYM_SECRET",
    "PG_BIN_DIR",
    "LOG_LEVEL",
    "IDLE_TIMEOUT_MINUTES",
    "SESSION_MAX_HOURS",
    "LOGIN_RATE_LIMIT",
    "SYNC_RATE_LIMIT",
    "PROXY_COUNT",
)
INT_KEYS = {"IDLE_TIMEOUT_MINUTES", "SESSION_MAX_HOURS", "PROXY_COUNT", "LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES", "SYNC_INTERVAL_SECONDS", "SYNC_BATCH_SIZE",
            "DISCLOSURE_THRESHOLD", "MICRODATA_K"}

ROLES = ("office", "central")
ENVIRONMENTS = ("production", "demo", "test")


class ConfigError(RuntimeError):
    """The configuration cannot run: the message says which setting and why."""


DEFAULTS = {
    "REGISTRY_ENV": "production",
    "REGISTRY_ROLE": "office",
    "OFFICE_CODE": None,
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    "CENTRAL_URL": None,
    "OFFICE_SECRET": None,
    # An office syncs on its own this often while it serves pages (0 turns it off).
    "SYNC_INTERVAL_SECONDS": 300,
    # Changes per push or pull request (at most 1,000); smaller suits a slow, flaky link.
    "SYNC_BATCH_SIZE": 1000,
    # Most registrations at a Zimbabwean border post are for South Africa; each office may change it.
    "DEFAULT_DESTINATION": "ZA",
    # Extra or replacement national ID shapes, as JSON: {"LS": "^[0-9]{12}$"} (see docs/configuration.md).
    "NATIONAL_ID_PATTERNS": None,
    "LOGIN_MAX_FAILURES": 5,
    # Statistics: whose nationals count as outbound migrant workers (ISO 3166-1; the reference area of
    # extracts), counts below this are suppressed in published tables, and microdata is k-anonymous for this k.
    "HOME_COUNTRY": "ZW",
    "DISCLOSURE_THRESHOLD": 5,
    "MICRODATA_K": 5,
    # Keys the pseudonymous person key of microdata extracts; derived from SECRET_KEY when not set.
    "PSEUDONYM_SECRET": None,
    # werkzeug's method string; the tests use a cheap one, production keeps the strong default.
    "PASSWORD_HASH_METHOD": "scrypt",
    "LOGIN_LOCKOUT_MINUTES": 15,
    "PAGE_SIZE": 25,
    # hide_parameters: a database error's message never carries a statement's values (names, ID numbers).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, so a slow form at the counter still posts
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # A session ends after this long without a request, and this long after logging in, whatever happens.
    "IDLE_TIMEOUT_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    # Requests per client address for the login form, and per office for the sync API (limits syntax).
    "LOGIN_RATE_LIMIT": "20 per minute; 200 per hour",
    "SYNC_RATE_LIMIT": "1200 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Reverse proxies in front of the app: their X-Forwarded-For/-Proto are believed (0: none, serve directly).
    "PROXY_COUNT": 0,
}

OFFICE_CODE_RE = re.compile(r"^[A-Z]{2,5}$")


def load_config(app, overrides=None):
    """Fill app.config in order: defaults, instance `registry.cfg`, environment, overrides; then check it."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("registry.cfg", silent=True)
    for key in ENV_KEYS:
        if key in os.environ:
            value = os.environ[key]
            if key in INT_KEYS:
                try:
                    value = int(value)
                except ValueError:
                    raise ConfigError(f"{key} must be a whole number, not {value!r}") from None
            app.config[key] = value
    if overrides:
        app.config.update(overrides)
    _finish(app)


def _finish(app):
    cfg = app.config
    env = cfg["REGISTRY_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"REGISTRY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    if cfg["REGISTRY_ROLE"] not in ROLES:
        raise ConfigError(f"REGISTRY_ROLE must be 'office' or 'central', not {cfg['REGISTRY_ROLE']!r}")
    if not cfg["OFFICE_CODE"]:
        if cfg["REGISTRY_ROLE"] == "central":
            cfg["OFFICE_CODE"] = "HQ"
        else:
            raise ConfigError("OFFICE_CODE is not set: an office node must know its own code, e.g. BBR")
    cfg["OFFICE_CODE"] = cfg["OFFICE_CODE"].strip().upper()
    if not OFFICE_CODE_RE.match(cfg["OFFICE_CODE"]):
        raise ConfigError(f"OFFICE_CODE must be 2 to 5 capital letters, not {cfg['OFFICE_CODE']!r}")
    if not cfg["SECRET_KEY"]:
        if env == "production":
            raise ConfigError("SECRET_KEY is not set: production refuses to start without it")
        # Demo and tests only: a fresh random key each start is safe (sessions simply end on restart).
        cfg["SECRET_KEY"] = os.urandom(32).hex()
    if not cfg["DATABASE_URL"]:
        if env == "production":
            raise ConfigError("DATABASE_URL is not set (e.g. sqlite:////var/lib/registry/office.db)")
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        name = f"registry-{cfg['REGISTRY_ROLE']}-{cfg['OFFICE_CODE'].lower()}.db"
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / name)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["DATABASE_URL"])
    cfg["HOME_COUNTRY"] = (cfg["HOME_COUNTRY"] or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", cfg["HOME_COUNTRY"]):
        raise ConfigError(f"HOME_COUNTRY must be an ISO 3166-1 alpha-2 code such as ZW, not {cfg['HOME_COUNTRY']!r}")
    for key, low in (("DISCLOSURE_THRESHOLD", 2), ("MICRODATA_K", 2)):
        if not isinstance(cfg[key], int) or not low <= cfg[key] <= 100:
            raise ConfigError(f"{key} must be a whole number from {low} to 100, not {cfg[key]!r}")
    if env == "test":
        cfg["TESTING"] = True
    if env in ("demo", "test"):
        # The demo and the tests serve plain HTTP on 127.0.0.1; production sits behind TLS.
        cfg["SESSION_COOKIE_SECURE"] = False
        cfg["REMEMBER_COOKIE_SECURE"] = False


def normalise_database_url(url):
    """Accept the common `postgres://` and `postgresql://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
