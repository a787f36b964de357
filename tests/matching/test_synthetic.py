"""The labelled synthetic set: deterministic per seed, every kind present, pairs that really differ as their
kind says; and the evaluation's arithmetic."""
from datetime import date

import pytest

from registry.matching import synthetic
from registry.matching.evaluation import evaluate, precision_recall
from registry.matching.normalise import id_digits, normalise_record, words


@pytest.fixture(scope="module")
def pairs():
    return synthetic.generate(seed=3, true_pairs=600, distinct_pairs=1200)


def test_a_seed_always_gives_the_same_set_and_another_seed_another(pairs):
    assert synthetic.generate(seed=3, true_pairs=600, distinct_pairs=1200) == pairs
    assert synthetic.generate(seed=4, true_pairs=600, distinct_pairs=1200) != pairs
    assert synthetic.TUNING_SEED != synthetic.REPORT_SEED


def test_every_kind_is_present_in_the_asked_numbers(pairs):
    assert sum(pair.same for pair in pairs) == 600 and sum(not pair.same for pair in pairs) == 1200
    assert {pair.kind for pair in pairs if pair.same} == set(synthetic.TRUE_KINDS)
    assert {pair.kind for pair in pairs if not pair.same} == set(synthetic.DISTINCT_KINDS)


def test_every_record_can_be_read_and_holds_an_identity_document(pairs):
    for pair in pairs:
        for record in (pair.left, pair.right):
            normalise_record(record)
            assert record["national_id"] or record["passport"]


def of_kind(pairs, kind):
    return [pair for pair in pairs if pair.kind == kind]


def test_true_pairs_differ_the_way_their_kind_says(pairs):
    for pair in of_kind(pairs, "names_swapped"):
        assert words(pair.left["surname"]) != words(pair.right["surname"])
        assert {pair.left["surname"], pair.right["surname"]} & {pair.left["given_names"], pair.right["given_names"]}
    for pair in of_kind(pairs, "day_month_swapped"):
        a, b = pair.left["date_of_birth"], pair.right["date_of_birth"]
        assert (a.year, a.month, a.day) == (b.year, b.day, b.month) and a != b
    for pair in of_kind(pairs, "date_typo"):
        assert pair.left["date_of_birth"] != pair.right["date_of_birth"]
    for pair in of_kind(pairs, "check_letter"):
        a, b = normalise_record(pair.left).national_id, normalise_record(pair.right).national_id
        assert a != b and id_digits(a) == id_digits(b)
    for pair in of_kind(pairs, "other_identity_document"):
        assert bool(pair.left["national_id"]) != bool(pair.right["national_id"]) or not (
            pair.left["passport"] and pair.right["passport"])
    for pair in of_kind(pairs, "spelling_variant") + of_kind(pairs, "name_typo"):
        assert (pair.left["surname"], pair.left["given_names"]) != (pair.right["surname"], pair.right["given_names"])


def test_distinct_pairs_share_what_families_and_villages_share(pairs):
    for pair in of_kind(pairs, "twins"):
        assert pair.left["surname"] == pair.right["surname"]
        assert pair.left["date_of_birth"] == pair.right["date_of_birth"]
        assert pair.left["given_names"].split()[0] != pair.right["given_names"].split()[0]
    for pair in of_kind(pairs, "siblings") + of_kind(pairs, "neighbours"):
        assert pair.left["surname"] == pair.right["surname"]
    for pair in of_kind(pairs, "same_birth_date"):
        assert pair.left["date_of_birth"] == pair.right["date_of_birth"]
    for pair in of_kind(pairs, "namesakes_same_year"):
        assert pair.left["date_of_birth"].year == pair.right["date_of_birth"].year


def test_date_typos_are_real_dates_one_slip_away():
    maker = synthetic.SyntheticSet(1)
    for _ in range(200):
        born = maker._born()
        typed = maker.date_typo(born)
        assert isinstance(typed, date) and typed != born


def test_precision_and_recall_arithmetic():
    scored = [(True, 0.95), (True, 0.6), (False, 0.92), (False, 0.1), (True, 0.99)]
    precision, recall, tp, fp, fn = precision_recall(scored, 0.9)
    assert (tp, fp, fn) == (2, 1, 1)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 3)
    assert precision_recall(scored, 0.999)[:2] == (None, 0.0)


def test_evaluation_reports_the_curve_and_every_kind():
    result = evaluate(seed=3, true_pairs=120, distinct_pairs=240)
    assert result["true_pairs"] == 120 and result["distinct_pairs"] == 240
    assert sum(row["pairs"] for row in result["kinds"]) == 360
    recalls = [point["recall"] for point in result["curve"]]
    assert recalls == sorted(recalls, reverse=True)  # a higher threshold never finds more
    assert 0 <= result["scan_blocking_recall"] <= result["blocking_recall"] <= 1
