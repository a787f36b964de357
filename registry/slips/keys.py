"""Each office's slip signing keys: made when first needed, rotated on command, revoked when compromised.

Services add and flush; the request or command commits. The private key is stored in this node's database
in `slip_private_key`, a table that never syncs (docs/slips.md, "Keys").
"""
from flask import current_app
from sqlalchemy import select

from registry.audit.services import record_event
from registry.core.errors import DomainError, Forbidden, NotFound
from registry.core.ids import stable_id
from registry.core.types import utcnow
from registry.extensions import db
from registry.offices.models import Office
from registry.slips.models import PrivateKey, Revocation, SigningKey
from registry.slips.payload import key_id_of, new_key_pair

MAX_REASON = 200


def node_office():
    return current_app.config["OFFICE_CODE"]


def check_reason(text, what):
    """The reason for a revocation, tidied; refused when empty or too long (it is shown at /verify)."""
    reason = " ".join((text or "").split())
    if not reason:
        raise DomainError(f"Say why the {what} is revoked (a few words: they are shown when it is checked).",
                          field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    return reason


def create_key(actor=None):
    """A new key pair for this node's office: the public half syncs to every office, the private half stays."""
    office_code = node_office()
    if db.session.scalar(select(Office.id).where(Office.code == office_code)) is None:
        raise DomainError(f"Office {office_code} is not in this database yet: sync with head office first.")
    private, public = new_key_pair()
    key_id = key_id_of(public)
    key = SigningKey(id=stable_id("slip_signing_key", key_id), key_id=key_id, office_code=office_code,
                     public_key=public.hex(), created_at=utcnow())
    db.session.add(key)
    db.session.add(PrivateKey(key_id=key_id, office_code=office_code, private_key=private.hex()))
    db.session.flush()
    record_event("slip.key_created", key, actor=actor, details={"key_id": key_id, "office": office_code})
    return key


def revoked_key_ids(key_ids=None):
    """Key ids on the revocation list (tombstoned revocations count too: a revocation is never undone)."""
    query = select(Revocation.key_id).where(Revocation.kind == "key")
    if key_ids is not None:
        query = query.where(Revocation.key_id.in_(list(key_ids)))
    return set(db.session.scalars(query))


def signing_key(create=True, actor=None):
    """(public row, private bytes) of the key this node signs with now; a first key is made when none exists."""
    office_code = node_office()
    rows = db.session.execute(
        select(SigningKey, PrivateKey.private_key)
        .join(PrivateKey, PrivateKey.key_id == SigningKey.key_id)
        .where(SigningKey.office_code == office_code, SigningKey.retired_at.is_(None),
               SigningKey.deleted_at.is_(None))
        .order_by(SigningKey.created_at.desc())
    ).all()
    revoked = revoked_key_ids([key.key_id for key, _ in rows])
    for key, private in rows:
        if key.key_id not in revoked:
            return key, bytes.fromhex(private)
    if not create:
        raise NotFound(f"Office {office_code} has no signing key here: run `flask slips new-key`.")
    key = create_key(actor=actor)
    private = db.session.get(PrivateKey, key.key_id)
    return key, bytes.fromhex(private.private_key)


def rotate_key(actor=None, revoke_old=False, reason=None):
    """Retire this office's current keys and make a new one. Slips signed by a retired key stay valid unless
    `revoke_old`, which puts the old keys on the revocation list so those slips answer "revoked"."""
    office_code = node_office()
    if revoke_old:
        reason = check_reason(reason, "old key")
    current = db.session.scalars(
        select(SigningKey).join(PrivateKey, PrivateKey.key_id == SigningKey.key_id)
        .where(SigningKey.office_code == office_code, SigningKey.retired_at.is_(None))
    ).all()
    now = utcnow()
    for key in current:
        key.retired_at = now
        db.session.flush()
        record_event("slip.key_retired", key, actor=actor, details={"key_id": key.key_id})
        if revoke_old and key.key_id not in revoked_key_ids([key.key_id]):
            _add_key_revocation(key, reason, actor)
    return create_key(actor=actor), current


def get_key(key_id):
    key = db.session.scalar(select(SigningKey).where(SigningKey.key_id == (key_id or "").strip().lower()))
    if key is None:
        raise NotFound(f"No signing key {key_id!r} is known here.")
    return key


def revoke_key(key_id, reason, actor=None):
    """Put a key on the revocation list: every slip it signed answers "revoked" at every office after sync.
    An office revokes its own keys; head office any office's (a key that was stolen, say)."""
    reason = check_reason(reason, "key")
    key = get_key(key_id)
    if current_app.config["REGISTRY_ROLE"] != "central" and key.office_code != node_office():
        raise Forbidden(f"Key {key.key_id} is {key.office_code}'s: only that office or head office can revoke it.")
    if key.key_id in revoked_key_ids([key.key_id]):
        raise DomainError(f"Key {key.key_id} is already revoked.")
    if key.retired_at is None and key.office_code == node_office():
        key.retired_at = utcnow()
    return _add_key_revocation(key, reason, actor)


def _add_key_revocation(key, reason, actor):
    revocation = Revocation(kind="key", office_code=key.office_code, key_id=key.key_id, revoked_at=utcnow(),
                            revoked_by=actor_name(actor), reason=reason)
    db.session.add(revocation)
    db.session.flush()
    record_event("slip.key_revoked", key, actor=actor, details={"key_id": key.key_id, "reason": reason})
    return revocation


def actor_name(actor):
    """A username for the records: the user's, a name given as text (a command's), or "system"."""
    return getattr(actor, "username", None) or (actor if isinstance(actor, str) and actor else "system")


def list_keys():
    """Every signing key known here, newest first, with whether it is revoked and whether this node holds its
    private half."""
    keys = db.session.scalars(select(SigningKey).order_by(SigningKey.office_code, SigningKey.created_at.desc())).all()
    revoked = revoked_key_ids()
    local = set(db.session.scalars(select(PrivateKey.key_id)))
    return [(key, key.key_id in revoked, key.key_id in local) for key in keys]
