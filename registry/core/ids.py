"""Row identities: created where the row is born and kept forever (DESIGN.md, Identity and numbering)."""
import uuid

from uuid6 import uuid7

# Namespace for identities derived from a stable natural key (reference data, offices), so every node
# that loads the same code list independently gives the same row the same UUID.
REGISTRY_NAMESPACE = uuid.UUID("6f1c2d1e-8a57-4a36-9c52-0b7d0e4a9a10")


def new_id():
    """A fresh UUIDv7: unique without coordination, and time-ordered so B-tree inserts stay local."""
    return uuid.UUID(bytes=uuid7().bytes)


def stable_id(kind, key):
    """The same UUID for the same natural key on every node (UUIDv5)."""
    return uuid.uuid5(REGISTRY_NAMESPACE, f"{kind}:{key}")
