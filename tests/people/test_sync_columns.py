"""Every change to a person writes its outbox entry in the same transaction, one version per transaction."""
import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.people.models import Person
from registry.people.services import PossibleDuplicates, create_person, person_data_from, update_person
from registry.sync.models import OutboxEntry
from registry.sync.outbox import HardDeleteRefused
from tests.registration.helpers import row_counts
from tests.support.factories import person_data


def outbox_for(row):
    return db.session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == row.id).order_by(OutboxEntry.seq)).all()


def test_insert_writes_its_outbox_entry_in_the_same_transaction(ctx, officer):
    before = row_counts()
    person = create_person(person_data(surname="Gumbo"), officer)
    [entry] = outbox_for(person)  # already there before any commit
    assert (entry.entity, entry.operation, entry.version, entry.base_version, entry.office_code) == (
        "person", "insert", 1, 0, "BBR")
    assert entry.payload["id"] == str(person.id)
    assert entry.payload["surname"] == "Gumbo"
    assert entry.payload["date_of_birth"] == person.date_of_birth.isoformat()
    # The audit event is a syncable row too, and travels with it.
    assert db.session.scalar(select(OutboxEntry).where(OutboxEntry.entity == "audit_event")) is not None
    assert row_counts() == {**before, "person": 1, "outbox": before["outbox"] + 2, "audit": before["audit"] + 1}
    db.session.rollback()
    assert row_counts() == before


def test_each_transaction_bumps_the_version_by_exactly_one(ctx, officer):
    person = create_person(person_data(surname="Gumbo"), officer)
    db.session.commit()

    # Two changes and several flushes in one transaction: one new version, one outbox entry.
    data = person_data_from(person)
    data.home_district = "Gwanda"
    update_person(person, data, 1, officer)
    db.session.flush()
    data = person_data_from(person)
    data.phone = "0772999888"
    update_person(person, data, 2, officer)
    db.session.flush()
    db.session.commit()
    assert person.version == 2
    entries = outbox_for(person)
    assert [(e.operation, e.version, e.base_version) for e in entries] == [("insert", 1, 0), ("update", 2, 1)]
    assert entries[1].payload["home_district"] == "Gwanda" and entries[1].payload["phone"] == "+263772999888"

    data = person_data_from(person)
    data.given_names = "Tendai Rudo"
    update_person(person, data, 2, officer)
    db.session.commit()
    assert db.session.scalar(select(Person.version).where(Person.id == person.id)) == 3
    assert [(e.version, e.base_version) for e in outbox_for(person)][-1] == (3, 2)


def test_tombstone_is_a_versioned_delete_and_hard_delete_is_refused(ctx, officer):
    person = create_person(person_data(), officer)
    db.session.commit()
    person.mark_deleted()
    db.session.commit()
    last = outbox_for(person)[-1]
    assert (last.operation, last.version, last.base_version) == ("delete", 2, 1)
    assert last.payload["deleted_at"] is not None

    # Removing the row itself is refused, so the tombstone can never be skipped.
    before = row_counts()
    db.session.delete(person)
    with pytest.raises(HardDeleteRefused, match="call mark_deleted"):
        db.session.flush()
    db.session.rollback()
    assert row_counts() == before
    assert db.session.get(Person, person.id).version == 2


def test_a_refused_person_writes_no_outbox_entry(ctx, officer):
    create_person(person_data(surname="Gumbo", given_names="Tatenda"), officer)
    db.session.commit()
    before = row_counts()
    with pytest.raises(PossibleDuplicates):
        create_person(person_data(surname="Gumbo", given_names="Tatenda"), officer)
    db.session.flush()
    assert row_counts() == before
