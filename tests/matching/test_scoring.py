"""Scoring pairs: each kind of variant is recognised, and the reasons say so in words."""
import re
from datetime import date

import pytest

from registry.matching.normalise import BadRecord
from registry.matching.scoring import (
    MATCH_THRESHOLD, POSSIBLE_THRESHOLD, compare_dates, decide, score_pair,
)

BASE = {"surname": "Moyo", "given_names": "Tendai", "sex": "F", "date_of_birth": date(1990, 5, 3),
        "national_id": "63-123456 A 78", "passport": "", "phone": "+263772123456"}


def other(**changes):
    """A second record of BASE's person: a passport instead of the ID unless told, and the changes."""
    return {**BASE, "national_id": "", "passport": "FN765432", "phone": "", **changes}


def test_the_same_details_are_a_match_with_the_agreeing_fields_as_reasons():
    match = score_pair(BASE, other())
    assert match.decision == "match" and match.score >= MATCH_THRESHOLD
    assert match.reasons[:3] == ["same surname", "same given names", "same date of birth"]


@pytest.mark.parametrize("changes, reason", [
    ({"given_names": "Tendayi"}, "given name is a spelling variant"),
    ({"surname": "Mayo"}, "surname sounds alike"),
    ({"given_names": "Tebdai"}, re.compile(r"^given name \d+% similar$")),
    ({"surname": "Tendai", "given_names": "Moyo"}, "surname and given names swapped"),
    ({"date_of_birth": date(1990, 3, 5)}, "day and month of birth swapped"),
    ({"date_of_birth": date(1990, 5, 8)}, "date of birth differs by one typing slip"),
    ({"date_of_birth": date(1909, 5, 3)}, "date of birth differs by one typing slip"),  # 1990 typed 1909
    ({"given_names": "Tendai Rudo"}, "one given name in common"),
    ({"national_id": "63123456B78", "passport": ""}, "national ID differs only in its check letter"),
    ({"national_id": "6312345678", "passport": ""}, "national ID differs only in its check letter"),
    ({"national_id": "63123457A78", "passport": ""}, "national ID differs by one character"),
])
def test_each_kind_of_variant_is_still_a_match_and_is_named(changes, reason):
    match = score_pair(BASE, other(**changes))
    assert match.decision == "match", match.reasons
    if isinstance(reason, str):
        assert reason in match.reasons
    else:
        assert any(reason.match(text) for text in match.reasons), match.reasons


def test_the_similarity_in_a_reason_is_the_names_similarity_in_percent():
    from rapidfuzz.distance import JaroWinkler

    match = score_pair(BASE, other(given_names="Tebdai"))
    [reason] = [text for text in match.reasons if text.startswith("given name ")]
    shown = int(re.search(r"(\d+)%", reason).group(1))
    assert shown == round(JaroWinkler.normalized_similarity("TENDAI", "TEBDAI") * 100)


def test_a_different_national_id_outweighs_agreeing_names_and_date():
    match = score_pair(BASE, other(national_id="63-654321 K 78", passport=""))
    assert match.decision == "distinct"
    assert "national ID differs" in match.reasons


def test_twins_are_distinct_and_siblings_more_so():
    twin = score_pair(BASE, other(given_names="Rudo"))
    sibling = score_pair(BASE, other(given_names="Rudo", date_of_birth=date(1993, 8, 21)))
    assert twin.decision != "match" and "given names differ" in twin.reasons
    assert sibling.decision == "distinct" and sibling.score < twin.score
    assert "dates of birth differ" in sibling.reasons


def test_each_disagreement_lowers_the_score():
    scores = [score_pair(BASE, other(**changes)).score for changes in (
        {}, {"given_names": "Tendayi"}, {"given_names": "Tendayi", "date_of_birth": date(1990, 3, 5)},
        {"given_names": "Tendayi", "date_of_birth": date(1990, 3, 5), "sex": "M"})]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert "sex differs" in score_pair(BASE, other(sex="M")).reasons


def test_agreeing_identity_numbers_and_phones_raise_the_score():
    plain = score_pair(BASE, other(given_names="Rudo", date_of_birth=date(1993, 8, 21)))
    same_phone = score_pair(BASE, other(given_names="Rudo", date_of_birth=date(1993, 8, 21), phone="0772123456"))
    same_id = score_pair(BASE, other(given_names="Rudo", date_of_birth=date(1993, 8, 21), national_id="63123456A78"))
    assert plain.score < same_phone.score < same_id.score
    assert "same phone number" in same_phone.reasons and "same national ID" in same_id.reasons


def test_missing_fields_are_no_evidence_either_way():
    match = score_pair({**BASE, "date_of_birth": None, "sex": ""}, other())
    assert "date of birth missing" in match.reasons
    assert not any("sex" in reason for reason in match.reasons)


def test_score_is_symmetric():
    left, right = BASE, other(surname="Ndhlovu", given_names="Tendai Rudo", date_of_birth=date(1990, 3, 5))
    assert score_pair(left, right).score == pytest.approx(score_pair(right, left).score)


@pytest.mark.parametrize("score, decision", [
    (MATCH_THRESHOLD, "match"), (MATCH_THRESHOLD - 1e-9, "possible"), (POSSIBLE_THRESHOLD, "possible"),
    (POSSIBLE_THRESHOLD - 1e-9, "distinct")])
def test_decisions_follow_the_thresholds(score, decision):
    assert decide(score) == decision


def test_date_levels():
    born = date(1990, 5, 3)
    assert compare_dates(born, date(1990, 5, 3)) == "same"
    assert compare_dates(born, date(1990, 3, 5)) == "swapped"
    assert compare_dates(born, date(1990, 5, 30)) == "typo"  # 03 typed 30: neighbouring digits exchanged
    assert compare_dates(born, date(1985, 5, 3)) == "day_month"
    assert compare_dates(born, date(1990, 11, 27)) == "year"
    assert compare_dates(born, date(1975, 11, 27)) == "differs"
    assert compare_dates(born, None) is None


@pytest.mark.parametrize("bad", [{"surname": ""}, {"given_names": "T"}, {"date_of_birth": "1990-02-30"}])
def test_a_pair_with_an_unreadable_record_is_refused_with_the_reason(bad):
    with pytest.raises(BadRecord) as caught:
        score_pair(BASE, other(**bad))
    assert caught.value.problems
