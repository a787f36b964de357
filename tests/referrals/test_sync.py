"""Referrals across offices, with central and two offices as real servers on 127.0.0.1: services, employers,
vacancies and referrals made at Beitbridge reach central and Harare; a referral slip printed at Beitbridge is
genuine at Harare; a placement made at Beitbridge fills the vacancy's place at Harare too."""
from datetime import date, timedelta

from sqlalchemy import select

from registry.core.db import command_transaction
from registry.extensions import db
from registry.referrals.models import Employer, Referral, Service, Vacancy
from registry.referrals.services import issue_referral, record_outcome
from registry.referrals.targets import list_vacancies, placed_count, vacancy_closed_reason
from registry.registration.models import Registration
from registry.slips.referral_slips import print_referral_slip
from registry.slips.verification import Verdict, verify_payload, verify_typed
from registry.sync import office as office_sync
from tests.conftest import user
from tests.referrals.helpers import make_service, make_vacancy
from tests.slips.helpers import scan_pdf
from tests.support.factories import create_registration
from tests.sync.conftest import central, central_app, make_office, within  # noqa: F401  (fixtures)


def sync(app):
    with within(app):
        office_sync.run_round()
        assert office_sync.pending_count() == 0


def test_targets_referrals_and_referral_slips_travel_to_every_office(central, central_app, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    today = date.today()
    with bbr.app_context(), command_transaction():
        supervisor, officer = user("supervisor"), user("officer")
        service = make_service(supervisor)
        vacancy = make_vacancy(supervisor, places=1)
        registration = create_registration(actor=officer, surname="Muñoz", given_names="João")
        referral = issue_referral(registration, vacancy, today + timedelta(days=7), officer)
        to_clinic = issue_referral(registration, service, today + timedelta(days=3), officer)
        pdf, issued = print_referral_slip(referral, officer, "a4")
        ids = {Service: service.id, Employer: vacancy.employer_id, Vacancy: vacancy.id, Referral: referral.id}
        number, reference, short_code = registration.registration_number, referral.reference, issued.record.short_code
        clinic_reference = to_clinic.reference
    [[payload]] = scan_pdf(pdf)

    # Before any sync Harare knows neither the key nor the referral.
    with hre.app_context(), command_transaction():
        assert verify_payload(payload).verdict is Verdict.UNKNOWN
    sync(bbr)
    with within(central_app):
        for model, row_id in ids.items():
            row = db.session.get(model, row_id)
            assert row is not None and (row.origin_office, row.version) == ("BBR", 1), model
        assert db.session.get(Referral, ids[Referral]).reference == reference
    sync(hre)

    with hre.app_context(), command_transaction():
        service, vacancy = db.session.get(Service, ids[Service]), db.session.get(Vacancy, ids[Vacancy])
        assert (service.name, service.address, service.origin_office) == (
            "Beitbridge District Hospital", "Hospital Road, Beitbridge", "BBR")
        assert (vacancy.title, vacancy.employer.name, vacancy.places) == ("Citrus pickers", "Mopani Citrus Estates", 1)
        referrals = db.session.scalars(select(Referral).order_by(Referral.sequence)).all()
        assert [(r.reference, r.status, r.office_code) for r in referrals] == [
            (reference, "issued", "BBR"), (clinic_reference, "issued", "BBR")]
        registration = db.session.scalar(select(Registration).where(Registration.registration_number == number))
        assert registration.status == "referred"
        # The slip printed at Beitbridge is genuine here, scanned or typed, and names the referral.
        result = verify_payload(payload)
        assert result.verdict is Verdict.GENUINE, result.reason
        assert result.referral.id == ids[Referral] and result.referral.registration.person.given_names == "João"
        typed = verify_typed(f"{number}/R1", short_code)
        assert typed.verdict is Verdict.GENUINE and typed.referral.id == ids[Referral]
        # Harare offers the vacancy to its own people too.
        assert [v.id for v, _ in list_vacancies(open_only=True)] == [ids[Vacancy]]

    # Beitbridge places the candidate: at Harare the only place is then filled.
    with bbr.app_context(), command_transaction():
        referral = db.session.get(Referral, ids[Referral])
        record_outcome(referral, "placed", today, referral.version, user("officer"))
    sync(bbr)
    sync(hre)
    with within(hre):
        vacancy = db.session.get(Vacancy, ids[Vacancy])
        assert placed_count(vacancy) == 1
        assert vacancy_closed_reason(vacancy, today) == "all its 1 places are filled"
        assert list_vacancies(open_only=True) == []
        registration = db.session.scalar(select(Registration).where(Registration.registration_number == number))
        assert registration.status == "departed"

    # Harare checks the slip with no central at all: everything it needs is in its own database.
    central.stop()
    with hre.app_context(), command_transaction():
        assert verify_payload(payload).verdict is Verdict.GENUINE
