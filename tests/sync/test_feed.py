"""Central's feed and the set-based push: an office is not sent back what it pushed itself, but gets everything
central decided or changed; an office restored from an old backup gets its own rows back; a batch that
creates a row and changes it again applies in order; a batch that does not fit central's records is refused
whole, whichever way central writes it."""
import json
import sqlite3

import pytest
from sqlalchemy import func, select

from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import person_data_from, update_person
from registry.registration.models import Registration
from registry.registration.numbering import RegistrationSequence, parse_registration_number
from registry.sync import office as office_sync
from registry.sync.models import InboxEntry, OutboxEntry
from tests.conftest import user
from tests.sync.conftest import within
from tests.sync.test_roundtrip import digest, register_people, signed_post


def pull(app, after=0, own_through=None):
    """One pull as the office would send it; returns the entities and row ids it was sent, and the answer."""
    with within(app):
        client = office_sync.client_from_config(office_sync.sync_state())
        query = f"/api/v1/sync/pull?after={after}&limit=2000"
        if own_through is not None:
            query += f"&own_through={own_through}"
        answer = client.request("GET", query)
    return {(change["entity"], change["row_id"]) for change in answer["changes"]}, answer


def rows_of(app, model):
    with app.app_context():
        return {("person" if model is Person else "registration", str(row_id))
                for row_id in db.session.scalars(select(model.id))}


def feed_end(app):
    with app.app_context():
        return db.session.scalar(select(func.max(OutboxEntry.seq)))


def change_phone(app, username, phone, surname=None):
    with app.app_context(), command_transaction():
        query = select(Person).order_by(Person.consent_at, Person.id)
        if surname:
            query = query.where(Person.surname == surname)
        person = db.session.scalars(query).first()
        data = person_data_from(person)
        data.phone = phone
        update_person(person, data, person.version, user(username))
        return person.id


def test_a_pull_leaves_out_what_the_office_pushed_itself_but_not_what_central_changed(central, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    register_people(bbr, 3)
    own = rows_of(bbr, Person) | rows_of(bbr, Registration)
    with within(bbr):
        pushed, pulled = office_sync.run_round()
        state = office_sync.sync_state()
        assert pushed > 0 and pulled == 0
        acknowledged, cursor = state.acknowledged_through, state.pull_cursor
    assert acknowledged > 0
    assert cursor == feed_end(central.app)  # past the entries left out: the next round reads none of them

    # Asked with its acknowledged mark, central sends none of BBR's own rows; without it (another client,
    # or an office that says nothing), everything as before.
    sent, answer = pull(bbr, own_through=acknowledged)
    assert sent.isdisjoint(own) and answer["next_after"] == cursor and answer["more"] is False
    sent, _ = pull(bbr)
    assert own <= sent
    # Another office gets BBR's rows.
    sent, _ = pull(hre, own_through=acknowledged)
    assert own <= sent

    # Head office changes one of BBR's people: that change reaches BBR, though the row started there.
    person_id = change_phone(central.app, "admin", "0772000077")
    with within(bbr):
        assert office_sync.run_round() == (0, 1)
        assert db.session.get(Person, person_id).phone == "+263772000077"
    assert digest(bbr) == digest(central.app)


def test_the_winner_of_a_conflict_gets_centrals_new_version_back(central, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    register_people(bbr, 1, surname="Dube")
    for app in (bbr, hre):
        with within(app):
            office_sync.run_round()
    change_phone(hre, "admin", "0772000002")
    with within(hre):
        office_sync.run_round()  # applied as sent: HRE holds it, and is not sent it back
    change_phone(bbr, "officer", "0772000001")
    with within(bbr):
        office_sync.run_round()  # a conflict: BBR's version (2) loses against HRE's (2, "HRE" sorts last)
        person = db.session.scalar(select(Person))
        assert person.version == 3 and person.phone == "+263772000002"
    with within(hre):
        assert office_sync.run_round() == (0, 1)  # HRE won, yet takes version 3 like everyone else
        assert db.session.scalar(select(Person)).version == 3
    assert digest(bbr) == digest(hre) == digest(central.app)


def _copy_database(source, target):
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_an_office_restored_from_an_old_backup_gets_its_own_pushed_rows_back(central, make_office, tmp_path):
    bbr = make_office("BBR")
    path = bbr.config["DATABASE_URL"].removeprefix("sqlite:///")
    first = register_people(bbr, 2)
    with within(bbr):
        office_sync.run_round()
    backup = tmp_path / "backup.db"
    _copy_database(path, backup)
    later = register_people(bbr, 2)
    with within(bbr):
        office_sync.run_round()
    with bbr.app_context():
        db.session.remove()
        db.engine.dispose()
    _copy_database(backup, path)  # the office PC is restored from the backup

    with within(bbr):
        assert set(db.session.scalars(select(Registration.registration_number))) == set(first)
        office_sync.run_round()
        # Rows this office pushed after the backup come back: they are above the mark the backup knows.
        assert set(db.session.scalars(select(Registration.registration_number))) == set(first + later)
        highest = max((parse_registration_number(number) for number in later),
                      key=lambda number: (number.year, number.sequence))
        floor = db.session.scalar(select(RegistrationSequence.last_value).where(
            RegistrationSequence.office_code == "BBR", RegistrationSequence.year == highest.year))
        assert floor >= highest.sequence  # and their numbers are never issued again
    assert digest(bbr) == digest(central.app)


def test_a_batch_that_creates_a_row_and_changes_it_applies_both_in_order(central, make_office):
    bbr = make_office("BBR")
    register_people(bbr, 2, surname="Moyo")
    register_people(bbr, 1, surname="Ncube")
    person_id = change_phone(bbr, "officer", "0772000009", surname="Ncube")
    with within(bbr):
        batch = office_sync.pending_batch()
        assert [c.operation.value for c in batch.changes if c.row_id == str(person_id)] == ["insert", "update"]
        client = office_sync.client_from_config(office_sync.sync_state())
        first = client.request("POST", "/api/v1/sync/push", batch.to_json())
        again = client.request("POST", "/api/v1/sync/push", batch.to_json())
    assert {r["status"] for r in first["results"]} == {"applied"}
    assert {r["status"] for r in again["results"]} == {"already_applied"}
    with within(central.app):
        person = db.session.get(Person, person_id)
        assert person.version == 2 and person.phone == "+263772000009"
        feed = db.session.execute(select(OutboxEntry.version, OutboxEntry.operation)
                                  .where(OutboxEntry.row_id == person_id).order_by(OutboxEntry.seq)).all()
        assert [tuple(row) for row in feed] == [(1, "insert"), (2, "update")]
    with within(bbr):
        office_sync.run_round()
        assert office_sync.pending_count() == 0
    assert digest(bbr) == digest(central.app)


def _central_counts(app):
    """What a refused push must not change (the refusal itself is audited, and so is in the feed)."""
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (Person, Registration, InboxEntry))
        feed = db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.entity != "audit_event"))
        return (*counts, feed)


