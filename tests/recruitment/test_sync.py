"""Recruitment across offices, with central and two offices as real servers on 127.0.0.1: agencies, job
orders with their terms and vetting, and selection steps made at Beitbridge reach Harare; an agency's licence
suspended at Harare blocks referrals at Beitbridge; the same step recorded at two places meets as one row."""
from datetime import date, timedelta

from sqlalchemy import select

from registry.core.db import command_transaction
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.recruitment.agencies import update_agency
from registry.recruitment.models import Agency, SelectionStep
from registry.recruitment.orders import CHECKLIST, record_vetting
from registry.recruitment.selection import record_step, steps_of
from registry.referrals.models import Referral, Vacancy
from registry.referrals.services import issue_referral
from registry.registration.models import Registration
from registry.sync import office as office_sync
from registry.sync.models import SyncConflict
from tests.conftest import user
from tests.recruitment.helpers import agency_data, candidate, make_agency, make_order
from tests.sync.conftest import central, central_app, make_office, within  # noqa: F401  (fixtures)

TODAY = date.today()


def sync(app):
    with within(app):
        office_sync.run_round()
        assert office_sync.pending_count() == 0


def test_agencies_job_orders_and_selection_steps_travel_between_offices(central, central_app, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    with bbr.app_context(), command_transaction():
        supervisor, officer = user("supervisor"), user("officer")
        agency = make_agency(supervisor)
        order = make_order(supervisor, agency_id=agency.id, season="Citrus harvest", housing_provided=True)
        record_vetting(order, dict.fromkeys(CHECKLIST, True), order.version, officer)
        registration = candidate(officer)
        referral = issue_referral(registration, order, TODAY + timedelta(days=7), officer)
        for step in ("interviewed", "medical"):
            record_step(referral, step, TODAY, officer)
        ids = {"agency": agency.id, "order": order.id, "referral": referral.id}
        late = candidate(officer, surname="Late")
        late_id = late.id
    sync(bbr)
    sync(hre)
    with within(hre):
        order = db.session.get(Vacancy, ids["order"])
        assert (order.agency.name, order.season, order.housing_provided, order.contract_vetted) == (
            "Limpopo Farm Labour Services", "Citrus harvest", True, True)
        assert order.vetting_checklist == dict.fromkeys(CHECKLIST, True)
        referral = db.session.get(Referral, ids["referral"])
        done = steps_of([referral])[referral.id]
        assert sorted(done) == ["interviewed", "medical"] and done["medical"].done_by == "officer"
        assert referral.status == "attended"

    # Harare's administrator suspends the agency: at Beitbridge no one more is referred through it.
    with hre.app_context(), command_transaction():
        agency = db.session.get(Agency, ids["agency"])
        update_agency(agency, agency_data(status="suspended"), agency.version, user("admin"))
    sync(hre)
    sync(bbr)
    with bbr.app_context(), command_transaction():
        order, late = db.session.get(Vacancy, ids["order"]), db.session.get(Registration, late_id)
        assert order.agency.status == "suspended"
        try:
            issue_referral(late, order, TODAY + timedelta(days=7), user("officer"))
        except ValidationFailed as refused:
            assert "is suspended; no one is referred through an agency without a valid licence" in refused.messages[0]
        else:
            raise AssertionError("a referral through a suspended agency was issued")

    # The same step recorded at Beitbridge and, before Beitbridge synced, by an administrator at central:
    # one row (the same id), a conflict for a supervisor, and nothing stuck.
    with bbr.app_context(), command_transaction():
        record_step(db.session.get(Referral, ids["referral"]), "documents", TODAY, user("officer"), note="at BBR")
    with central_app.app_context(), command_transaction():
        record_step(db.session.get(Referral, ids["referral"]), "documents", TODAY, user("admin"), note="at HQ")
    sync(bbr)
    with within(central_app):
        rows = db.session.scalars(select(SelectionStep).where(SelectionStep.referral_id == ids["referral"],
                                                              SelectionStep.step == "documents")).all()
        assert len(rows) == 1
        assert db.session.scalars(select(SyncConflict).where(SyncConflict.entity == "selection_step")).all()
