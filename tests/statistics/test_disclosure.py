"""Disclosure control (issue 5, item 3): cell suppression and k-anonymity.

Suppressed values are checked against an enumeration of whole-number completions written here, with no LP:
a suppressed value is safe when some other completion of the published table gives it a different value.
The search is confined to a box around the true table (each blank within +-slack of its value, never below
1, and each column's running change within +-slack). A narrower search can only miss alternatives, so a pass
is genuine. And it misses none: an undetermined value always has a second completion that changes the truth
by +-1 along one cycle of rows and columns, touching each row and column at most twice, which fits the box.
"""
import itertools
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.statistics.disclosure import (
    KAnonymityPlan,
    Protected,
    apply_plan,
    coarsen_hint,
    plan_k_anonymity,
    protect,
)

# -- an independent model of the published table ------------------------------------------------------------


def true_entries(counts):
    """{position: value} for cells and margins, computed here by plain sums."""
    r = len(counts)
    c = len(counts[0]) if counts else 0
    entries = {("cell", i, j): counts[i][j] for i in range(r) for j in range(c)}
    entries.update({("row", i): sum(counts[i]) for i in range(r)})
    entries.update({("col", j): sum(counts[i][j] for i in range(r)) for j in range(c)})
    entries[("grand",)] = sum(map(sum, counts))
    return entries


def published_entries(result: Protected):
    entries = {("cell", i, j): value for i, row in enumerate(result.cells) for j, value in enumerate(row)}
    entries.update({("row", i): value for i, value in enumerate(result.row_totals)})
    entries.update({("col", j): value for j, value in enumerate(result.col_totals)})
    entries[("grand",)] = result.grand_total
    return entries


def has_other_value(counts, shown, target, *, slack=2):
    """Whether some whole-number completion of the published entries `shown` (None = blank, at least 1)
    gives `target` a value other than its true one.

    Exhaustive over a box: every blank may move by up to `slack` from its true value, and so may each
    column's running sum (and that of the row totals) as the search goes row by row. A row's blanks take any
    changes that keep the row adding up to its total; the state carried forward is how far each column has
    moved so far; at the end the column totals and the grand total must absorb exactly that. Failed
    (row, state) pairs are remembered, so the work grows with the rows, not with the completions."""
    truth = true_entries(counts)
    r = len(counts)
    c = len(counts[0]) if counts else 0

    def changes(position):
        if shown[position] is not None:
            assert shown[position] == truth[position]
            return [0]
        options = [d for d in range(-slack, slack + 1) if truth[position] + d >= 1]
        if position == target:
            options.remove(0)
        return sorted(options, key=abs)  # the true value first: most of the table stays as it is

    steps = []
    for i in range(r):
        row_total = set(changes(("row", i)))
        moves = {
            (cells, sum(cells))
            for cells in itertools.product(*(changes(("cell", i, j)) for j in range(c)))
            if sum(cells) in row_total
        }
        if not moves:
            return False  # this row cannot add up with the target changed
        steps.append(sorted(moves, key=lambda move: (sum(map(abs, move[0])) + abs(move[1]), move)))
    column_totals = [set(changes(("col", j))) for j in range(c)]
    grand_total = set(changes(("grand",)))
    failed = set()

    def search(i, columns, totals):
        if i == r:
            return (
                all(moved in allowed for moved, allowed in zip(columns, column_totals))
                and totals in grand_total
                and sum(columns) == totals
            )
        if (i, columns, totals) in failed:
            return False
        if any(abs(moved) > slack for moved in columns) or abs(totals) > slack:
            return False  # a narrower search (see above)
        for cells, total in steps[i]:
            if search(i + 1, tuple(a + b for a, b in zip(columns, cells)), totals + total):
                return True
        failed.add((i, columns, totals))
        return False

    return search(0, (0,) * c, 0)


