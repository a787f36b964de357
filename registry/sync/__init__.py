"""Sync between office nodes and central. This package holds the transactional outbox; the protocol
itself (push, pull, conflicts) builds on it."""