@pytest.mark.parametrize("case", ["unknown person", "number taken"])
def test_a_batch_that_does_not_fit_centrals_records_is_refused_whole(central, make_office, case):
    bbr = make_office("BBR")
    register_people(bbr, 2)
    with within(bbr):
        batch = office_sync.pending_batch().to_json()
        secret = bbr.config["OFFICE_SECRET"]
    if case == "unknown person":  # a registration whose person central has never received
        batch["changes"] = [c for c in batch["changes"] if c["entity"] != "person"]
    else:  # the second registration carries the first one's number
        numbers = [c["payload"] for c in batch["changes"] if c["entity"] == "registration"]
        numbers[1]["registration_number"] = numbers[0]["registration_number"]
    before = _central_counts(central.app)
    response = signed_post(central, "BBR", secret, json.dumps(batch).encode())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_change" and "does not fit central's records" in error["message"]
    assert _central_counts(central.app) == before
    with within(bbr):  # the office's own batch, untouched, still goes through
        office_sync.run_round()
        assert office_sync.pending_count() == 0
    assert digest(bbr) == digest(central.app)


def test_people_of_one_batch_sharing_a_national_id_are_queued_in_pairs_once(central, make_office):
    from registry.matching.models import DuplicateCandidate

    hre, bbr = make_office("HRE"), make_office("BBR")
    register_people(hre, 1, username="officer.hre", national_id="63-555555 K 12")
    with within(hre):
        office_sync.run_round()
    with within(central.app):
        known = db.session.execute(select(Person.id, Person.national_id, Person.national_id_country)).one()
    register_people(bbr, 3)
    with within(bbr):
        batch = office_sync.pending_batch().to_json()
        secret = bbr.config["OFFICE_SECRET"]
    people = [c["payload"] for c in batch["changes"] if c["entity"] == "person"]
    for payload in people[:2]:  # two of BBR's three hold the ID HRE's person holds
        payload["national_id"], payload["national_id_country"] = known.national_id, known.national_id_country
    body = json.dumps(batch).encode()
    assert signed_post(central, "BBR", secret, body).status_code == 200
    assert signed_post(central, "BBR", secret, body).status_code == 200  # again: nothing new is queued
    with within(central.app):
        pairs = {frozenset((str(c.first_person_id), str(c.second_person_id)))
                 for c in db.session.scalars(select(DuplicateCandidate))}
        assert db.session.scalar(select(func.count()).select_from(DuplicateCandidate)) == 3
    first, second = people[0]["id"], people[1]["id"]
    assert pairs == {frozenset((first, second)), frozenset((first, str(known.id))),
                     frozenset((second, str(known.id)))}
