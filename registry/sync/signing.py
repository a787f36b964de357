"""Request signatures: HMAC-SHA256 over method, path, timestamp, nonce and the body's digest.

    X-Registry-Office: BBR
    X-Registry-Timestamp: 1795000000          (Unix seconds)
    X-Registry-Nonce: 32 hex characters       (fresh per request)
    X-Registry-Signature: hex HMAC-SHA256 of
        "REGISTRY-HMAC-V1\\n{METHOD}\\n{path?query}\\n{timestamp}\\n{nonce}\\n{sha256 hex of body}"

Central refuses a timestamp outside its replay window and a nonce it has already seen inside it.
"""
import hashlib
import hmac
import secrets
import time

SCHEME = "REGISTRY-HMAC-V1"
REPLAY_WINDOW_SECONDS = 300
HEADER_OFFICE = "X-Registry-Office"
HEADER_TIMESTAMP = "X-Registry-Timestamp"
HEADER_NONCE = "X-Registry-Nonce"
HEADER_SIGNATURE = "X-Registry-Signature"


def new_secret():
    return secrets.token_hex(32)


def string_to_sign(method, path, timestamp, nonce, body):
    digest = hashlib.sha256(body or b"").hexdigest()
    return "\n".join((SCHEME, method.upper(), path, str(timestamp), nonce, digest)).encode()


def signature(secret, method, path, timestamp, nonce, body):
    return hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def sign_headers(office, secret, method, path, body, now=None):
    timestamp = int(now if now is not None else time.time())
    nonce = secrets.token_hex(16)
    return {
        HEADER_OFFICE: office,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, method, path, timestamp, nonce, body),
    }


def signature_matches(secret, method, path, timestamp, nonce, body, given):
    return hmac.compare_digest(signature(secret, method, path, timestamp, nonce, body), given or "")
