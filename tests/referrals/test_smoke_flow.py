"""A referral from issue to placement, its slip read back and verified: the whole path once."""
from datetime import date, timedelta

from registry.extensions import db
from registry.referrals.services import issue_referral, record_outcome
from registry.referrals.targets import EmployerData, VacancyData, create_employer, create_vacancy
from registry.slips.referral_slips import print_referral_slip
from registry.slips.verification import verify_payload
from tests.conftest import user
from tests.slips.helpers import page_images, pdf_text, scan
from tests.support.factories import create_registration


def test_refer_print_verify_and_place(ctx, officer):
    supervisor = user("supervisor")
    today = date.today()
    registration = create_registration(actor=officer, surname="Nemaṱhaṅwe", given_names="Ṱhivhulawi")
    employer = create_employer(EmployerData(name="Mopani Citrus Estates", country="ZA", subdivision="ZA-LP",
                                            phone="+27 15 307 1234"), supervisor)
    vacancy = create_vacancy(employer, VacancyData(
        title="Citrus pickers", occupation_code="9211", country="ZA", subdivision="ZA-LP", places=1,
        starts_on=today, wage_amount=4500, wage_currency="ZAR", wage_period="month",
        what_to_bring="Passport\nWork boots"), supervisor)
    referral = issue_referral(registration, vacancy, today + timedelta(days=7), officer)
    db.session.commit()
    assert registration.status == "referred"

    pdf, issued = print_referral_slip(referral, officer, "a4")
    db.session.commit()
    text = pdf_text(pdf)
    for expected in (referral.reference, "NEMAṰHAṄWE", "Citrus pickers, Mopani Citrus Estates", "Work boots",
                     "ZAR 4,500 a month", (today + timedelta(days=7)).isoformat()):
        assert expected in text, expected
    [code] = scan(page_images(pdf)[0])
    result = verify_payload(code)
    assert result.genuine and result.referral.id == referral.id

    record_outcome(referral, "placed", today, referral.version, officer)
    db.session.commit()
    assert registration.status == "departed"
