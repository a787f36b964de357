"""Fuzzing the sync API from its description, docs/openapi.yaml, with Schemathesis.

Every generated request, valid for the document or not, goes over HTTP to central on 127.0.0.1 (SQLite
and PostgreSQL). Most are signed for BBR over the exact bytes sent, so they get past the signature check
to the code that reads the query, the batch, each row and the database; the rest keep the generated
signing headers, carry a wrong signature or none. Central must never answer 5xx, every refusal has the
one JSON error shape and stores nothing, and every answer matches the document.
"""
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import JSON, Boolean, Date, Integer, String, Uuid, func, select

from registry.audit.models import AuditEvent
from registry.core.types import UTCDateTime
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from registry.sync.entities import entities
from registry.sync.models import InboxEntry, SyncConflict
from registry.sync.signing import HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign_headers, signature
from tests.sync.conftest import secret_for

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
MAX_EXAMPLES = 300  # per operation and backend: about 20 s for push and 10 s for pull here
CONFIG = schemathesis.Config.from_dict({
    "seed": 20_260_601,
    # Deterministic, and no example database: every run sends the same requests, none of them twice.
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "unique-inputs": True},
})
schema = schemathesis.openapi.from_path(OPENAPI, config=CONFIG)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# How a generated request is signed. Most are signed correctly, for BBR and now.
SIGNED, AS_GENERATED, WRONG_SECRET, UNSIGNED = "signed", "as generated", "wrong secret", "unsigned"
MODES = st.sampled_from((SIGNED,) * 7 + (AS_GENERATED, WRONG_SECRET, UNSIGNED))


class OfficeSignature(requests.auth.AuthBase):
    """Signs the prepared request, so the signature covers the body bytes and the path and query as sent."""

    def __init__(self, secret, mode):
        self.secret, self.mode = secret, mode

    def __call__(self, request):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
            request.body = body
            request.prepare_content_length(body)
        assert isinstance(body, bytes), f"cannot sign a {type(body).__name__} body"
        headers = request.headers
        if self.mode in (SIGNED, WRONG_SECRET):
            secret = self.secret if self.mode == SIGNED else "0" * 64
            headers.update(sign_headers("BBR", secret, request.method, request.path_url, body))
        elif self.mode == AS_GENERATED:  # the generated office, timestamp and nonce, signed with BBR's secret
            timestamp, nonce = headers.get(HEADER_TIMESTAMP, ""), headers.get(HEADER_NONCE, "")
            headers[HEADER_SIGNATURE] = signature(self.secret, request.method, request.path_url, timestamp, nonce, body)
        else:
            headers.pop(HEADER_SIGNATURE, None)
        return request


def make_coherent(batch):
    """Make a generated batch agree with itself where the document cannot say so (docs/sync.md): from the
    office that signs, each payload's id and version the change's, an insert created by BBR, a
    registration of BBR for a person of the same batch, distinct seqs. Parts of the wrong type are left."""
    if not isinstance(batch, dict):
        return
    batch["office"] = "BBR"
    changes = [change for change in batch.get("changes") or [] if isinstance(change, dict)]
    people = [change.get("row_id") for change in changes if change.get("entity") == "person"]
    seqs = [change.get("seq") for change in changes]
    if len(set(map(repr, seqs))) < len(seqs):
        for number, change in enumerate(changes, 1):
            change["seq"] = number
    for change in changes:
        version, base_version = change.get("version"), change.get("base_version")
        if isinstance(version, int) and isinstance(base_version, int) and base_version >= version:
            change["base_version"] = max(version - 1, 0)
        payload = change.get("payload")
        if not isinstance(payload, dict):
            continue
        payload["id"], payload["version"] = change.get("row_id"), version
        if change.get("operation") == "insert":
            payload["origin_office"] = "BBR"
        if change.get("entity") == "registration":
            payload["office_code"] = "BBR"
            if people:
                payload["person_id"] = people[0]


def stored(app):
    """What a refused push must not change (refusals themselves are audited, so those events are left out)."""
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (Person, Registration, InboxEntry, SyncConflict))
        audit = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action != "sync.request_refused"))
        db.session.remove()
    return (*counts, audit)


