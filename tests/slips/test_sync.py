"""Slips across offices, with central and two offices as real servers: a slip printed at Beitbridge is checked
at Harare, online or not; voids and revoked keys reach Harare by sync; private keys never leave their office."""
from sqlalchemy import func, select

from registry.core.db import command_transaction
from registry.extensions import db
from registry.slips import keys
from registry.slips.models import PrivateKey, SigningKey, SlipPrint
from registry.slips.services import print_slip, void_slip
from registry.slips.verification import Verdict, verify_payload, verify_typed
from registry.sync import office as office_sync
from registry.sync.models import OutboxEntry
from tests.conftest import user
from tests.support.factories import create_registration
from tests.sync.conftest import central, central_app, make_office, within  # noqa: F401  (fixtures)


def sync(app):
    with within(app):
        office_sync.run_round()


def verdict(app, payload):
    with app.app_context(), command_transaction():
        return verify_payload(payload).verdict


def test_a_slip_printed_at_one_office_is_checked_at_another_even_offline(central, central_app, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    with bbr.app_context(), command_transaction():
        registration = create_registration(actor=user("officer"), surname="Muñoz", given_names="João")
        number = registration.registration_number
        _, first = print_slip(number, user("officer"))
        _, second = print_slip(number, user("officer"))
        payloads = [first.record.payload, second.record.payload]
        codes = [first.record.short_code, second.record.short_code]
        private_hex = db.session.scalar(select(PrivateKey.private_key))

    # Before any sync Harare knows neither the key nor the slip.
    assert verdict(hre, payloads[0]) is Verdict.UNKNOWN
    sync(bbr)
    sync(hre)
    with within(hre):
        result = verify_typed(number, codes[0])
        assert result.verdict is Verdict.GENUINE and result.registration.person.given_names == "João"
        assert db.session.scalar(select(func.count()).select_from(PrivateKey)) == 0
        [key] = db.session.scalars(select(SigningKey)).all()
        assert (key.office_code, key.origin_office) == ("BBR", "BBR")
        assert db.session.scalar(select(func.count()).select_from(SlipPrint)) == 2
    with within(central_app):
        assert db.session.scalar(select(func.count()).select_from(PrivateKey)) == 0
        assert all(private_hex not in str(entry.payload) for entry in db.session.scalars(select(OutboxEntry)))

    # Beitbridge voids the first slip; after a round of sync Harare answers "revoked".
    with bbr.app_context(), command_transaction():
        void_slip(registration=db.session.merge(registration), short_code_text=codes[0], reason="lost", actor="officer")
    sync(bbr)
    sync(hre)
    assert verdict(hre, payloads[0]) is Verdict.REVOKED
    assert verdict(hre, payloads[1]) is Verdict.GENUINE

    # A stolen key, revoked at Beitbridge: every slip it signed is revoked at Harare too.
    with bbr.app_context(), command_transaction():
        keys.rotate_key(actor="officer", revoke_old=True, reason="laptop stolen")
        _, fresh = print_slip(number, user("officer"))
        fresh_payload = fresh.record.payload
    sync(bbr)
    sync(hre)
    assert verdict(hre, payloads[1]) is Verdict.REVOKED
    assert verdict(hre, fresh_payload) is Verdict.GENUINE

    # Harare checks with no central at all: everything it needs is in its own database.
    central.stop()
    assert verdict(hre, fresh_payload) is Verdict.GENUINE
    assert verdict(hre, payloads[0]) is Verdict.REVOKED
