"""Shortlists: who fits a job order, in which order, and why in words; who is left out (already referred,
under contract or placed elsewhere in the same season, under 18, not available, another trade); referring
several candidates at once, all or none; the open job orders a job seeker sees."""
from datetime import date, timedelta

import pytest
from flask import current_app

from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.recruitment.orders import orders_fitting
from registry.recruitment.selection import record_step
from registry.recruitment.shortlist import build_shortlist, refer_candidates
from registry.referrals.services import issue_referral
from registry.registration.services import change_status, register
from tests.conftest import user
from tests.recruitment.helpers import candidate, counts, make_order
from tests.referrals.helpers import as_node, make_employer
from tests.support.factories import registration_data

TODAY = date.today()


def world():
    supervisor, officer = user("supervisor"), user("officer")
    employer = make_employer(supervisor)
    main = make_order(supervisor, employer=employer, title="Orange harvest", places=2,
                      starts_on=TODAY + timedelta(days=200), ends_on=TODAY + timedelta(days=380),
                      closes_on=TODAY + timedelta(days=190), skills_required="fruit picking, pruning",
                      certificates_required="first aid")
    earlier = make_order(supervisor, employer=employer, title="Summer pickers", places=5, starts_on=TODAY,
                         ends_on=TODAY + timedelta(days=150), closes_on=TODAY + timedelta(days=100))
    overlapping = make_order(supervisor, employer=employer, title="Late pickers", places=5,
                             starts_on=TODAY + timedelta(days=250), ends_on=TODAY + timedelta(days=300),
                             closes_on=TODAY + timedelta(days=240))
    people = {
        "best": candidate(officer, surname="Best", registration=dict(
            skills="Fruit picking, pruning, driving", certificates="First aid (Red Cross)", years_experience=3)),
        "related": candidate(officer, surname="Related", registration=dict(
            occupation_code="9213", destination_subdivision="", skills="pruning", certificates="",
            years_experience=0)),
        "other_code": candidate(officer, surname="Grower", registration=dict(
            occupation_code="6111", other_occupation_codes=["9211"], destination_subdivision="ZA-GP", skills="",
            years_experience=None)),
        "elsewhere": candidate(officer, surname="Botswana", registration=dict(
            destination_country="BW", destination_subdivision="", skills="", years_experience=None)),
        "unrelated": candidate(officer, surname="Builder", registration=dict(occupation_code="7112")),
        "minor": candidate(officer, surname="Young", date_of_birth=TODAY - timedelta(days=365 * 17 - 30)),
        "cancelled": candidate(officer, surname="Cancelled"),
        "referred_here": candidate(officer, surname="Referred"),
        "under_contract": candidate(officer, surname="Contracted"),
        "placed_before": candidate(officer, surname="Returned"),
    }
    with as_node(current_app, "HRE"):
        people["harare"] = candidate(user("officer.hre"), surname="Harare", registration=dict(years_experience=1))
    change_status(people["cancelled"], "cancelled", TODAY, people["cancelled"].version, officer)
    issue_referral(people["referred_here"], main, TODAY + timedelta(days=7), officer)
    contract = issue_referral(people["under_contract"], overlapping, TODAY + timedelta(days=7), officer)
    for step in ("interviewed", "medical", "documents", "contract"):
        record_step(contract, step, TODAY, officer)
    placed = issue_referral(people["placed_before"], earlier, TODAY + timedelta(days=7), officer)
    for step in ("interviewed", "medical", "documents", "contract", "departed"):
        record_step(placed, step, TODAY, officer)
    # Back home and registered again: the earlier placement counts as experience.
    people["placed_before"] = register(officer, registration_data(years_experience=1),
                                       person=people["placed_before"].person)
    db.session.commit()
    return main, people


