"""Configuration: production refuses to start without its secrets and turns on secure cookies."""
import pytest

from registry import create_app
from registry.config import ENV_KEYS, ConfigError, normalise_database_url
from registry.extensions import db


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """A clean environment: none of the registry's variables set, whatever the shell had."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OFFICE_CODE", "BBR")

    def set_(**values):
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    set_.database_url = f"sqlite:///{tmp_path}/production.db"
    return set_


def test_production_without_secret_key_refuses_to_start(environ):
    environ(REGISTRY_ENV="production", DATABASE_URL=environ.database_url)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_without_database_url_refuses_to_start(environ):
    environ(REGISTRY_ENV="production", SECRET_KEY="x" * 64)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app()


def test_production_is_the_default_environment(environ):
    environ(DATABASE_URL=environ.database_url)  # REGISTRY_ENV unset
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("values, setting", [
    ({"REGISTRY_ENV": "staging"}, "REGISTRY_ENV"),
    ({"REGISTRY_ROLE": "branch"}, "REGISTRY_ROLE"),
    ({"OFFICE_CODE": "B1"}, "OFFICE_CODE"),
    ({"OFFICE_CODE": ""}, "OFFICE_CODE"),
    ({"LOGIN_MAX_FAILURES": "five"}, "LOGIN_MAX_FAILURES"),
    ({"LOGIN_LOCKOUT_MINUTES": "15m"}, "LOGIN_LOCKOUT_MINUTES"),
])
def test_bad_settings_are_refused_naming_the_setting(environ, values, setting):
    environ(**{"REGISTRY_ENV": "test", "SECRET_KEY": "x" * 64, "DATABASE_URL": environ.database_url, **values})
    with pytest.raises(ConfigError, match=setting):
        create_app()


def test_production_sets_secure_cookies_and_hsts(environ):
    environ(REGISTRY_ENV="production", SECRET_KEY="a" * 64, DATABASE_URL=environ.database_url,
            LOGIN_MAX_FAILURES="3")
    app = create_app()
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["LOGIN_MAX_FAILURES"] == 3
        assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
        assert not app.config["TESTING"]
        response = app.test_client().get("/login")  # the form's CSRF token starts a session
        cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_test_environment_fills_a_random_secret_key(environ):
    environ(REGISTRY_ENV="test", DATABASE_URL=environ.database_url)
    first, second = create_app(), create_app()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_overrides_win_over_the_environment(environ):
    environ(REGISTRY_ENV="production", OFFICE_CODE="HRE")
    app = create_app({"REGISTRY_ENV": "test", "OFFICE_CODE": "chr", "DATABASE_URL": environ.database_url})
    assert app.config["OFFICE_CODE"] == "CHR"  # upper-cased
    assert app.config["TESTING"] is True


def test_central_defaults_to_head_office(environ, monkeypatch):
    environ(REGISTRY_ENV="test", REGISTRY_ROLE="central", DATABASE_URL=environ.database_url)
    monkeypatch.delenv("OFFICE_CODE")
    assert create_app().config["OFFICE_CODE"] == "HQ"


def test_database_urls_use_the_psycopg_driver():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalise_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:////var/lib/x.db") == "sqlite:////var/lib/x.db"
