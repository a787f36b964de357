"""The signed payload in a slip's QR code, and the short code printed beside it. Pure: no Flask, no database.

A payload is `RS1:` followed by the RFC 4648 base32 text (upper case, no padding) of

    format      1 byte    1
    key_id      8 bytes   the first 8 bytes of SHA-256 of the signing office's Ed25519 public key
    office      1 + n     the office that printed the slip (length, then ASCII)
    number      1 + n     the registration number, as printed (length, then ASCII)
    issued_on   2 bytes   the day of printing, days since 2000-01-01 (big-endian)
    copy        1 byte    0 for the original, n for COPY n
    flags       1 byte    bit 0: the registration (or referral) was cancelled when the slip was printed;
                          bit 1: a referral slip, whose digest covers the referral's printed fields
    digest      16 bytes  the first 16 bytes of SHA-256 of the printed fields (`fields_digest` or
                          `referral_digest`)
    signature   64 bytes  Ed25519, over CONTEXT + every byte before it

Upper-case base32 and the prefix are all QR "alphanumeric" characters, which a QR code packs at 5.5 bits
a character instead of 8, so the whole payload (about 190 characters) fits a version 8 symbol. docs/slips.md
explains each choice.
"""
import base64
import binascii
import hashlib
import json
import struct
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "RS1:"
FORMAT = 1
# Signatures over slips can never be mistaken for signatures over anything else made with the same key.
CONTEXT = b"registry-slip-v1\x00"
EPOCH = date(2000, 1, 1)
DIGEST_BYTES = 16
SIGNATURE_BYTES = 64
KEY_ID_BYTES = 8
FLAG_CANCELLED = 1
FLAG_REFERRAL = 2
MAX_PAYLOAD_CHARS = 400  # a real one is under 200; anything longer is refused before decoding
# Crockford's base32: no I, L, O or U, so a short code typed from paper has no look-alike characters.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_CHARS = 8
BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class PayloadInvalid(ValueError):
    """The text is not a slip payload (malformed, truncated, of an unknown format); the message says which."""


@dataclass(frozen=True)
class SlipFields:
    """Every field printed on a slip that identifies the person and the registration: what the digest covers."""

    registration_number: str
    surname: str
    given_names: str
    date_of_birth: date
    sex: str
    destination_country: str
    destination_subdivision: str
    occupation_code: str
    office_code: str  # the registration's office
    registered_on: date
    officer: str  # the username of the officer who registered the person


def fields_digest(fields):
    """SHA-256 (first 16 bytes) of the printed fields in a fixed order, names in Unicode NFC."""
    values = [
        FORMAT, fields.registration_number, fields.surname, fields.given_names, fields.date_of_birth.isoformat(),
        fields.sex, fields.destination_country, fields.destination_subdivision or "", fields.occupation_code,
        fields.office_code, fields.registered_on.isoformat(), fields.officer,
    ]
    return _digest(values)


def _digest(values):
    canonical = [unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in values]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).digest()[:DIGEST_BYTES]


@dataclass(frozen=True)
class ReferralFields:
    """Every field printed on a referral slip that says who is sent where, when: what its digest covers."""

    reference: str  # BBR-2026-000123-K/R2
    surname: str
    given_names: str
    date_of_birth: date
    target_kind: str
    target_name: str
    target_address: str
    issued_on: date
    due_by: date
    office_code: str
    officer: str  # who issued the referral


def referral_digest(fields):
    """SHA-256 (first 16 bytes) of a referral slip's printed fields; never equal to a registration slip's,
    whose list starts with FORMAT where this one starts with "referral"."""
    return _digest([
        "referral", FORMAT, fields.reference, fields.surname, fields.given_names, fields.date_of_birth.isoformat(),
        fields.target_kind, fields.target_name, fields.target_address, fields.issued_on.isoformat(),
        fields.due_by.isoformat(), fields.office_code, fields.officer,
    ])


@dataclass(frozen=True)
class SlipPayload:
    key_id: str  # 16 hex characters
    office_code: str
    registration_number: str
    issued_on: date
    copy_number: int
    cancelled: bool
    digest: bytes
    signature: bytes = b""
    referral: bool = False  # a referral slip: `registration_number` is the referred registration's

    def body(self):
        office = self.office_code.encode("ascii")
        number = self.registration_number.encode("ascii")
        return b"".join((
            struct.pack(">B", FORMAT), bytes.fromhex(self.key_id),
            struct.pack(">B", len(office)), office, struct.pack(">B", len(number)), number,
            struct.pack(">HBB", (self.issued_on - EPOCH).days, self.copy_number,
                        (FLAG_CANCELLED if self.cancelled else 0) | (FLAG_REFERRAL if self.referral else 0)),
            self.digest,
        ))

    def text(self):
        """The QR code's content."""
        raw = self.body() + self.signature
        return PREFIX + base64.b32encode(raw).decode("ascii").rstrip("=")

    @property
    def short_code(self):
        return short_code_of(self.signature)

    def signature_valid(self, public_key):
        """True when `public_key` (32 raw bytes) signed exactly these bytes."""
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.signature, CONTEXT + self.body())
        except (InvalidSignature, ValueError):
            return False
        return True


