"""The same person registered offline at two offices reaches central as two records, queued for an
administrator, who links them (or not); the decision syncs back and can be undone."""
import re

from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.matching.models import DuplicateCandidate
from registry.people.models import Person
from registry.registration.models import Registration
from registry.sync import office as office_sync
from tests.sync.conftest import central, central_app, make_office, within  # noqa: F401  (fixtures)
from tests.sync.test_pages import post_form
from tests.sync.test_roundtrip import register_people


def test_same_national_id_at_two_offices_is_queued_linked_synced_and_undone(central, make_office, login):
    bbr, hre = make_office("BBR"), make_office("HRE")
    register_people(bbr, 1, national_id="63-555555 K 12", surname="Moyo", given_names="Tendai")
    register_people(hre, 1, username="officer.hre", national_id="63555555K12", surname="Moyo", given_names="Tendayi")
    register_people(hre, 1, username="officer.hre", surname="Ncube")  # someone else: not queued
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
    with within(central.app):
        # Neither record was dropped; the pair waits once.
        assert db.session.scalar(select(func.count()).select_from(Person).where(Person.surname == "Moyo")) == 2
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 3
        candidates = db.session.scalars(select(DuplicateCandidate)).all()
        assert len(candidates) == 1 and "same national ID" in candidates[0].reason
        # Scored when queued, like a pair found by `match scan`.
        assert candidates[0].decision_words == "Likely the same person"
        assert {"same national ID", "given name is a spelling variant"} <= set(candidates[0].reasons)
        pair_id, percent = candidates[0].id, candidates[0].percent
    # Pushing the same batch again does not queue the pair twice.
    with within(hre):
        office_sync.run_round()
    client = central.app.test_client()
    login(client, "admin")
    page = client.get("/duplicates/").get_data(as_text=True)
    assert "Tendai" in page and "Tendayi" in page and "BBR" in page and "HRE" in page
    assert f"{percent}% — Likely the same person" in re.sub(r"<[^>]+>", "", page)
    assert post_form(client, "/duplicates/", f"/duplicates/{pair_id}/link").status_code == 302
    with within(central.app):
        linked = db.session.scalars(select(Person).where(Person.same_as_id.isnot(None))).all()
        assert len(linked) == 1
        canonical = db.session.get(Person, linked[0].same_as_id)
        assert canonical.given_names == "Tendai"  # the record made first stays the reference
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "person.duplicate_linked")) == 1
    # The link reaches the offices, and both histories stay.
    with within(bbr):
        office_sync.run_round()
        assert db.session.scalar(select(func.count()).select_from(Person).where(Person.same_as_id.isnot(None))) == 1
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 3
    # Undo, then decide "different people".
    assert post_form(client, "/duplicates/", f"/duplicates/{pair_id}/undo").status_code == 302
    with within(central.app):
        assert db.session.scalar(select(func.count()).select_from(Person).where(Person.same_as_id.isnot(None))) == 0
    assert post_form(client, "/duplicates/", f"/duplicates/{pair_id}/distinct").status_code == 302
    page = client.get("/duplicates/").get_data(as_text=True)
    assert "No pairs waiting" in page and re.search(r"<td>distinct</td>", page)
    again = post_form(client, "/duplicates/", f"/duplicates/{pair_id}/link")
    assert again.status_code == 302
    assert "already decided" in client.get("/duplicates/").get_data(as_text=True)
    with within(bbr):
        office_sync.run_round()
        assert db.session.scalar(select(func.count()).select_from(Person).where(Person.same_as_id.isnot(None))) == 0


def test_only_admins_see_the_duplicate_queue(central_app, login):
    for username, status in (("officer", 403), ("supervisor", 403), ("statistician", 403), ("admin", 200)):
        client = central_app.test_client()
        login(client, username)
        assert client.get("/duplicates/").status_code == status, username
