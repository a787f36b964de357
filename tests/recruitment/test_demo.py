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
        steps = dict(db.session.execute(select(SelectionStep.step, func.count()).group_by(SelectionStep.step)).all())
        assert steps == {"interviewed": 7, "medical": 5, "documents": 4, "contract": 3, "departed": 1}
        order_id = db.session.scalar(select(Referral.vacancy_id).join(
            SelectionStep, SelectionStep.referral_id == Referral.id).where(SelectionStep.step == "departed"))
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
