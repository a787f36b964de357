"""Record audit events; read them back for a record's history."""
from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db


def _actor_name(actor):
    if actor is not None:
        return getattr(actor, "username", None) or str(actor)
    if has_request_context() and current_user.is_authenticated:
        return current_user.username
    return "system"


def record_event(action, entity=None, actor=None, details=None):
    """Add one audit event in the caller's transaction, so the event and the change commit together."""
    event = AuditEvent(
        actor=_actor_name(actor),
        office_code=current_app.config["OFFICE_CODE"],
        action=action,
        entity_type=getattr(entity, "__tablename__", None),
        entity_id=getattr(entity, "id", None),
        details=details,
    )
    db.session.add(event)
    return event


def history_of(entity, limit=200):
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity.__tablename__, AuditEvent.entity_id == entity.id)
        .order_by(AuditEvent.at.desc())
        .limit(limit)
    ).all()


def recent_events(office_code=None, limit=100):
    query = select(AuditEvent).order_by(AuditEvent.at.desc()).limit(limit)
    if office_code:
        query = query.where(AuditEvent.office_code == office_code)
    return db.session.scalars(query).all()
