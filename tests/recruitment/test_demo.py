"""The demo data gives every recruitment page something to show: agencies in every licence state, job
orders published, held as drafts (a fee) and failed at vetting, and candidates at every selection step."""
from sqlalchemy import func, select

from registry.extensions import db
from registry.recruitment.models import Agency, SelectionStep
from registry.referrals.models import Referral, Vacancy


def test_demo_setup_and_load_make_recruitment_data(app, runner, login):
    assert runner.invoke(args=["demo", "setup"]).exit_code == 0
    result = runner.invoke(args=["demo", "load", "--registrations", "400"])
    assert result.exit_code == 0, result.output
    assert "referred 8 candidates to a job order from its shortlist" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Agency.status))) == ["active", "active", "suspended"]
        drafts = db.session.scalars(select(Vacancy).where(Vacancy.status == "draft")).all()
        assert sorted(v.title for v in drafts) == ["Irrigation assistants", "Packhouse workers"]
        # The open job order's candidates (the past season's workers all departed: see the next test).
        current = (select(SelectionStep.step, func.count()).join(Referral, SelectionStep.referral_id == Referral.id)
                   .join(Vacancy, Referral.vacancy_id == Vacancy.id).where(Vacancy.title != "Summer harvest team"))
        steps = dict(db.session.execute(current.group_by(SelectionStep.step)).all())
        assert steps == {"interviewed": 7, "medical": 5, "documents": 4, "contract": 3, "departed": 1}
        order_id = db.session.scalar(select(Referral.vacancy_id).join(
            SelectionStep, SelectionStep.referral_id == Referral.id).join(Vacancy, Referral.vacancy_id == Vacancy.id)
            .where(SelectionStep.step == "departed", Vacancy.title != "Summer harvest team"))
        agency_id = db.session.scalar(select(Agency.id).where(Agency.status == "suspended"))
    client = app.test_client()
    login(client, "supervisor")
    selection = client.get(f"/vacancies/{order_id}/selection").get_data(as_text=True)
    assert selection.count('type="checkbox" name="referral"') == 8
    assert "No one can be referred" not in client.get(f"/vacancies/{order_id}/shortlist").get_data(as_text=True)
    assert "No new referrals through this agency" in client.get(f"/agencies/{agency_id}").get_data(as_text=True)
    # Run again: nothing is added twice.
    assert runner.invoke(args=["demo", "setup"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Agency)) == 3


def test_demo_load_makes_returns_overdue_workers_and_complaints(app, runner, login):
    from registry.recruitment.models import Complaint, WorkerReturn
    from registry.recruitment.returns import overdue_returns

    assert runner.invoke(args=["demo", "setup"]).exit_code == 0
    result = runner.invoke(args=["demo", "load", "--registrations", "400"])
    assert result.exit_code == 0, result.output
    assert "a past season: 3 returned, 3 overdue, 3 complaints" in result.output
    with app.app_context():
        # The season's returns come from its placements; the bulk load's returned registrations have theirs too.
        reasons = sorted(db.session.scalars(select(WorkerReturn.reason).where(WorkerReturn.referral_id.is_not(None))))
        assert reasons == ["abuse", "contract_ended", "contract_ended"]
        assert len(overdue_returns()) == 3
        assert sorted(db.session.scalars(select(Complaint.status))) == ["investigating", "received", "resolved"]
        owed = db.session.scalar(select(WorkerReturn).where(WorkerReturn.wages_owed_amount.is_not(None),
                                                             WorkerReturn.referral_id.is_not(None)))
        assert (owed.wages_owed_amount, owed.wages_owed_currency) == (2600, "ZAR")
        reintegration = db.session.scalar(select(func.count()).select_from(Referral).where(
            Referral.kind == "reintegration"))
        assert reintegration == 2
    client = app.test_client()
    login(client, "supervisor")
    assert client.get("/returns/overdue").get_data(as_text=True).count('class="overdue"') == 3
    assert "<strong>Suspected trafficking</strong>" in client.get("/complaints/").get_data(as_text=True)
    assert client.get("/returns/").get_data(as_text=True).count("Summer harvest team") == 3
    # Run again: nothing is added twice.
    result = runner.invoke(args=["demo", "load", "--registrations", "10"])
    assert result.exit_code == 0 and "a past season" not in result.output