def sign(payload, private_key):
    """The payload with its Ed25519 signature, made with `private_key` (32 raw bytes)."""
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    signature = key.sign(CONTEXT + payload.body())
    return replace(payload, signature=signature)


def new_key_pair():
    """(private, public) raw 32-byte Ed25519 keys."""
    from cryptography.hazmat.primitives import serialization

    private = Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    return (private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
            private.public_key().public_bytes(raw, serialization.PublicFormat.Raw))


def key_id_of(public_key):
    return hashlib.sha256(public_key).digest()[:KEY_ID_BYTES].hex()


def short_code_of(signature):
    """8 Crockford base32 characters (40 bits) derived from the signature: typed with the registration number
    on /verify, it finds the slip's record, whose payload is then checked in full."""
    value = int.from_bytes(hashlib.sha256(b"short-code\x00" + signature).digest()[:5], "big")
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(35, -1, -5))


def format_short_code(code):
    return f"{code[:4]}-{code[4:]}"


def normalise_short_code(text):
    """What a person typed, read the way Crockford's base32 says: case, hyphens and spaces forgiven, O as 0,
    I and L as 1. Returns None when it cannot be a short code."""
    cleaned = "".join((text or "").upper().split()).replace("-", "")
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != SHORT_CODE_CHARS or any(ch not in CROCKFORD for ch in cleaned):
        return None
    return cleaned


def _read(raw, offset, size, what):
    if offset + size > len(raw):
        raise PayloadInvalid(f"The slip code is incomplete: it ends inside the {what}. Scan it again, or type "
                             "the registration number and short code instead.")
    return raw[offset:offset + size], offset + size


def parse_payload(text):
    """Read a scanned payload; raise PayloadInvalid with a clear reason if it is not one."""
    text = "".join((text or "").split())
    if not text:
        raise PayloadInvalid("Scan the slip's QR code or paste its text.")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise PayloadInvalid("That text is far longer than any slip code; scan the slip's QR code again.")
    if not text.upper().startswith(PREFIX):
        raise PayloadInvalid(f"That is not a registration slip code: slip codes start with {PREFIX}")
    encoded = text[len(PREFIX):].upper()
    if not set(encoded) <= BASE32:
        raise PayloadInvalid("The slip code holds characters a slip code never has: it was altered, or it is not "
                             "a slip code. Scan it again.")
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):  # a length no whole number of bytes has: cut short
        raise PayloadInvalid("The slip code is incomplete: it was cut short. Scan it again, or type the "
                             "registration number and short code instead.") from None
    version, offset = _read(raw, 0, 1, "format number")
    if version[0] != FORMAT:
        raise PayloadInvalid(f"The slip code is of format {version[0]}, which this version of the registry "
                             "does not know.")
    key_id, offset = _read(raw, offset, KEY_ID_BYTES, "key identifier")
    texts = []
    for what in ("office code", "registration number"):
        length, offset = _read(raw, offset, 1, what)
        value, offset = _read(raw, offset, length[0], what)
        try:
            texts.append(value.decode("ascii"))
        except UnicodeDecodeError:
            raise PayloadInvalid(f"The slip code's {what} is not readable: the code was altered.") from None
    fixed, offset = _read(raw, offset, 4, "date and copy number")
    days, copy_number, flags = struct.unpack(">HBB", fixed)
    digest, offset = _read(raw, offset, DIGEST_BYTES, "digest")
    signature, offset = _read(raw, offset, SIGNATURE_BYTES, "signature")
    if offset != len(raw):
        raise PayloadInvalid("The slip code is longer than a slip code of its format: it was altered.")
    return SlipPayload(key_id=key_id.hex(), office_code=texts[0], registration_number=texts[1],
                       issued_on=EPOCH + timedelta(days=days), copy_number=copy_number,
                       cancelled=bool(flags & FLAG_CANCELLED), digest=digest, signature=signature,
                       referral=bool(flags & FLAG_REFERRAL))