@pytest.fixture
def bbr_secret(central_app):
    return secret_for(central_app, "BBR")


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@schema.parametrize()
@schema.given(mode=MODES, coherent=st.sampled_from((True, True, True, False)))
# One central (and database) serves every example of a run on purpose: rows pushed earlier are there to
# collide with. Hypothesis would otherwise refuse the function-scoped `central` fixture.
@settings(deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_request_makes_central_fail(case, mode, coherent, central, central_app, bbr_secret, http):
    push = case.method == "POST"
    if push and coherent:
        make_coherent(case.body)
    before = stored(central_app) if push else None

    response = case.call(base_url=f"{central.url}/api/v1/sync", session=http,
                         auth=OfficeSignature(bbr_secret, mode), timeout=10)

    case.validate_response(response, checks=CHECKS)
    status = response.status_code
    if status >= 400:
        error = response.json()["error"]
        assert error["status"] == status and error["code"] and error["message"], response.text
        extra = {"received_through", "already_received"} if error["code"] == "sequence_reused" else {"server_time"}
        assert set(error) <= {"status", "code", "message"} | extra, response.text
    if mode == SIGNED:
        assert status != 401, f"a correctly signed request was refused: {response.text}"
    elif mode in (WRONG_SECRET, UNSIGNED):
        # A push's body is checked for size and syntax before its signature.
        assert status == 401 or (push and status in (400, 413)), response.text
    if push and status != 200:
        assert stored(central_app) == before, "a refused push changed what central holds"


def test_signed_requests_reach_validation_and_bad_ones_do_not(central, bbr_secret, http):
    """The fuzz's signer is right: central answers its requests on their merits, and refuses the others."""
    def send(method, path, mode, body=b""):
        request = requests.Request(method, f"{central.url}/api/v1/sync/{path}", data=body,
                                   auth=OfficeSignature(bbr_secret, mode)).prepare()
        return http.send(request, timeout=10)

    assert send("GET", "pull?after=0&limit=5", SIGNED).json()["more"] is False
    refused = send("POST", "push", SIGNED, b'{"protocol": 1, "office": "BBR", "changes": [{}]}')
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_batch"
    accepted = send("POST", "push", SIGNED, b'{"protocol": 1, "office": "BBR", "changes": []}')
    assert accepted.status_code == 200 and accepted.json()["results"] == []
    assert send("GET", "pull", WRONG_SECRET).json()["error"]["code"] == "bad_signature"
    assert send("GET", "pull", UNSIGNED).json()["error"]["code"] == "unsigned"


ROW = {"id": "0190d3f0-0000-7000-8000-0000000000ff", "version": 9, "origin_office": "HRE",
       "updated_at": "2026-01-01T00:00:00+00:00", "deleted_at": None}
PERSON = {**ROW, "surname": "Moyo", "given_names": "Rudo", "surname_key": "MOYO", "given_names_key": "RUDO",
          "sex": "F", "date_of_birth": "1990-05-01", "citizenship": "ZW", "national_id": None,
          "national_id_country": None, "passport_number": None, "passport_country": None, "phone": None,
          "home_subdivision": None, "home_district": None, "languages": [], "education_level": None,
          "consent_at": "2026-01-01T00:00:00+02:00", "consent_recorded_by": "officer", "same_as_id": None}
REGISTRATION = {**ROW, "registration_number": "FUZZ-1", "person_id": ROW["id"], "office_code": "ZZ",
                "registered_on": "2026-01-01", "registered_by": "officer", "destination_country": "ZA",
                "destination_subdivision": None, "intended_sector": None, "occupation_code": "9211",
                "other_occupation_codes": [], "skills": None, "certificates": None, "prior_learning_recognised": False,
                "years_experience": None, "has_job_offer": False, "employer_name": None, "agency_name": None,
                "status": "registered", "status_changed_on": "2026-01-01"}


def new_person_batch(**person):
    row_id = str(uuid.uuid4())
    batch = {"protocol": 1, "office": "BBR", "changes": [{"seq": 1, "entity": "person", "row_id": row_id,
                                                          "operation": "insert", "version": 1, "base_version": 0,
                                                          "payload": {**PERSON, **person}}]}
    make_coherent(batch)
    return json.dumps(batch).encode()


def test_coherent_batches_reach_the_database(central, central_app, bbr_secret, http):
    """make_coherent turns a batch that disagrees with itself into one central applies."""
    person_id, registration_id = "0190d3f0-0000-7000-8000-00000000000a", "0190d3f0-0000-7000-8000-00000000000b"
    batch = {"protocol": 1, "office": "HRE", "changes": [
        {"seq": 1, "entity": "person", "row_id": person_id, "operation": "insert", "version": 1,
         "base_version": 1, "payload": dict(PERSON)},
        {"seq": 1, "entity": "registration", "row_id": registration_id, "operation": "insert", "version": 1,
         "base_version": 0, "payload": dict(REGISTRATION)},
    ]}
    body = json.dumps(batch).encode()
    before = stored(central_app)
    refused = http.post(f"{central.url}/api/v1/sync/push", data=body,
                        headers=sign_headers("BBR", bbr_secret, "POST", "/api/v1/sync/push", body))
    assert refused.status_code == 422 and stored(central_app) == before

    make_coherent(batch)
    body = json.dumps(batch).encode()
    applied = http.post(f"{central.url}/api/v1/sync/push", data=body,
                        headers=sign_headers("BBR", bbr_secret, "POST", "/api/v1/sync/push", body))
    assert applied.status_code == 200, applied.text
    assert [result["status"] for result in applied.json()["results"]] == ["applied", "applied"]
    with central_app.app_context():
        assert db.session.get(Registration, uuid.UUID(registration_id)).person_id == uuid.UUID(person_id)
        db.session.remove()


# Requests the generator never sends (it speaks strict JSON through `requests`, with tame headers), each of
# which once made central answer 500.
@pytest.mark.parametrize("body, headers, status, code", [
    pytest.param(b'{"protocol": 1, "office": "BBR", "changes": [], "x": NaN}', {}, 400, "malformed_json", id="NaN"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, {}, 400, "malformed_json", id="nested too deep"),
    pytest.param(new_person_batch(surname="Mo\ud800yo"), {}, 422, "invalid_change", id="lone surrogate"),
    pytest.param(new_person_batch(surname="Mo\x00yo"), {}, 422, "invalid_change", id="NUL in a name"),
    pytest.param(b"{}", {"X-Registry-Office": "BB\x00"}, 401, "unknown_office", id="NUL in the office header"),
    pytest.param(b"{}", {"X-Registry-Timestamp": "9" * 400}, 401, "stale_timestamp", id="timestamp past any clock"),
    pytest.param(b"{}", {"X-Registry-Nonce": "n\x00"}, 401, "replayed", id="NUL in the nonce"),
])
def test_inputs_beyond_the_generator_are_refused_cleanly(central, central_app, bbr_secret, http,
                                                         body, headers, status, code):
    signed = {**sign_headers("BBR", bbr_secret, "POST", "/api/v1/sync/push", body), **headers}
    # Re-sign over the altered headers, so only the alteration itself is refused.
    signed["X-Registry-Signature"] = signature(bbr_secret, "POST", "/api/v1/sync/push",
                                               signed["X-Registry-Timestamp"], signed["X-Registry-Nonce"], body)
    before = stored(central_app)
    response = http.post(f"{central.url}/api/v1/sync/push", data=body, headers=signed, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert stored(central_app) == before


ROW_SCHEMAS = {"person": "PersonRow", "registration": "RegistrationRow", "audit_event": "AuditEventRow",
               "slip_signing_key": "SlipSigningKeyRow", "slip_print": "SlipPrintRow",
               "slip_revocation": "SlipRevocationRow", "referral_service": "ReferralServiceRow",
               "employer": "EmployerRow", "vacancy": "VacancyRow", "referral": "ReferralRow",
               "agency": "AgencyRow", "selection_step": "SelectionStepRow", "worker_return": "WorkerReturnRow",
               "complaint": "ComplaintRow", "complaint_change": "ComplaintChangeRow"}
COLUMN_TYPES = ((Uuid, "string", "uuid"), (UTCDateTime, "string", "date-time"), (Date, "string", "date"),
                (Boolean, "boolean", None), (Integer, "integer", None), (String, "string", None))


def test_document_describes_every_column_of_each_pushed_table():
    """The fuzz generates rows from the document, and other clients write them from it: it must match."""
    components = schema.raw_schema["components"]["schemas"]
    pushed = {name for name, entity in entities().items() if entity.pushable}
    assert set(components["Change"]["discriminator"]["mapping"]) == pushed == set(ROW_SCHEMAS)
    for name in sorted(pushed):
        row = components[ROW_SCHEMAS[name]]
        columns = entities()[name].columns
        assert set(row["properties"]) == set(row["required"]) == set(columns), name
        assert row["additionalProperties"] is False
        for column_name, column in columns.items():
            described = row["properties"][column_name]
            where = f"{name}.{column_name}"
            assert described.get("nullable", False) == column.nullable, where
            if isinstance(column.type, JSON):
                assert described["type"] in ("array", "object"), where
                continue
            kind, fmt = next((kind, fmt) for sql_type, kind, fmt in COLUMN_TYPES if isinstance(column.type, sql_type))
            assert (described["type"], described.get("format")) == (kind, fmt), where
            if isinstance(column.type, String):
                assert described.get("maxLength") == column.type.length, where
