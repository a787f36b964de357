"""/healthz: up, and whether the database answers."""
from registry.extensions import db
from tests.conftest import make_app


def test_healthz_reports_the_database_ok_without_login(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert {key: body[key] for key in ("status", "database", "role", "office")} == \
        {"status": "ok", "database": "ok", "role": "office", "office": "BBR"}


def test_healthz_at_an_office_reports_sync_lag(app, client):
    from datetime import timedelta

    from registry.core.db import command_transaction
    from registry.core.types import utcnow
    from registry.sync.office import sync_state
    from tests.conftest import user
    from tests.support.factories import create_registration

    never = client.get("/healthz").get_json()["sync"]
    assert never["last_success_at"] is None and never["lag_seconds"] is None
    with app.app_context(), command_transaction():
        create_registration(actor=user("officer"))
        sync_state().last_success_at = utcnow() - timedelta(hours=3)
        sync_state().last_error = "central unreachable at http://127.0.0.1:9/: ConnectionError"
    lag = client.get("/healthz").get_json()["sync"]
    assert 3 * 3600 <= lag["lag_seconds"] < 3 * 3600 + 60
    assert lag["pending"] > 0 and lag["last_error"].startswith("central unreachable")


def test_healthz_at_central_has_no_sync_lag(database_url):
    app = make_app(database_url, REGISTRY_ROLE="central", OFFICE_CODE="HQ")
    try:
        body = app.test_client().get("/healthz").get_json()
        assert body["role"] == "central" and "sync" not in body
    finally:
        with app.app_context():
            db.engine.dispose()


def test_healthz_reports_an_unreachable_database_with_503(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/folder/registry.db")
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["database"] == "unreachable"
        assert response.get_json()["status"] == "error"
    finally:
        with app.app_context():
            db.engine.dispose()
