"""Returns and complaints across offices, with central and two offices as real servers on 127.0.0.1: a worker
placed from Beitbridge comes home through Harare; the return, the registration's new status, the
reintegration referral and a complaint with its changes reach Beitbridge, and the overdue list there empties."""
from datetime import date, timedelta

from registry.core.db import command_transaction
from registry.extensions import db
from registry.recruitment.complaints import ComplaintData, change_complaint_status, changes_of, file_complaint
from registry.recruitment.models import Complaint, WorkerReturn
from registry.recruitment.returns import ReturnData, overdue_returns, record_return, return_id
from registry.referrals.models import Referral
from registry.referrals.targets import create_service
from registry.registration.models import Registration
from tests.conftest import user
from tests.recruitment.helpers import make_order, placed_worker
from tests.recruitment.test_sync import sync
from tests.referrals.helpers import service_data
from tests.sync.conftest import central, central_app, make_office, within  # noqa: F401  (fixtures)

TODAY = date.today()


def test_a_return_and_a_complaint_made_at_one_office_reach_the_other(central, central_app, make_office):
    bbr, hre = make_office("BBR"), make_office("HRE")
    with bbr.app_context(), command_transaction():
        supervisor, officer = user("supervisor"), user("officer")
        order = make_order(supervisor, starts_on=TODAY - timedelta(days=100), ends_on=TODAY - timedelta(days=10),
                           closes_on=TODAY - timedelta(days=95))
        placement = placed_worker(officer, order, left_on=TODAY - timedelta(days=98))
        desk = create_service(service_data(kind="reintegration", name="Returnee support desk"), supervisor)
        ids = {"registration": placement.registration_id, "employer": order.employer_id, "desk": desk.id}
    sync(bbr)
    sync(hre)
    with hre.app_context(), command_transaction():
        assert [row.registration.id for row in overdue_returns()] == [ids["registration"]]
        registration = db.session.get(Registration, ids["registration"])
        record_return(registration, ReturnData(returned_on=TODAY, reason="dismissed", wages_owed_amount=900,
                                               wages_owed_currency="ZAR", service_ids=[ids["desk"]]),
                      user("officer.hre"))
        complaint = file_complaint(ComplaintData(received_on=TODAY, kind="unpaid_wages",
                                                 employer_id=ids["employer"],
                                                 registration_number=registration.registration_number,
                                                 description="Dismissed without pay"), user("officer.hre"))
        change_complaint_status(complaint, "investigating", TODAY, "Employer called", complaint.version,
                                user("officer.hre"))
        ids["complaint"] = complaint.id
    sync(hre)
    sync(bbr)
    with within(bbr):
        registration = db.session.get(Registration, ids["registration"])
        assert (registration.status, registration.status_changed_on) == ("returned", TODAY)
        row = db.session.get(WorkerReturn, return_id(registration))
        assert (row.office_code, row.reason, row.wages_owed_amount) == ("HRE", "dismissed", 900)
        referral = db.session.scalar(db.select(Referral).where(Referral.service_id == ids["desk"]))
        assert (referral.registration_id, referral.office_code) == (ids["registration"], "BBR")
        complaint = db.session.get(Complaint, ids["complaint"])
        assert (complaint.status, complaint.office_code) == ("investigating", "HRE")
        assert [change.status for change in changes_of(complaint)] == ["received", "investigating"]
        assert overdue_returns() == []
