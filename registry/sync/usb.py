"""Sync by file, for when the link is down for days: an office writes its waiting changes to a signed
file (for a USB stick) and central imports it with exactly the checks and idempotence of a push.

The file is JSON Lines: a header, one push batch per line, and a last line with the HMAC-SHA256 (the
office's sync secret) of every byte before it. Central checks the signature against the office the
header names before reading any batch, so a file cannot pass for another office's, and a file imported
twice finds every change already applied.
"""
import hashlib
import hmac
import json
from datetime import datetime, timezone

from flask import current_app
from registry.audit.services import record_event
from registry.extensions import db
from registry.sync.central import SyncRefused, apply_push_batch
from registry.sync.models import OfficeCredential
from registry.sync.office import pending_batch
from registry.sync.wire import ChangeStatus, PushBatch, WireError

FORMAT = "registry-sync-export"
FORMAT_VERSION = 1


class ExportFileError(ValueError):
    pass


def write_export(path, batch_size=1000):
    """Write every waiting change of this office to `path`; return how many. The outbox is not emptied:
    entries leave it only when central acknowledges them at a later sync."""
    office = current_app.config["OFFICE_CODE"]
    secret = current_app.config.get("OFFICE_SECRET")
    if not secret:
        raise ExportFileError("OFFICE_SECRET is not set: the file must be signed with this office's sync secret")
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    written, after = 0, 0
    with open(path, "wb") as handle:
        def emit(obj):
            line = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode() + b"\n"
            mac.update(line)
            handle.write(line)

        emit({"format": FORMAT, "version": FORMAT_VERSION, "office": office,
              "created_at": datetime.now(timezone.utc).isoformat()})
        while True:
            batch = pending_batch(batch_size, after=after)
            if not batch.changes:
                break
            emit(batch.to_json())
            written += len(batch.changes)
            after = batch.changes[-1].seq
        handle.write(json.dumps({"signature": mac.hexdigest()}).encode() + b"\n")
    return written


def _lines(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().splitlines(keepends=True)
    except OSError as exc:
        raise ExportFileError(f"cannot read {path}: {exc.strerror}") from None


def read_export(path):
    """Check the file's shape and signature; return (office, [PushBatch]). Raises ExportFileError."""
    lines = _lines(path)
    if len(lines) < 2:
        raise ExportFileError("the file is empty or cut short")
    try:
        header = json.loads(lines[0])
        trailer = json.loads(lines[-1])
    except ValueError:
        raise ExportFileError("the file is not a sync export (its first or last line is not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise ExportFileError("the file is not a sync export of a version this server reads")
    if not isinstance(trailer, dict) or not isinstance(trailer.get("signature"), str):
        raise ExportFileError("the file has no signature line: it was cut short")
    office = str(header.get("office", "")).upper()
    credential = db.session.get(OfficeCredential, office)
    if credential is None:
        raise ExportFileError(f"office {office!r} is unknown here or has no sync secret")
    mac = hmac.new(credential.secret.encode(), digestmod=hashlib.sha256)
    for line in lines[:-1]:
        mac.update(line)
    if not hmac.compare_digest(mac.hexdigest(), trailer["signature"]):
        raise ExportFileError(f"the signature does not match office {office}'s secret: the file was altered, "
                              "is from another office, or was signed with a secret since rotated")
    batches = []
    for number, line in enumerate(lines[1:-1], start=2):
        try:
            batch = PushBatch.from_json(json.loads(line))
        except (ValueError, WireError) as exc:
            raise ExportFileError(f"line {number}: {exc}") from None
        if batch.office.upper() != office:
            raise ExportFileError(f"line {number}: a batch of office {batch.office} in {office}'s file")
        batches.append(batch)
    return office, batches


def import_export(path, actor=None):
    """Central: apply a signed export file batch by batch, each like a push. Returns counts by status."""
    try:
        office, batches = read_export(path)
    except ExportFileError as exc:
        db.session.rollback()
        record_event("sync.import_refused", actor=actor, details={"file": str(path), "reason": str(exc)})
        db.session.commit()
        raise
    counts = {status.value: 0 for status in ChangeStatus}
    for batch in batches:
        try:
            results = apply_push_batch(batch, office)
        except SyncRefused as exc:
            db.session.rollback()
            record_event("sync.import_refused", actor=actor, details={"file": str(path), "reason": exc.message})
            db.session.commit()
            raise ExportFileError(f"refused: {exc.message}") from None
        for result in results:
            counts[result.status.value] += 1
        db.session.commit()
    record_event("sync.file_imported", actor=actor, details={"office": office, "file": str(path), **counts})
    db.session.commit()
    return office, counts
