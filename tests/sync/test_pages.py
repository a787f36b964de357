"""The sync pages: an office's status and 'Sync now'; central's health, secrets and conflict resolution."""
import re

from sqlalchemy import select

from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import person_data_from, update_person
from registry.sync import office as office_sync
from registry.sync.models import InboxEntry, OfficeSyncHealth, SyncConflict
from tests.conftest import extract_csrf, user
from tests.sync.conftest import within
from tests.sync.test_roundtrip import digest, register_people


def post_form(client, page_url, action_url, data=None):
    token = extract_csrf(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **(data or {})})


def test_office_header_and_sync_now(central, make_office, login):
    bbr = make_office("BBR")
    register_people(bbr, 2)
    client = bbr.test_client()
    login(client, "officer")
    page = " ".join(client.get("/people/").get_data(as_text=True).split())
    assert "Never synced" in page and re.search(r"\b\d+ waiting", page)
    response = post_form(client, "/sync/", "/sync/now")
    assert response.status_code == 302
    page = " ".join(client.get("/sync/").get_data(as_text=True).split())
    assert "Synced:" in page and "Synced just now · 0 waiting" in page


def test_sync_now_shows_the_reason_when_central_is_down(sqlite_template, tmp_path, login):
    import shutil

    from tests.conftest import make_app

    path = tmp_path / "office.db"
    shutil.copyfile(sqlite_template, path)
    app = make_app(f"sqlite:///{path}", OFFICE_SECRET="x" * 64)
    client = app.test_client()
    login(client, "officer")
    post_form(client, "/sync/", "/sync/now")
    page = " ".join(client.get("/sync/").get_data(as_text=True).split())
    assert "central unreachable" in page and "last sync failed" in page
    with app.app_context():
        db.engine.dispose()


def test_central_health_shows_gaps_silence_and_conflicts(central, make_office, login):
    bbr = make_office("BBR")
    register_people(bbr, 3)
    with within(bbr):
        office_sync.run_round()
    with central.app.app_context(), command_transaction():
        # Pretend the office's second and third changes never arrived.
        received = db.session.scalars(select(InboxEntry).where(InboxEntry.office_code == "BBR")
                                      .order_by(InboxEntry.seq)).all()
        first, missing = received[0].seq, [entry.seq for entry in received[1:3]]
        for entry in received[1:3]:
            db.session.delete(entry)
        db.session.get(OfficeSyncHealth, "BBR").contiguous_through = first
    client = central.app.test_client()
    login(client, "admin")
    page = client.get("/sync/").get_data(as_text=True)
    row = re.search(r"<td>BBR.*?</tr>", page, re.S).group(0)
    assert f"{missing[0]}–{missing[1]}" in row and "silent" not in row
    assert re.search(r"<td>HRE <strong>silent</strong>", page)  # never in contact


def test_secret_issued_in_the_web_ui_is_shown_once(central, login):
    client = central.app.test_client()
    login(client, "admin")
    response = post_form(client, "/sync/", "/sync/offices/HRE/secret")
    secret = re.search(r'<code class="secret">([0-9a-f]{64})</code>', response.get_data(as_text=True)).group(1)
    assert secret not in client.get("/sync/").get_data(as_text=True)
    officer = central.app.test_client()
    login(officer, "officer")
    assert post_form(officer, "/sync/", "/sync/offices/HRE/secret").status_code == 403


def test_supervisor_resolves_a_conflict_and_the_result_reaches_offices(central, make_office, login):
    bbr, hre = make_office("BBR"), make_office("HRE")
    register_people(bbr, 1, surname="Dube")
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
    for app, username, district in ((bbr, "officer", "Beitbridge"), (hre, "admin", "Harare")):
        with app.app_context(), command_transaction():
            person = db.session.scalar(select(Person))
            data = person_data_from(person)
            data.home_district = district
            update_person(person, data, person.version, user(username))
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
    with within(central.app):
        conflict = db.session.scalar(select(SyncConflict))
        assert conflict.winner_payload["home_district"] == "Harare"
        conflict_id = conflict.id
    client = central.app.test_client()
    login(client, "supervisor")
    url = f"/sync/conflicts/{conflict_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Beitbridge" in page and "Harare" in page
    assert "Home district" in page and "Two versions of one person" in page  # labels, not column names
    response = post_form(client, url, url, {"pick-home_district": "loser"})
    assert response.status_code == 302
    with within(central.app):
        resolved = db.session.get(SyncConflict, conflict_id)
        assert resolved.resolution == "took_loser" and resolved.resolved_by == "supervisor"
        assert db.session.scalar(select(Person)).home_district == "Beitbridge"
    again = post_form(client, url, url, {"pick-home_district": "loser"})
    assert again.status_code == 200 and "already resolved" in again.get_data(as_text=True)
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
            assert db.session.scalar(select(Person)).home_district == "Beitbridge"
    assert digest(bbr) == digest(hre) == digest(central.app)
