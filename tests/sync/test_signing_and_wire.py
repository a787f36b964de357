import pytest

from registry.sync.signing import sign_headers, signature, signature_matches
from registry.sync.wire import MAX_BATCH_CHANGES, Change, PushBatch, WireError

SECRET = "s" * 64


def test_signature_covers_every_part():
    base = ("POST", "/api/v1/sync/push", 1_800_000_000, "n" * 32, b'{"a":1}')
    reference = signature(SECRET, *base)
    assert signature_matches(SECRET, *base, reference)
    for index, altered in enumerate((("GET",), ("/api/v1/sync/pull",), (1_800_000_001,), ("m" * 32,), (b'{"a":2}',))):
        parts = list(base)
        parts[index] = altered[0]
        assert not signature_matches(SECRET, *parts, reference), f"part {index} is not covered"
    assert not signature_matches("t" * 64, *base, reference)


def test_sign_headers_are_fresh_each_time():
    first = sign_headers("BBR", SECRET, "GET", "/x", b"")
    second = sign_headers("BBR", SECRET, "GET", "/x", b"")
    assert first["X-Registry-Nonce"] != second["X-Registry-Nonce"]
    assert first["X-Registry-Office"] == "BBR"


def change(**overrides):
    data = {"seq": 1, "entity": "person", "row_id": "0190d3f0-0000-7000-8000-000000000001", "operation": "insert",
            "version": 1, "base_version": 0,
            "payload": {"id": "0190d3f0-0000-7000-8000-000000000001", "version": 1}}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides, message", [
    ({"seq": "1"}, "'seq' must be an integer"),
    ({"seq": True}, "'seq' must be an integer"),
    ({"row_id": "nope"}, "not a UUID"),
    ({"operation": "upsert"}, "insert, update or delete"),
    ({"version": 1, "base_version": 1}, "base_version < version"),
    ({"payload": []}, "'payload' must be dict"),
    ({"payload": {"id": "0190d3f0-0000-7000-8000-000000000002", "version": 1}}, "must match"),
])
def test_bad_changes_are_named(overrides, message):
    with pytest.raises(WireError, match=message):
        Change.from_json(change(**overrides))


def test_batch_limits():
    with pytest.raises(WireError, match="protocol 2 is not supported"):
        PushBatch.from_json({"protocol": 2, "office": "BBR", "changes": []})
    with pytest.raises(WireError, match="at most"):
        PushBatch.from_json({"protocol": 1, "office": "BBR", "changes": [change()] * (MAX_BATCH_CHANGES + 1)})
    with pytest.raises(WireError, match="share a seq"):
        PushBatch.from_json({"protocol": 1, "office": "BBR", "changes": [change(), change()]})
    batch = PushBatch.from_json({"protocol": 1, "office": "BBR", "changes": [change()]})
    assert batch.changes[0].seq == 1 and batch.to_json()["changes"][0]["operation"] == "insert"
