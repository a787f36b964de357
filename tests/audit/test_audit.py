"""The audit trail: logins and views of personal data are recorded, and shown to supervisors and admins."""
import re

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.core.db import command_transaction
from registry.extensions import db
from tests.conftest import make_app
from tests.support.factories import create_registration


def trail_rows(html):
    """(actor, office, action) of each row of the audit page's table."""
    return re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", html)


def test_login_and_person_view_are_recorded(app, client, login):
    with app.app_context(), command_transaction():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        officer_id = officer.id
        person_id = create_registration(actor=officer).person_id
    login(client, "officer")
    assert client.get(f"/people/{person_id}").status_code == 200
    assert client.get(f"/people/{person_id}").status_code == 200
    with app.app_context():
        logged_in = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.logged_in")).all()
        viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.viewed")).all()
    assert [(e.actor, e.office_code, e.entity_type, e.entity_id) for e in logged_in] == [
        ("officer", "BBR", "app_user", officer_id)]
    assert [(e.actor, e.office_code, e.entity_type, e.entity_id) for e in viewed] == [
        ("officer", "BBR", "person", person_id)] * 2
    assert all(event.at.tzinfo is not None for event in viewed)


def test_supervisors_see_their_own_office_and_admins_every_office(app, database_url, login):
    # Someone logs in at the Harare node, which shares this database here: its events carry HRE.
    harare = make_app(database_url, OFFICE_CODE="HRE")
    try:
        login(harare.test_client(), "officer.hre")
    finally:
        with harare.app_context():
            db.engine.dispose()
    bbr_officer = app.test_client()
    login(bbr_officer, "officer")

    supervisor = app.test_client()
    login(supervisor, "supervisor")
    page = supervisor.get("/audit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Audit trail of BBR" in html
    rows = trail_rows(html)
    assert ("officer", "BBR", "user.logged_in") in rows
    assert ("supervisor", "BBR", "user.logged_in") in rows
    assert rows and all(office == "BBR" for _, office, _ in rows)

    admin = app.test_client()
    login(admin, "admin")
    rows = trail_rows(admin.get("/audit/").get_data(as_text=True))
    assert ("officer.hre", "HRE", "user.logged_in") in rows
    assert ("officer", "BBR", "user.logged_in") in rows

    assert bbr_officer.get("/audit/").status_code == 403
