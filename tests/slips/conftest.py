"""Slip fixtures: a registration with a name beyond Latin-1, and the office set up for bilingual slips."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.offices.models import Office
from tests.support.factories import create_registration

DAY = date(2026, 3, 10)
HELPLINE = "Labour helpline 0800 123 123 (free)\nIOM Beitbridge +263 286 22 451"


def set_up_office(code="BBR", language="sn", helpline=HELPLINE):
    office = db.session.scalar(select(Office).where(Office.code == code))
    office.slip_language, office.helpline = language, helpline
    office.address, office.phone = "Old Customs Building, Beitbridge", "+263286220001"
    db.session.flush()
    return office


def register_at_bbr(**person):
    """Set BBR up for bilingual slips and register a person there (inside an app context)."""
    from tests.conftest import user

    set_up_office()
    made = create_registration(actor=user("officer"), today=DAY, **person)
    db.session.commit()
    return made


@pytest.fixture
def registered(app):
    """For request tests, which must not run inside a test's own app context: the registration's number."""
    with app.app_context():
        return register_at_bbr(surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi").registration_number


@pytest.fixture
def registration(ctx, officer):
    """A BBR registration of Ṱhivhulawi Nemaṱhaṅwe, at an office printing slips in English and Shona."""
    set_up_office()
    made = create_registration(actor=officer, surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi", today=DAY)
    db.session.commit()
    return made