def test_the_shortlist_ranks_who_fits_and_says_why(ctx):
    main, people = world()
    shortlist = build_shortlist(main)
    ranked = [(c.registration.person.surname, c.score, c.reasons) for c in shortlist.candidates]
    year = TODAY.year
    assert ranked == [
        ("Best", 91, ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP",
                      "skills: fruit picking, pruning (2 of 2)", "certificate: first aid (1 of 1)",
                      "3 years' experience"]),
        ("Returned", 67, ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP",
                          "none of the skills asked for", "none of the certificates asked for", "1 year's experience",
                          f"placed before in {year} (Mopani Citrus Estates)"]),
        ("Harare", 62, ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP",
                        "none of the skills asked for", "none of the certificates asked for", "1 year's experience"]),
        ("Related", 43, ["related occupation (9213 mixed crop and livestock farm labourers)", "wants to go to ZA",
                         "skill: pruning (1 of 2)", "none of the certificates asked for"]),
        ("Botswana", 40, ["same occupation (9211 crop farm labourers)", "wants to go to BW, not ZA",
                          "none of the skills asked for", "none of the certificates asked for"]),
        ("Grower", 35, ["also does this work (9211 crop farm labourers)", "wants to go to ZA, to ZA-GP",
                        "none of the skills asked for", "none of the certificates asked for"]),
    ]
    # The minor, the cancelled registration, the builder, the one already referred here, the one under contract
    # for an overlapping season and the departed registration of the returned worker: all left out.
    assert (shortlist.already_referred, shortlist.engaged_elsewhere, shortlist.places_left) == (1, 1, 2)
    assert [c.registration.person.surname for c in build_shortlist(main, limit=2).candidates] == ["Best", "Returned"]
    for limit in (0, 1001, None, True):
        with pytest.raises(ValidationFailed, match="a whole number from 1 to 1000"):
            build_shortlist(main, limit=limit)


def test_referring_several_candidates_is_all_or_nothing(ctx):
    main, people = world()
    officer = user("officer")
    before = counts()
    cases = [
        ([people["best"], people["minor"]], f"{people['minor'].registration_number}: "
                                            f"{people['minor'].registration_number} is under 18 on"),
        ([people["best"], people["harare"]], f"{people['harare'].registration_number}: "
                                             f"{people['harare'].registration_number} belongs to HRE"),
        ([people["best"], people["referred_here"]], "already has an open referral there"),
        ([], "Choose at least one candidate to refer."),
    ]
    for chosen, message in cases:
        with pytest.raises(ValidationFailed) as refused:
            refer_candidates(main, chosen, TODAY + timedelta(days=7), officer)
        assert any(text.startswith(message) or message in text for text in refused.value.errors["candidates"]), \
            refused.value.errors
    db.session.commit()
    assert counts() == before and people["best"].status == "registered"

    referrals = refer_candidates(main, [people["best"], people["related"]], TODAY + timedelta(days=7), officer)
    db.session.commit()
    assert [r.registration.person.surname for r in referrals] == ["Best", "Related"]
    assert {people["best"].status, people["related"].status} == {"referred"}
    assert [c.registration.person.surname for c in build_shortlist(main).candidates] == [
        "Returned", "Harare", "Botswana", "Grower"]


def test_a_job_seeker_sees_the_open_job_orders_that_fit(ctx):
    main, people = world()
    fitting = orders_fitting(people["best"])
    assert [(order.vacancy.title, reasons[:2]) for order, reasons in fitting] == [
        ("Orange harvest", ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP"]),
        # The same score: the sooner start first.
        ("Summer pickers", ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP"]),
        ("Late pickers", ["same occupation (9211 crop farm labourers)", "wants to go to ZA-LP"]),
    ]
    assert orders_fitting(people["unrelated"]) == [] and orders_fitting(people["cancelled"]) == []
    assert orders_fitting(people["minor"]) == []  # under 18 when each of them starts
    # Under contract for the late season: not offered the orange harvest, which overlaps it.
    assert [o.vacancy.title for o, _ in orders_fitting(people["under_contract"])] == ["Summer pickers"]
    # Back from the summer season: offered the others, not the one they were placed in.
    assert [o.vacancy.title for o, _ in orders_fitting(people["placed_before"])] == ["Orange harvest", "Late pickers"]
    # Once referred to one, it is no longer offered to them.
    assert "Orange harvest" not in [o.vacancy.title for o, _ in orders_fitting(people["referred_here"])]
