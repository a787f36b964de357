"""Serving for real: central under gunicorn with the settings kept in the code, an office under waitress
(which also runs on Windows); both answer /healthz on 127.0.0.1, and gunicorn's access log carries no
query string (searches are personal data)."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.postgres import _free_port as free_port

ROOT = Path(__file__).resolve().parents[2]


def serve(command, env, port):
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # workers load the app; the machine may be busy
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server stopped: {process.stdout.read()}")
            try:
                if requests.get(url + "/healthz", timeout=5).status_code in (200, 503):
                    return process, url
            except requests.RequestException:
                time.sleep(0.2)
        pytest.fail("the server did not answer within 60 s")
    except BaseException:
        stop(process)  # never leave a server running after a failed start
        raise


def stop(process):
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def node_env(tmp_path, sqlite_template, role, office):
    database = tmp_path / f"{role}.db"
    shutil.copyfile(sqlite_template, database)
    return {"REGISTRY_ROLE": role, "OFFICE_CODE": office, "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "serving-test-secret-key-0123456789abcdef", "SYNC_INTERVAL_SECONDS": "0",
            "CENTRAL_URL": "http://127.0.0.1:9/", "OFFICE_SECRET": "unused"}


def test_central_under_gunicorn_with_the_settings_in_the_repository(tmp_path, sqlite_template):
    port = free_port()
    env = {**node_env(tmp_path, sqlite_template, "central", "HQ"), "REGISTRY_BIND": f"127.0.0.1:{port}",
           "REGISTRY_WORKERS": "2", "REGISTRY_THREADS": "2"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process, url = serve([gunicorn, "-c", "python:registry.operations.gunicorn", "wsgi:app"], env, port)
    try:
        health = requests.get(url + "/healthz", params={"q": "Tendai Moyo 63-123456 A 78"}, timeout=5)
        assert health.status_code == 200
        assert health.json()["database"] == "ok" and health.json()["role"] == "central"
        assert health.headers["X-Request-ID"]
        assert requests.get(url + "/login", timeout=5).status_code == 200
    finally:
        output = stop(process)
    assert "/healthz" in output  # the access log is on
    assert "Tendai" not in output and "63-123456" not in output and "q=" not in output


def test_an_office_under_waitress_reports_its_sync_lag(tmp_path, sqlite_template):
    port = free_port()
    env = node_env(tmp_path, sqlite_template, "office", "BBR")
    waitress = str(Path(sys.executable).with_name("waitress-serve"))
    process, url = serve([waitress, f"--listen=127.0.0.1:{port}", "wsgi:app"], env, port)
    try:
        body = requests.get(url + "/healthz", timeout=5).json()
        assert body["status"] == "ok" and body["office"] == "BBR"
        assert body["sync"]["last_success_at"] is None and body["sync"]["pending"] >= 0
    finally:
        stop(process)


def test_gunicorns_error_lines_leave_out_query_strings(capsys):
    from gunicorn.config import Config

    from registry.operations.gunicorn import RedactingLogger

    logger = RedactingLogger(Config())
    try:
        raise RuntimeError("the error page itself failed")
    except RuntimeError:
        logger.exception("Error handling request %s", "/people/?q=Tendai+Moyo+63-123456A78")
    logger.error("Error handling request %s", "/registrations/?q=63-123456A78&page=2")
    err = capsys.readouterr().err
    assert err.count("Error handling request /people/?[query removed]") == 1
    assert "/registrations/?[query removed]" in err
    assert "Tendai" not in err and "123456" not in err
