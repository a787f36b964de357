"""Offices and central as real HTTP servers on 127.0.0.1: registrations travel both ways, nothing is lost
or duplicated, and bad requests are refused with a clear JSON error and an audit event."""
import hashlib
import json
import time

import requests
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import search_people, update_person, person_data_from
from registry.registration.models import Registration
from registry.sync import office as office_sync
from registry.sync.models import InboxEntry, OutboxEntry, SyncConflict
from registry.sync.outbox import row_payload
from registry.sync.signing import sign_headers
from registry.sync.transport import SyncUnavailable
from tests.conftest import user
from tests.support.factories import create_registration
from tests.sync.conftest import secret_for, within

import pytest


def register_people(app, count, username="officer", **person_overrides):
    with app.app_context(), command_transaction():
        actor = user(username)
        return [create_registration(actor=actor, **person_overrides).registration_number for _ in range(count)]


def digest(app, tables=(Person, Registration)):
    """A digest of every row (id, version and every column), to compare two databases exactly."""
    with app.app_context():
        rows = []
        for model in tables:
            for row in db.session.scalars(select(model)):
                payload = row_payload(row)
                payload.pop("updated_at")
                rows.append(json.dumps([model.__tablename__, payload], sort_keys=True, default=str))
        return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest(), len(rows)


