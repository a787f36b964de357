"""Core building blocks: UTC columns, row identities, the unit of work, errors, form helpers, display."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Blueprint, abort
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from werkzeug.datastructures import MultiDict
from wtforms import Form

from registry.audit.models import AuditEvent
from registry.core.access import ADMIN, roles_required
from registry.core.db import command_transaction
from registry.core.display import TEMPLATE_FILTERS
from registry.core.errors import ValidationFailed
from registry.core.forms import StrictDateField, code_list
from registry.core.ids import new_id, stable_id
from registry.core.types import utcnow
from registry.extensions import db
from tests.conftest import make_app


def audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_utc_datetimes_round_trip_as_utc_and_naive_ones_are_refused(ctx):
    harare = timezone(timedelta(hours=2))
    local = datetime(2026, 3, 1, 10, 30, 15, tzinfo=harare)
    event = AuditEvent(actor="tester", office_code="BBR", action="test.utc", at=local)
    db.session.add(event)
    db.session.commit()
    event_id = event.id
    db.session.expunge_all()
    stored = db.session.get(AuditEvent, event_id)
    assert stored.at == local
    assert stored.at.utcoffset() == timedelta(0)
    assert stored.at.hour == 8

    # A naive datetime is refused rather than guessed at.
    db.session.add(AuditEvent(actor="tester", office_code="BBR", action="test.naive", at=datetime(2026, 3, 1, 10, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.naive")) == 0


def test_new_ids_are_time_ordered_uuid7():
    ids = [new_id() for _ in range(200)]
    assert all(isinstance(value, uuid.UUID) and value.version == 7 for value in ids)
    assert len(set(ids)) == 200
    assert ids == sorted(ids)


def test_stable_ids_depend_only_on_kind_and_key():
    assert stable_id("office", "BBR") == stable_id("office", "BBR")
    assert stable_id("office", "BBR") != stable_id("office", "HRE")
    assert stable_id("office", "BBR") != stable_id("isco08", "BBR")
    assert stable_id("office", "BBR").version == 5


def test_command_transaction_commits_once_or_not_at_all(ctx):
    before = audit_count()
    with command_transaction():
        db.session.add(AuditEvent(actor="tester", office_code="BBR", action="test.kept", at=utcnow()))
    with pytest.raises(RuntimeError):
        with command_transaction():
            db.session.add(AuditEvent(actor="tester", office_code="BBR", action="test.lost", at=utcnow()))
            db.session.flush()
            raise RuntimeError("half-way")
    db.session.expunge_all()
    assert audit_count() == before + 1
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))) == "test.kept"


def test_a_request_commits_on_success_and_rolls_back_on_an_error(database_url, login):
    """One commit per request: a 4xx or 5xx answer, or an exception, leaves nothing half-saved."""
    app = make_app(database_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the 500 page answer, as in production
    extra = Blueprint("unit_of_work", __name__, url_prefix="/unit-of-work")

    def add_event(action):
        db.session.add(AuditEvent(actor="tester", office_code="BBR", action=action, at=utcnow()))
        db.session.flush()

    @extra.get("/ok")
    @roles_required(ADMIN)
    def ok():
        add_event("test.ok")
        return "ok"

    @extra.get("/refused")
    @roles_required(ADMIN)
    def refused():
        add_event("test.refused")
        abort(400)

    @extra.get("/crash")
    @roles_required(ADMIN)
    def crash():
        add_event("test.crash")
        raise RuntimeError("crash after a write")

    app.register_blueprint(extra)
    try:
        client = app.test_client()
        login(client, "admin")
        assert client.get("/unit-of-work/ok").status_code == 200
        assert client.get("/unit-of-work/refused").status_code == 400
        crashed = client.get("/unit-of-work/crash")
        assert crashed.status_code == 500
        assert "Nothing was saved" in crashed.get_data(as_text=True)
        with app.app_context():
            actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))))
        assert actions == {"test.ok"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_validation_failed_keeps_every_message():
    error = ValidationFailed({"code": ["Use 2 to 5 capital letters."], "phone": ["Not a phone.", "Too short."]})
    assert error.field == "code"
    assert error.message == "code: Use 2 to 5 capital letters."
    assert error.messages == ["Use 2 to 5 capital letters.", "Not a phone.", "Too short."]


class DateForm(Form):
    on = StrictDateField("On")


def test_strict_date_field_says_which_date_does_not_exist():
    form = DateForm(MultiDict({"on": "2001-02-30"}))
    assert not form.validate()
    assert form.errors["on"] == ["'2001-02-30' is not a date that exists; enter it as YYYY-MM-DD."]
    good = DateForm(MultiDict({"on": " 2024-02-29 "}))
    assert good.validate() and good.on.data == date(2024, 2, 29)
    empty = DateForm(MultiDict({"on": ""}))
    assert empty.validate() and empty.on.data is None


def test_code_list_splits_on_commas_and_spaces():
    assert code_list("7112, 8322 9211,,") == ["7112", "8322", "9211"]
    assert code_list("") == [] and code_list(None) == []


def test_display_filters_name_codes_and_dash_the_empty():
    assert TEMPLATE_FILTERS["country"]("ZA") == "South Africa"
    assert TEMPLATE_FILTERS["country"](None) == "—"
    assert TEMPLATE_FILTERS["country"]("QQ") == "QQ"  # unknown codes are shown as they are
    assert TEMPLATE_FILTERS["subdivision"]("ZA-LP") == "Limpopo"
    assert TEMPLATE_FILTERS["office_kind"]("border_post") == "Border post"
    assert TEMPLATE_FILTERS["isic"]("A") == "Agriculture, forestry and fishing"
    assert TEMPLATE_FILTERS["datetime"](datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)) == "2026-01-02 03:04 UTC"
    assert TEMPLATE_FILTERS["datetime"](None) == "—"
    assert TEMPLATE_FILTERS["phone"]("+263772123456") == "+263 77 212 3456"