def assert_safe_publication(counts, result, threshold):
    truth = true_entries(counts)
    shown = published_entries(result)
    assert set(shown) == set(truth)
    small = {p for p, v in truth.items() if 1 <= v < threshold}
    assert result.primary == small
    assert not (result.primary & result.secondary)
    assert {p for p, v in shown.items() if v is None} == result.primary | result.secondary
    for position, value in shown.items():
        if value is not None:
            assert value == truth[position], position
            assert not 1 <= value < threshold, position
        else:
            assert truth[position] >= 1, f"{position} is 0 and must be published as 0"
    for position in result.primary | result.secondary:
        assert has_other_value(counts, shown, position), f"{position} can be worked out from {shown}"


# -- property tests -------------------------------------------------------------------------------------------

values = st.one_of(st.integers(0, 12), st.integers(0, 3))  # the second keeps tight tables full of 1s coming
tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 4).flatmap(
        lambda c: st.lists(st.lists(values, min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=200, deadline=None)
@given(counts=tables, threshold=st.integers(3, 6))
def test_no_small_count_is_published_and_no_suppressed_count_can_be_recovered(counts, threshold):
    result = protect(counts, threshold)
    assert_safe_publication(counts, result, threshold)


@settings(max_examples=50, deadline=None)
@given(counts=tables, threshold=st.integers(2, 6))
def test_protection_is_repeatable_and_leaves_the_input_alone(counts, threshold):
    before = [list(row) for row in counts]
    first = protect(counts, threshold)
    assert protect(counts, threshold) == first
    assert counts == before


def test_the_checker_sees_a_value_that_the_totals_give_away():
    # Without secondary suppression the lone blank in a 2 x 2 table follows from its row total.
    counts = [[1, 10], [10, 10]]
    shown = true_entries(counts)
    shown[("cell", 0, 0)] = None
    assert not has_other_value(counts, shown, ("cell", 0, 0))
    shown[("cell", 0, 1)] = shown[("cell", 1, 0)] = shown[("cell", 1, 1)] = None
    assert has_other_value(counts, shown, ("cell", 0, 0))


# -- worked examples ------------------------------------------------------------------------------------------


def test_a_small_cell_in_a_2x2_table_takes_the_other_three_cells_with_it():
    # With every margin published, a row or column with a single blank gives it away, so all four cells go.
    counts = [[1, 10], [10, 10]]
    result = protect(counts)
    assert result.primary == {("cell", 0, 0)}
    assert result.secondary == {("cell", 0, 1), ("cell", 1, 0), ("cell", 1, 1)}
    assert result.cells == [[None, None], [None, None]]
    assert (result.row_totals, result.col_totals, result.grand_total) == ([11, 20], [11, 20], 31)
    assert_safe_publication(counts, result, 5)
    text = result.describe()
    assert "1 to 4" in text and "(1 cell)" in text and "3 more cells" in text
    assert coarsen_hint(result)


def test_a_row_with_one_small_cell_gets_its_complement_in_that_row():
    counts = [[20, 30, 25], [2, 8, 9], [15, 12, 40]]
    result = protect(counts)
    assert result.primary == {("cell", 1, 0)}
    # The row pins the 2 down: its smallest published cell, 8, is blanked. Then each of the two blanks is
    # alone in its column: column 1 gives up its smallest cell, 15, and column 2 its smallest, 12.
    assert result.secondary == {("cell", 1, 1), ("cell", 2, 0), ("cell", 2, 1)}
    assert result.row_totals == [75, 19, 67] and result.col_totals == [37, 50, 74]
    assert_safe_publication(counts, result, 5)
    assert not coarsen_hint(result)  # 4 of 9 non-zero cells


def test_blanks_known_to_be_at_least_1_can_give_themselves_away():
    # Four 1s whose totals are 2: a blank is at least 1, so two blanks adding up to 2 are both 1. Every margin
    # published would pin some blank down (even the grand total 4 forces all four cells to 1), so everything
    # non-zero goes.
    counts = [[1, 1], [1, 1]]
    result = protect(counts, threshold=2)
    assert result.primary == {("cell", i, j) for i in range(2) for j in range(2)}
    assert result.cells == [[None, None], [None, None]]
    assert result.row_totals == [None, None] and result.col_totals == [None, None]
    assert result.grand_total is None
    assert_safe_publication(counts, result, 2)


def test_a_small_margin_is_suppressed_and_protected():
    counts = [[1, 2], [30, 40]]
    result = protect(counts)
    assert result.primary == {("cell", 0, 0), ("cell", 0, 1), ("row", 0)}
    assert result.row_totals[0] is None
    assert_safe_publication(counts, result, 5)
    assert "(2 cells and 1 total)" in result.describe()


def test_a_blank_bridging_two_blocks_of_blanks_is_protected():
    # Two 2 x 2 blocks of small counts, each able to shift around its own cycle, joined by the small count in
    # cell (0, 2). Rows 2 and 3 and column 3 give cells (2, 2) + (3, 2), and column 2 then gives the joining
    # count away: primary suppression is not enough, although no row or column has a lone blank.
    counts = [
        [2, 3, 2, 20, 20],
        [3, 2, 20, 20, 20],
        [20, 20, 2, 3, 20],
        [20, 20, 3, 2, 20],
        [20, 20, 20, 20, 20],
    ]
    primary_only = true_entries(counts)
    small = [p for p, v in primary_only.items() if 1 <= v < 5]
    primary_only.update({p: None for p in small})
    assert not has_other_value(counts, primary_only, ("cell", 0, 2))
    result = protect(counts)
    assert result.primary == set(small)
    assert result.secondary
    assert_safe_publication(counts, result, 5)


@pytest.mark.parametrize(
    ("counts", "threshold"),
    [
        ([[1, 0], [8, 1], [6, 3]], 3),
        ([[1, 9], [1, 1], [1, 0], [3, 12]], 4),
        ([[12, 2], [1, 8], [1, 1], [6, 1]], 4),
        ([[1, 1], [3, 3], [0, 5], [1, 3], [2, 2]], 3),
        ([[0, 1, 1, 1], [0, 1, 0, 0], [1, 0, 10, 3]], 3),
        ([[1, 0, 0], [8, 2, 0], [0, 1, 8], [9, 11, 0]], 6),
    ],
)
def test_blanks_pinned_down_only_over_longer_cycles_are_protected(counts, threshold):
    # Tables full of 1s where, part way through, a blank is pinned down not by a row or column of its own but
    # by a longer chain of 1s that cannot go lower; these are the cases the audit must solve in full.
    result = protect(counts, threshold)
    assert_safe_publication(counts, result, threshold)


def test_zeros_stay_published_when_everything_around_them_is_blank():
    counts = [[1, 0], [0, 9]]
    result = protect(counts)
    assert result.cells[0][1] == 0 and result.cells[1][0] == 0
    assert_safe_publication(counts, result, 5)


@pytest.mark.parametrize(
    ("counts", "cells", "row_totals", "col_totals"),
    [
        ([[0, 0], [0, 0]], [[0, 0], [0, 0]], [0, 0], [0, 0]),
        ([], [], [], []),
        ([[], []], [[], []], [0, 0], []),
        ([[7]], [[7]], [7], [7]),
    ],
)
def test_tables_with_nothing_to_suppress(counts, cells, row_totals, col_totals):
    result = protect(counts)
    assert (result.cells, result.row_totals, result.col_totals) == (cells, row_totals, col_totals)
    assert result.grand_total == sum(row_totals)
    assert result.primary == result.secondary == frozenset()
    assert not coarsen_hint(result)
    assert "nothing is suppressed" in result.describe()


def test_a_table_of_a_single_small_count_blanks_it_and_every_total():
    result = protect([[3]])
    assert (result.cells, result.row_totals, result.col_totals, result.grand_total) == ([[None]], [None], [None], None)
    assert_safe_publication([[3]], result, 5)


@pytest.mark.parametrize(
    ("counts", "threshold", "message"),
    [
        ([[1, 2], [3]], 5, "row 2 has 1 columns where row 1 has 2"),
        ([[1, -2]], 5, "row 1, column 2"),
        ([[1, 2.5]], 5, "whole number"),
        ([[1, True]], 5, "whole number"),
        ([[1, 2]], 0, "threshold"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_message(counts, threshold, message):
    with pytest.raises(ValueError, match=message):
        protect(counts, threshold)


def countries_by_sex(seed, rows):
    """A heavy-tailed destinations-by-sex table: a few large countries and a long tail of small ones."""
    rng = random.Random(seed)
    table = []
    for rank in range(1, rows + 1):
        people = int(rng.expovariate(rank**1.4 / 4000))
        men = sum(rng.random() < 0.6 for _ in range(people))
        not_stated = sum(rng.random() < 0.03 for _ in range(people - men))
        table.append([men, people - men - not_stated, not_stated])
    return table


@pytest.mark.parametrize("rows", [60, 250])
def test_long_country_tables_are_protected(rows):
    # How fast is measured in the module's docstring, not asserted here: tests assert behaviour only.
    counts = countries_by_sex(rows, rows)
    result = protect(counts)
    truth = true_entries(counts)
    shown = published_entries(result)
    assert result.primary == {p for p, v in truth.items() if 1 <= v < 5}
    assert result.primary, "the table should have small counts to protect"
    assert all(v == truth[p] and not 1 <= v < 5 for p, v in shown.items() if v is not None)
    assert all(truth[p] >= 1 for p, v in shown.items() if v is None)
    for position in sorted(result.primary | result.secondary):
        assert has_other_value(counts, shown, position, slack=1), position


# -- k-anonymity ----------------------------------------------------------------------------------------------

QUASI_IDENTIFIERS = {"sex": 1, "age_group": 3, "home_area": 2, "occupation": 2, "education": 2}
OCCUPATIONS = ["92", "93", "71", "72", "83", "52", "61", "91", "31", "21", "74", "75"]


def generalise(name, value, level):
    """The test's own hierarchies: level 0 as recorded, the top level '*'."""
    if level >= QUASI_IDENTIFIERS[name]:
        return "*"
    if level == 0:
        return value
    if name == "age_group":  # "20-24" -> 10-year band "15-24" -> working age "15-64" or "65+"
        low = int(value.split("-")[0].rstrip("+"))
        if low >= 65:
            return "65+"
        start = 15 + (low - 15) // 10 * 10
        return f"{start}-{start + 9}" if level == 1 else "15-64"
    if name == "home_area":  # "P2-D4" -> province "P2"
        return value.split("-")[0]
    if name == "occupation":  # ISCO sub-major "72" -> major "7"
        return value[0]
    if name == "education":  # ISCED level -> basic, secondary, tertiary
        return "basic" if value in "01" else "secondary" if value in "234" else "tertiary"
    raise AssertionError(name)


def make_records(seed, count):
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        age = min(int(rng.gammavariate(6, 5)) + 15, 70)
        records.append({
            "sex": rng.choices(["M", "F", "9"], weights=[60, 38, 2])[0],
            "age_group": "65+" if age >= 65 else f"{age - age % 5}-{age - age % 5 + 4}",
            "home_area": f"P{rng.randint(1, 4)}-D{min(int(rng.expovariate(0.4)) + 1, 9)}",
            "occupation": rng.choices(OCCUPATIONS, weights=[30, 20, 12, 10, 8, 6, 5, 3, 2, 2, 1, 1])[0],
            "education": str(min(int(rng.expovariate(0.5)), 8)),
        })
    return records


def generalised(record, levels, names):
    return tuple(generalise(name, record[name], levels[name]) for name in names)


def class_sizes_of(records, names):
    def class_sizes(levels):
        return Counter(generalised(record, levels, names) for record in records)

    return class_sizes


def test_generalise_helper_builds_nested_classes():
    # The hierarchies must be nested (each level a function of the one below) for generalising to merge classes.
    records = make_records(0, 300)
    for name, depth in QUASI_IDENTIFIERS.items():
        for level in range(depth):
            parent = {}
            for record in records:
                low, high = generalise(name, record[name], level), generalise(name, record[name], level + 1)
                assert parent.setdefault(low, high) == high


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(0, 800),
    k=st.integers(2, 10),
    share=st.sampled_from([0.0, 0.01, 0.02, 0.05]),
)
def test_every_published_class_has_at_least_k_records(seed, count, k, share):
    records = make_records(seed, count)
    names = list(QUASI_IDENTIFIERS)
    plan = plan_k_anonymity(QUASI_IDENTIFIERS, class_sizes_of(records, names), k=k, max_suppressed_share=share)
    assert plan.records == count and plan.k == k
    published = Counter()
    suppressed = 0
    for record in records:
        values = generalised(record, plan.levels, names)
        shown = apply_plan(plan, values)
        if values in plan.suppressed_classes:
            assert shown == ("*",) * len(names)
            suppressed += 1
        else:
            assert shown == values
            published[shown] += 1
    assert all(n >= k for n in published.values()), published
    assert suppressed == plan.suppressed_records
    if count >= k:  # with every value at "*" all records form one class of k or more, so this is reachable
        assert suppressed <= share * count + 1e-9
    else:
        assert suppressed == count
    assert all(0 <= plan.levels[name] <= depth for name, depth in QUASI_IDENTIFIERS.items())


def test_the_search_is_deterministic_whatever_the_record_order():
    records = make_records(7, 600)
    names = list(QUASI_IDENTIFIERS)
    first = plan_k_anonymity(QUASI_IDENTIFIERS, class_sizes_of(records, names))
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    second = plan_k_anonymity(QUASI_IDENTIFIERS, class_sizes_of(shuffled, names))
    assert first == second
    assert any(first.levels.values()), "600 records over five identifiers should need some generalising"


def test_the_greedy_step_raises_the_identifier_that_helps_most():
    # Ten men, each in a different district, five districts in each of two provinces: generalising sex
    # changes nothing, generalising the area to the province gives two classes of five.
    records = [{"sex": "M", "home_area": f"P{1 + n // 5}-D{n % 5}"} for n in range(10)]
    depths = {"sex": 1, "home_area": 2}

    def area(value, level):
        return [value, value.split("-")[0], "*"][level]

    def class_sizes(levels):
        return Counter(
            ("*" if levels["sex"] else record["sex"], area(record["home_area"], levels["home_area"]))
            for record in records
        )

    plan = plan_k_anonymity(depths, class_sizes, k=5, max_suppressed_share=0)
    assert plan.levels == {"sex": 0, "home_area": 1}
    assert plan.suppressed_classes == frozenset() and plan.suppressed_records == 0
    assert "home area generalised to level 1" in plan.describe()
    assert "sex" not in plan.describe().split(":", 1)[1]


def test_a_step_down_a_deep_hierarchy_is_preferred_to_removing_a_shallow_identifier():
    # Removing sex rescues 6 records from small classes, occupation from unit to sub-major group 5: but that
    # is one step of three, so it costs a third as much detail and is taken; the 3 records left are within
    # the share, and sex stays published.
    records = [("F", "9211")] * 3 + [("M", "9211")] * 3 + [("F", "9212")] * 2

    def class_sizes(levels):
        def occupation(code):
            return [code, code[:2], code[:1], "*"][levels["occupation"]]

        return Counter(("*" if levels["sex"] else sex, occupation(code)) for sex, code in records)

    plan = plan_k_anonymity({"sex": 1, "occupation": 3}, class_sizes, k=5, max_suppressed_share=3 / 8)
    assert plan.levels == {"sex": 0, "occupation": 1}
    assert plan.suppressed_classes == {("M", "92")} and plan.suppressed_records == 3


def test_a_lone_record_is_suppressed_when_the_share_allows_it_and_generalised_when_not():
    records = [("F", "P1-D1")] * 19 + [("M", "P1-D1")]

    def class_sizes(levels):
        return Counter(
            ("*" if levels["sex"] else sex, [area, area.split("-")[0], "*"][levels["home_area"]])
            for sex, area in records
        )

    depths = {"sex": 1, "home_area": 2}
    allowed = plan_k_anonymity(depths, class_sizes, k=5, max_suppressed_share=0.05)
    assert allowed.levels == {"sex": 0, "home_area": 0}
    assert allowed.suppressed_classes == {("M", "P1-D1")} and allowed.suppressed_records == 1
    assert apply_plan(allowed, ("M", "P1-D1")) == ("*", "*")
    assert apply_plan(allowed, ("F", "P1-D1")) == ("F", "P1-D1")
    assert "1 of 20 records" in allowed.describe()

    strict = plan_k_anonymity(depths, class_sizes, k=5, max_suppressed_share=0.0)
    # Dropping sex gives one class of 20; going to the province still leaves the man alone.
    assert strict.levels == {"sex": 1, "home_area": 0}
    assert strict.suppressed_records == 0
    assert "sex removed" in strict.describe()


def test_ties_go_to_the_identifier_listed_first():
    records = [("a1", "b1")] * 5 + [("a1", "b2"), ("a2", "b1")]

    def sizes(*names):
        def class_sizes(levels):
            rows = [{"a": a, "b": b} for a, b in records]
            return Counter(tuple("*" if levels[name] else row[name] for name in names) for row in rows)

        return class_sizes

    # Raising either leaves one record alone (1 of 7 is within 15%); the identifier listed first is raised.
    plan_ab = plan_k_anonymity({"a": 1, "b": 1}, sizes("a", "b"), k=5, max_suppressed_share=0.15)
    plan_ba = plan_k_anonymity({"b": 1, "a": 1}, sizes("b", "a"), k=5, max_suppressed_share=0.15)
    assert plan_ab.levels == {"a": 1, "b": 0} and plan_ab.suppressed_records == 1
    assert plan_ba.levels == {"b": 1, "a": 0} and plan_ba.suppressed_records == 1


def test_too_few_records_are_all_suppressed_and_none_is_fine():
    records = [("F", "P1")] * 3
    plan = plan_k_anonymity({"sex": 1, "area": 1}, lambda levels: Counter(records), k=5)
    assert plan.levels == {"sex": 1, "area": 1}  # every step tried, none reached k
    assert plan.suppressed_records == 3
    empty = plan_k_anonymity({"sex": 1}, lambda levels: {}, k=5)
    assert (empty.levels, empty.records, empty.suppressed_records) == ({"sex": 0}, 0, 0)
    assert isinstance(empty, KAnonymityPlan)


@pytest.mark.parametrize(
    ("depths", "k", "share", "message"),
    [
        ({"sex": 1}, 0, 0.02, "k must be"),
        ({"sex": 0}, 5, 0.02, "top level"),
        ({"sex": 1}, 5, 1.5, "share"),
    ],
)
def test_bad_plans_are_refused_with_a_clear_message(depths, k, share, message):
    with pytest.raises(ValueError, match=message):
        plan_k_anonymity(depths, lambda levels: {("F",): 10}, k=k, max_suppressed_share=share)


def test_class_sizes_that_lose_records_are_refused():
    def class_sizes(levels):
        return {("F",): 3, ("M",): 1} if levels["sex"] == 0 else {("*",): 3}

    with pytest.raises(ValueError, match="counted 3 records"):
        plan_k_anonymity({"sex": 1}, class_sizes, k=5, max_suppressed_share=0)