def test_offices_exchange_registrations_through_central(central, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    bbr_numbers = register_people(bbr, 3, national_id=None, passport_number="BB1234567", surname="Ncube")
    hre_numbers = register_people(hre, 2, username="officer.hre", surname="Sibanda")

    with within(bbr):
        assert office_sync.run_round()[0] > 0
        assert office_sync.pending_count() == 0
    with within(hre):
        office_sync.run_round()
    with within(bbr):
        office_sync.run_round()
        # An officer at Beitbridge now finds the people registered in Harare.
        found = search_people("Sibanda")
        assert len(found) == 2 and {p.origin_office for p in found} == {"HRE"}
        numbers = set(db.session.scalars(select(Registration.registration_number)))
        assert numbers == set(bbr_numbers + hre_numbers)
        assert office_sync.status()["last_error"] is None

    # Central holds exactly the union, each row once, with the same content as the offices.
    assert digest(central.app) == digest(bbr)


def test_batch_delivered_twice_and_lost_response_change_nothing(central, make_office):
    bbr = make_office("BBR")
    register_people(bbr, 4)
    with within(bbr):
        state = office_sync.sync_state()
        client = office_sync.client_from_config(state)
        batch = office_sync.pending_batch()
        first = client.request("POST", "/api/v1/sync/push", batch.to_json())
        # The office "lost" that answer: its outbox still holds the batch, and it sends it again.
        second = client.request("POST", "/api/v1/sync/push", batch.to_json())
        assert {r["status"] for r in first["results"]} == {"applied"}
        assert {r["status"] for r in second["results"]} == {"already_applied"}
        office_sync.run_round()
        assert office_sync.pending_count() == 0
    with within(central.app):
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 4
        assert db.session.scalar(select(func.count()).select_from(InboxEntry)) == len(batch.changes)
    assert digest(central.app) == digest(bbr)


def test_office_clock_off_by_days_still_syncs(central, make_office):
    bbr = make_office("BBR")
    register_people(bbr, 1)
    with within(bbr):
        client = office_sync.client_from_config(office_sync.sync_state())
        client.clock = lambda: time.time() - 3 * 86400  # the office PC's clock is three days behind
        office_sync.run_round(client)
        assert office_sync.pending_count() == 0
        assert office_sync.sync_state().clock_offset_seconds > 2 * 86400


def signed_post(central, office, secret, body, path="/api/v1/sync/push", now=None, headers=None):
    signed = sign_headers(office, secret, "POST", path, body, now=now)
    signed.update(headers or {})
    return requests.post(central.url + path, data=body, headers=signed, timeout=10)


def audit_count(app, action="sync.request_refused"):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.mark.parametrize("case", ["bad_signature", "unknown_office", "stale_timestamp", "unsigned"])
def test_unauthenticated_requests_are_refused_and_audited(central, case):
    secret = secret_for(central.app, "BBR")
    body = json.dumps({"protocol": 1, "office": "BBR", "changes": []}).encode()
    if case == "bad_signature":
        response = signed_post(central, "BBR", "wrong" * 13, body)
    elif case == "unknown_office":
        response = signed_post(central, "XYZ", secret, body)
    elif case == "stale_timestamp":
        response = signed_post(central, "BBR", secret, body, now=time.time() - 3600)
    else:
        response = requests.post(central.url + "/api/v1/sync/push", data=body, timeout=10)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == case and error["message"]
    assert audit_count(central.app) == 1


def test_replayed_request_is_refused(central):
    secret = secret_for(central.app, "BBR")
    body = json.dumps({"protocol": 1, "office": "BBR", "changes": []}).encode()
    headers = sign_headers("BBR", secret, "POST", "/api/v1/sync/push", body)
    first = requests.post(central.url + "/api/v1/sync/push", data=body, headers=headers, timeout=10)
    again = requests.post(central.url + "/api/v1/sync/push", data=body, headers=headers, timeout=10)
    assert first.status_code == 200
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"


def test_rotated_secret_stops_working(central, make_office):
    bbr = make_office("BBR")
    register_people(bbr, 1)
    secret_for(central.app, "BBR")  # head office rotates: the office still has the old one
    with within(bbr):
        with pytest.raises(SyncUnavailable, match="bad_signature"):
            office_sync.run_round()
        assert "bad_signature" in office_sync.status()["last_error"]
        assert office_sync.pending_count() > 0  # nothing dropped


@pytest.mark.parametrize("mutate, status, code", [
    (lambda batch: b"{not json", 400, "malformed_json"),
    (lambda batch: json.dumps({**batch, "changes": [{**batch["changes"][0], "entity": "sync_inbox"}]}).encode(),
     422, "invalid_change"),
    (lambda batch: json.dumps({**batch, "changes": [
        {**batch["changes"][0], "payload": {**batch["changes"][0]["payload"], "date_of_birth": 19950314}}]}).encode(),
     422, "invalid_change"),
    (lambda batch: json.dumps({**batch, "changes": [
        {**batch["changes"][0], "payload": {**batch["changes"][0]["payload"], "shoe_size": 42}}]}).encode(),
     422, "invalid_change"),
    (lambda batch: json.dumps({**batch, "office": "HRE"}).encode(), 403, "wrong_office"),
    (lambda batch: b" " * (9 * 1024 * 1024), 413, "too_large"),
])
def test_bad_batches_apply_nothing(central, make_office, mutate, status, code):
    bbr = make_office("BBR")
    register_people(bbr, 2)
    with within(bbr):
        batch = office_sync.pending_batch().to_json()
        secret = bbr.config["OFFICE_SECRET"]
    response = signed_post(central, "BBR", secret, mutate(batch))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    with within(central.app):
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        assert db.session.scalar(select(func.count()).select_from(InboxEntry)) == 0
    assert audit_count(central.app) == 1


def test_same_record_changed_at_two_places_is_kept_in_the_conflict_queue(central, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    register_people(bbr, 1, surname="Dube")
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
    # Both offices change the same person before syncing again (at HRE, an administrator may).
    for app, username, phone in ((bbr, "officer", "0772000001"), (hre, "admin", "0772000002")):
        with app.app_context(), command_transaction():
            person = db.session.scalar(select(Person))
            data = person_data_from(person)
            data.phone = phone
            update_person(person, data, person.version, user(username))
    for app in (bbr, hre, bbr):
        with within(app):
            office_sync.run_round()
    with within(central.app):
        conflicts = db.session.scalars(select(SyncConflict)).all()
        assert len(conflicts) == 1
        conflict = conflicts[0]
        # Deterministic: at equal versions the office code that sorts last wins.
        assert conflict.winner_office == "HRE" and conflict.loser_office == "BBR"
        assert conflict.loser_payload["phone"] == "+263772000001"
        person = db.session.scalar(select(Person))
        assert person.phone == "+263772000002" and person.version == 3
    # Both offices converge on central's version.
    with within(hre):
        office_sync.run_round()
    assert digest(bbr) == digest(hre) == digest(central.app)


def test_sync_run_command_reports_unreachable_central(sqlite_template, tmp_path):
    import shutil
    from tests.conftest import make_app

    path = tmp_path / "office.db"
    shutil.copyfile(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", OFFICE_SECRET="x" * 64)  # CENTRAL_URL points at the discard port
    register_people(app, 1)
    result = app.test_cli_runner().invoke(args=["sync", "run"])
    assert result.exit_code == 1
    assert "central unreachable" in result.output and result.output.strip().count("\n") == 0
    with within(app):
        assert office_sync.pending_count() > 0
        assert "unreachable" in office_sync.status()["last_error"]
    with app.app_context():
        db.engine.dispose()


def test_background_sync_runs_while_the_office_serves(central, make_office):
    bbr = make_office("BBR", SYNC_INTERVAL_SECONDS=1)
    register_people(bbr, 2)
    worker = bbr.extensions["registry.background_sync"]
    try:
        assert bbr.test_client().get("/healthz").status_code == 200  # the first request starts the timer
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and worker.rounds == 0:
            time.sleep(0.1)
        assert worker.rounds >= 1
    finally:
        worker.stop()
    with within(bbr):
        assert office_sync.pending_count() == 0
        assert office_sync.status()["last_success_at"] is not None


def test_usb_export_import_is_idempotent_and_signed(central, make_office, tmp_path):
    from registry.sync.usb import ExportFileError, import_export, write_export

    bbr = make_office("BBR")
    register_people(bbr, 3)
    path = tmp_path / "bbr.sync"
    with within(bbr):
        waiting = office_sync.pending_count()
        assert write_export(path) == waiting
    with within(central.app):
        office_code, counts = import_export(path)
        assert office_code == "BBR" and counts["applied"] == waiting
        office_code, counts = import_export(path)  # the same file twice changes nothing
        assert counts["already_applied"] == waiting and counts["applied"] == 0
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 3
    # Altered: one character of a batch changed.
    altered = tmp_path / "altered.sync"
    altered.write_bytes(path.read_bytes().replace(b"Moyo", b"Mayo", 1))
    # Another office's secret: HRE signs a file that says it is from BBR.
    forged = tmp_path / "forged.sync"
    hre = make_office("HRE")
    with within(hre):
        hre.config["OFFICE_CODE"] = "BBR"
        register_people(hre, 1)
        write_export(forged)
    cut = tmp_path / "cut.sync"
    cut.write_bytes(path.read_bytes()[:-80])
    for bad, message in ((altered, "signature does not match"), (forged, "signature does not match"),
                         (cut, "not a sync export|signature line")):
        with within(central.app):
            before = digest(central.app)
            with pytest.raises(ExportFileError, match=message):
                import_export(bad)
            assert digest(central.app) == before
    # The office's queue still empties at its next online sync, with nothing duplicated.
    with within(bbr):
        office_sync.run_round()
        assert office_sync.pending_count() == 0
    assert digest(central.app)[1] == 6


def test_issue_secret_command_prints_the_secret_last(central_app):
    result = central_app.test_cli_runner().invoke(args=["offices", "issue-secret", "bbr"])
    assert result.exit_code == 0
    secret = result.output.strip().splitlines()[-1]
    assert len(secret) == 64 and int(secret, 16) >= 0
    again = central_app.test_cli_runner().invoke(args=["offices", "issue-secret", "BBR"])
    assert again.output.strip().splitlines()[-1] != secret
    missing = central_app.test_cli_runner().invoke(args=["offices", "issue-secret", "NOPE"])
    assert missing.exit_code != 0 and "No office" in missing.output


def test_an_office_that_syncs_leaves_users_and_offices_to_head_office(central, make_office, login):
    from registry.auth.services import UserData, create_user
    from registry.core.errors import DomainError
    from registry.offices.services import OfficeData, create_office

    bbr = make_office("BBR")
    with within(bbr):
        with pytest.raises(DomainError, match="managed at head office"):
            create_user(UserData("new.officer", "New Officer", "officer", "BBR"), "a long enough pass")
        with pytest.raises(DomainError, match="managed at head office"):
            create_office(OfficeData("NEW", "New office", "border_post", "ZW"))
    client = bbr.test_client()
    login(client, "admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    from tests.conftest import extract_csrf

    response = client.post("/admin/users/new", data={
        "csrf_token": extract_csrf(page), "username": "new.officer", "full_name": "New Officer", "role": "officer",
        "office_code": "BBR", "password": "a long enough pass", "confirm": "a long enough pass", "version": "0"})
    assert "managed at head office" in response.get_data(as_text=True)
    # Head office creates the user; it reaches the office at its next sync and can log in there.
    with central.app.app_context(), command_transaction():
        create_user(UserData("new.officer", "New Officer", "officer", "BBR"), "a long enough pass")
    with within(bbr):
        office_sync.run_round()
    login(bbr.test_client(), "new.officer", "a long enough pass")


def test_an_office_cannot_rewrite_another_offices_signing_key(central, make_office):
    from registry.slips.keys import create_key
    from registry.slips.models import SigningKey

    bbr = make_office("BBR")
    with within(bbr):
        create_key()
        db.session.commit()
        office_sync.run_round()
    with within(central.app):
        key = db.session.scalar(select(SigningKey))
        payload = row_payload(key)
    forged = {**payload, "public_key": "ab" * 32, "version": payload["version"] + 1}
    batch = {"protocol": 1, "office": "HRE", "changes": [
        {"seq": 1, "entity": "slip_signing_key", "row_id": payload["id"], "operation": "update",
         "version": forged["version"], "base_version": payload["version"], "payload": forged}]}
    response = signed_post(central, "HRE", secret_for(central.app, "HRE"), json.dumps(batch).encode())
    assert response.status_code == 422
    assert "BBR" in response.json()["error"]["message"]
    with within(central.app):
        assert db.session.scalar(select(SigningKey)).public_key == payload["public_key"]


def test_people_pushed_to_central_get_the_same_match_keys_as_at_the_office(central, make_office):
    from registry.matching.models import PersonMatchKey

    bbr = make_office("BBR")
    register_people(bbr, 3, surname="Moyo")

    def keys(app):
        with app.app_context():
            return sorted(
                tuple(str(getattr(row, column.name)) for column in PersonMatchKey.__table__.columns)
                for row in db.session.scalars(select(PersonMatchKey))
            )

    with within(bbr):
        office_sync.run_round()
    office_keys = keys(bbr)
    assert len(office_keys) == 3
    # Written by the bulk apply at central, so a new registration there is ranked against pushed people.
    assert keys(central.app) == office_keys
