"""The sync API at central, `/api/v1/sync/...`: signed by an office, JSON in and out, one error shape.

Described for other clients in docs/sync.md and docs/openapi.yaml.
"""
import gc
import json
import time

from flask import Blueprint, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from registry.core.access import office_signed
from registry.extensions import csrf, limiter
from registry.sync import central
from registry.sync.central import SyncRefused
from registry.sync.signing import HEADER_OFFICE
from registry.sync.wire import MAX_BODY_BYTES, MAX_SEQ, PushBatch, WireError

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync")
csrf.exempt(bp)


def _office_or_address():
    # Per office (the name it signs with; a forged name is refused after the count), else per address.
    office = (request.headers.get(HEADER_OFFICE) or "")[:16]
    return f"office:{office}" if office else get_remote_address()


limiter.limit(lambda: current_app.config["SYNC_RATE_LIMIT"], key_func=_office_or_address)(bp)


@bp.errorhandler(SyncRefused)
def refused(error):
    central.record_refusal(error, request.path)
    body = {"error": {"status": error.status, "code": error.code, "message": error.message, **error.extra}}
    return jsonify(body), error.status


def _signed_office():
    body = request.get_data(cache=True)
    path = request.full_path.rstrip("?") if request.query_string else request.path
    return central.authenticate(request.method, path, request.headers, body)


def _body():
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise SyncRefused(413, "too_large", f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB; send smaller batches")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise SyncRefused(413, "too_large", f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB; send smaller batches")
    try:
        return json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to read
        raise SyncRefused(400, "malformed_json", "the body is not valid JSON") from None


def _not_json(constant):
    # Python reads NaN and Infinity, which JSON (RFC 8259) does not have and PostgreSQL's json type refuses.
    raise ValueError(f"{constant} is not JSON")


_frozen = False


def _freeze_long_lived_objects():
    """Once per process, at its first push: hand everything it holds by then (the app, its modules, their
    caches) to the cycle collector's permanent generation. A push makes and drops hundreds of thousands of
    small objects; each collection they set off would otherwise walk all of those long-lived objects again,
    for nothing (a fifth of central's time for a push). New garbage is collected as before."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


@bp.post("/push")
@office_signed
def push():
    _freeze_long_lived_objects()
    data = _body()  # size and syntax first, so an oversized body is refused before anything else is read
    office = _signed_office()
    try:
        batch = PushBatch.from_json(data)
    except WireError as exc:
        raise SyncRefused(422, "invalid_batch", str(exc), office=office) from None
    results = central.apply_push_batch(batch, office)
    return jsonify({"results": [r.to_json() for r in results], "server_time": int(time.time())})


@bp.get("/pull")
@office_signed
def pull():
    office = _signed_office()
    try:
        after = int(request.args.get("after", "0"))
        limit = int(request.args.get("limit", str(central.PULL_LIMIT_DEFAULT)))
        own_through = int(request.args.get("own_through", "0"))
    except ValueError:
        raise SyncRefused(400, "bad_query", "'after', 'limit' and 'own_through' must be whole numbers",
                          office=office) from None
    # A number past any sequence number would overflow the query.
    if not 0 <= after <= MAX_SEQ or limit < 1 or not 0 <= own_through <= MAX_SEQ:
        raise SyncRefused(400, "bad_query", f"'after' and 'own_through' must be 0 to {MAX_SEQ} and 'limit' at "
                                            "least 1", office=office)
    changes, next_after, more = central.changes_after(after, limit, office, own_through)
    return jsonify({"changes": [c.to_json() for c in changes], "next_after": next_after, "more": more,
                    "server_time": int(time.time())})
