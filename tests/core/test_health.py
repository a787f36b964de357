"""/healthz: up, and whether the database answers."""
from registry.extensions import db
from tests.conftest import make_app


def test_healthz_reports_the_database_ok_without_login(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "role": "office", "office": "BBR"}


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
