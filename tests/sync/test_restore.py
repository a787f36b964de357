"""An office restored from an old backup (with `flask restore`, or its database file copied back by hand)
syncs back to the union of everything: its own changes the backup lacks come back from central, its new
changes reach central, and no number is used twice. Real central on 127.0.0.1, SQLite and PostgreSQL."""
import shutil
import sqlite3
from contextlib import closing

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from registry.audit.models import AuditEvent
from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.people.services import person_data_from, update_person
from registry.registration.models import Registration
from registry.sync import office as office_sync
from registry.sync.models import InboxEntry
from tests.conftest import user
from tests.sync.conftest import within
from tests.sync.test_roundtrip import digest, register_people


def numbers(app):
    with app.app_context():
        return sorted(db.session.scalars(select(Registration.registration_number)))


def database_file(app):
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


def sync(app):
    with within(app):
        return office_sync.run_round()


def test_office_restored_with_the_command_gets_everything_back(central, make_office, tmp_path):
    bbr = make_office("BBR")
    register_people(bbr, 2)
    sync(bbr)
    backup = tmp_path / "bbr.backup"
    assert bbr.test_cli_runner().invoke(args=["backup", "-o", str(backup)]).exit_code == 0
    after_backup = register_people(bbr, 3)
    sync(bbr)  # central holds all five

    result = bbr.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    with bbr.app_context():
        db.engine.dispose()
    assert len(numbers(bbr)) == 2
    (fresh,) = register_people(bbr, 1)
    assert fresh not in after_backup

    sync(bbr)
    assert numbers(bbr) == numbers(central.app)
    assert len(set(numbers(bbr))) == 6 and set(after_backup) | {fresh} <= set(numbers(bbr))
    assert digest(bbr) == digest(central.app)
    with within(bbr):
        assert db.session.execute(text("SELECT recover_own_after FROM sync_state")).scalar() is None
        assert office_sync.pending_count() == 0


def test_office_database_copied_back_by_hand_is_detected_and_loses_nothing(central, make_office, tmp_path):
    """No restore command, so nothing told the office: central notices numbers given out again for other
    records, the office renumbers its waiting changes, and pulls back its own lost ones."""
    bbr = make_office("BBR")
    register_people(bbr, 2)
    sync(bbr)
    old_copy = tmp_path / "copy.db"
    with closing(sqlite3.connect(database_file(bbr))) as live, closing(sqlite3.connect(old_copy)) as copy:
        live.backup(copy)
    lost = register_people(bbr, 2)
    sync(bbr)
    with within(bbr):
        db.session.remove()
        db.engine.dispose()
    with closing(sqlite3.connect(old_copy)) as copy, closing(sqlite3.connect(database_file(bbr))) as live:
        copy.backup(live)

    # A change made on the old copy takes an outbox number central already holds for another record.
    with bbr.app_context(), command_transaction():
        person = db.session.scalars(select(Person).order_by(Person.surname, Person.id)).first()
        data = person_data_from(person)
        data.phone = "0772987654"
        update_person(person, data, person.version, user("officer"))
        changed_id = person.id

    sync(bbr)
    assert set(lost) <= set(numbers(bbr))
    assert numbers(bbr) == numbers(central.app)
    assert digest(bbr) == digest(central.app)
    with within(central.app):
        assert db.session.get(Person, changed_id).phone == "+263772987654"
        refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sync.request_refused")).all()
        assert any("sequence_reused" in str(event.details) for event in refused)
        # Each office number once, each for one record.
        assert len(db.session.scalars(select(InboxEntry.seq).where(InboxEntry.office_code == "BBR")).all()) == \
            len(set(db.session.scalars(select(InboxEntry.seq).where(InboxEntry.office_code == "BBR"))))
