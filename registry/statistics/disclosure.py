"""Statistical disclosure control for published tables and microdata (issue 5, item 3).

Pure functions, no Flask and no database:

- `protect(counts, threshold)` suppresses the small counts of a two-way table and its margins (primary
  suppression), then further counts (secondary suppression) until no suppressed value can be worked out
  exactly from what is published.
- `plan_k_anonymity(...)` chooses how far to generalise each quasi-identifier of a microdata extract, and
  which small equivalence classes are left to suppress, so that every published class has k records or more.

The attacker of a table knows every published number, that every row and column adds up to its total
(the totals row and totals column included) and that every suppressed value is a whole number of at least 1
(zeros are always published, so a blank is never 0); no upper bound is assumed.

How the audit works. With the margins given sign -1 in their own row and column equation, the constraint
matrix splits into two row classes (table rows plus the totals column; table columns plus the totals row)
that make it totally unimodular: a network matrix, whose lines are nodes and whose suppressed values are
arcs. So the minimum and maximum of a suppressed value over the real-valued completions are whole numbers
reached by whole-number completions: a value is determined exactly when max - min < 1, i.e. = 0. An
undetermined value also has a second completion within 1 of the truth in every entry (one cycle of +-1),
so the LP may cap every variable at the true grand total + 1, keeping it bounded, without changing an answer.
Each round runs, cheapest first: (1) counting: a value alone in its row or column, blanks that must all be 1,
and bridges of the graph of blanks, all determined; (2) the cycle certificate: a 1 is safe exactly when it
lies on a cycle of the residual graph, and when every 1 is safe and there is no bridge every value is safe
(proof in `_certify_by_cycles`); (3) only if some 1 is pinned down, the LP (scipy linprog, HiGHS) audits
what is left: a few LPs over all undecided values at once certify every value that moves away from its
true value, and only the values still undecided get their own maximise and minimise LPs. A value found
safe stays safe when more are suppressed, so later rounds re-examine only the undecided ones.

Timings (Python 3.11, scipy 1.17; destinations-by-sex tables, 3 columns, drawn from a heavy-tailed
distribution, 30 tables each, best of 3 runs per table, after HiGHS's first call, which costs ~0.2 s once
per process): 60 x 3: median 1.3 ms, slowest 9 ms; 250 x 3: median 8-16 ms, slowest 28 ms. A version that
audited with LPs alone (two per value, presolve on) took 0.2 s and 2-4 s for the same tables.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral


__all__ = [
    "KAnonymityPlan",
    "Protected",
    "apply_plan",
    "coarsen_hint",
    "plan_k_anonymity",
    "protect",
]

DEFAULT_THRESHOLD = 5
SUPPRESSED = "*"


# --------------------------------------------------------------------------------------------------------
# Cell suppression for two-way tables
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Protected:
    """A table ready to publish: None marks a suppressed value (shown as x)."""

    cells: list[list[int | None]]
    row_totals: list[int | None]
    col_totals: list[int | None]
    grand_total: int | None
    primary: frozenset[tuple] = field(default_factory=frozenset)
    secondary: frozenset[tuple] = field(default_factory=frozenset)
    threshold: int = DEFAULT_THRESHOLD

    @property
    def suppressed(self) -> frozenset[tuple]:
        return self.primary | self.secondary

    def describe(self) -> str:
        """One or two sentences for the extract's metadata: the rule and what it suppressed."""
        small = _small_range(self.threshold)
        if small is None:
            return "No counts are suppressed (the threshold is 1)."
        if not self.primary:
            return f"{small} are shown as x; this table has none, so nothing is suppressed."
        text = f"{small} are shown as x ({_count_phrase(self.primary)})."
        if self.secondary:
            text += (
                f" {_count_phrase(self.secondary, more=True)} shown as x so that they cannot be worked out "
                "from the totals."
            )
        return text


def _small_range(threshold):
    if threshold <= 1:
        return None
    if threshold == 2:
        return "Counts of 1"
    return f"Counts from 1 to {threshold - 1}"


def _count_phrase(positions, *, more=False):
    cells = sum(1 for position in positions if position[0] == "cell")
    totals = len(positions) - cells
    parts = []
    if cells:
        parts.append(f"{cells}{' more' if more else ''} {'cell' if cells == 1 else 'cells'}")
    if totals:
        parts.append(f"{totals}{' more' if more and not cells else ''} {'total' if totals == 1 else 'totals'}")
    phrase = " and ".join(parts)
    if more:
        return phrase[0].upper() + phrase[1:] + (" is" if len(positions) == 1 else " are")
    return phrase


def coarsen_hint(protected: Protected) -> bool:
    """True when more than half of the table's non-zero cells are suppressed: offer a coarser breakdown."""
    suppressed = sum(1 for row in protected.cells for value in row if value is None)
    nonzero = suppressed + sum(1 for row in protected.cells for value in row if value)
    return nonzero > 0 and 2 * suppressed > nonzero


def protect(counts: Sequence[Sequence[int]], threshold: int = DEFAULT_THRESHOLD) -> Protected:
    """Suppress counts from 1 to threshold - 1 in a table and its margins, then enough more (never a zero)
    that no suppressed value can be recomputed from the published ones."""
    table = _Table(_validated(counts), _validated_threshold(threshold))
    primary = {point for point, value in table.values.items() if 1 <= value < table.threshold}
    unknown = set(primary)
    secondary = set()
    safe = set()
    while True:
        exposed = table.exposed(unknown, safe)
        if not exposed:
            break
        added = table.complements(unknown, exposed)
        if not added:  # cannot happen: with every non-zero value suppressed, doubling the table is a completion
            raise RuntimeError("secondary suppression found no complement for an exposed value")
        unknown |= added
        secondary |= added
    return table.published(primary, secondary)


def _validated_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, Integral) or threshold < 1:
        raise ValueError(f"the suppression threshold must be a whole number of at least 1, not {threshold!r}")
    return int(threshold)


def _validated(counts):
    rows = []
    width = None
    for i, row in enumerate(counts):
        values = []
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                raise ValueError(f"count in row {i + 1}, column {j + 1} must be a whole number >= 0, not {value!r}")
            values.append(int(value))
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ValueError(f"row {i + 1} has {len(values)} columns where row 1 has {width}")
        rows.append(values)
    return rows


class _Table:
    """The table extended by its margins: point (i, j) with i = r on the totals row and j = c on the totals
    column; each extended row and column is a line whose members, with signs, add up to 0."""

    def __init__(self, rows, threshold):
        self.threshold = threshold
        self.r = len(rows)
        self.c = len(rows[0]) if rows else 0
        r, c = self.r, self.c
        values = {}
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                values[i, j] = value
            values[i, c] = sum(row)
        for j in range(c):
            values[r, j] = sum(rows[i][j] for i in range(r))
        values[r, c] = sum(values[i, c] for i in range(r))
        self.values = values
        self.cap = values[r, c] + 1
        self.lines = [[((i, j), 1 if j < c else -1) for j in range(c + 1)] for i in range(r + 1)]
        self.lines += [[((i, j), 1 if i < r else -1) for i in range(r + 1)] for j in range(c + 1)]

    def lines_of(self, point):
        i, j = point
        return (i, self.r + 1 + j)

    def is_margin(self, point):
        return point[0] == self.r or point[1] == self.c

    def position(self, point):
        i, j = point
        if i < self.r and j < self.c:
            return ("cell", i, j)
        if i < self.r:
            return ("row", i)
        if j < self.c:
            return ("col", j)
        return ("grand",)

    # -- audit ----------------------------------------------------------------------------------------------

    def exposed(self, unknown, safe):
        """The suppressed points whose value is determined by the published ones, sorted."""
        found = self._exposed_by_counting(unknown) - safe
        if found:
            return sorted(found)
        pending = sorted(unknown - safe)
        return self._exposed_by_lp(unknown, safe, pending) if pending else []

    def _exposed_by_counting(self, unknown):
        found = set()
        for line in self.lines:
            members = [(point, sign) for point, sign in line if point in unknown]
            if not members:
                continue
            if len(members) == 1:
                found.add(members[0][0])
                continue
            signs = {sign for _, sign in members}
            if len(signs) == 1:
                # All unknowns on one side: their sum is known, and if it equals their number each must be 1.
                (sign,) = signs
                known = sum(s * self.values[p] for p, s in line if p not in unknown)
                if -sign * known == len(members):
                    found.update(point for point, _ in members)
        return found | self._bridges(unknown)

    def _bridges(self, unknown):
        """Suppressed points on no cycle of the graph (lines as nodes, suppressed points as edges): the
        equations of the lines on one side of such an edge add up to its value."""
        adjacency = {}
        for point in unknown:
            a, b = self.lines_of(point)
            adjacency.setdefault(a, []).append((b, point))
            adjacency.setdefault(b, []).append((a, point))
        order, low, bridges = {}, {}, set()
        counter = 0
        for root in sorted(adjacency):
            if root in order:
                continue
            order[root] = low[root] = counter
            counter += 1
            stack = [(root, None, iter(adjacency[root]))]
            while stack:
                node, via, edges = stack[-1]
                advanced = False
                for neighbour, point in edges:
                    if point == via:
                        continue
                    if neighbour in order:
                        low[node] = min(low[node], order[neighbour])
                    else:
                        order[neighbour] = low[neighbour] = counter
                        counter += 1
                        stack.append((neighbour, point, iter(adjacency[neighbour])))
                        advanced = True
                        break
                if advanced:
                    continue
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        bridges.add(via)
        return bridges

    def _arc(self, point):
        """The point as an arc (tail, head) of the network: table rows and the totals column are one class
        of lines, table columns and the totals row the other; negating the second class's equations leaves
        every variable with +1 at its head and -1 at its tail."""
        i, j = point
        row_line, col_line = self.lines_of(point)
        # A cell or the grand total has +1 in its row line; a row or column total has -1 there.
        return (col_line, row_line) if (i < self.r) == (j < self.c) else (row_line, col_line)

    def _certify_by_cycles(self, unknown, safe):
        # numpy/scipy load here, not at import: every process (sync rounds, commands) would pay ~0.4 s otherwise.
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        """Mark safe the suppressed values that lie on a directed cycle of the residual graph; called only
        when no suppressed value is a bridge.

        Raising a value by 1 is its forward arc; lowering it (allowed from 2 up) its backward arc; a cycle is
        another completion. A 1 has only its forward arc, so it is safe exactly when its two ends are strongly
        connected. And once every 1 is safe, so is every larger value e (ends a -> b): let A be what a reaches
        without e. If b is in A, lowering e closes a cycle. If not, some edge joins A to the rest (e is no
        bridge); it can only point into A, so it is a 1, and its cycle must leave A, which only e's forward
        arc does: so b reaches a without e, and raising e closes a cycle."""
        arcs = {point: self._arc(point) for point in unknown}
        kept = list(arcs.values()) + [(head, tail) for point, (tail, head) in arcs.items() if self.values[point] >= 2]
        tails, heads = zip(*kept)
        nodes = len(self.lines)
        graph = coo_matrix((np.ones(len(kept)), (tails, heads)), shape=(nodes, nodes)).tocsr()
        _, labels = connected_components(graph, directed=True, connection="strong")
        ones = [point for point in unknown if self.values[point] == 1]
        safe.update(point for point in ones if labels[arcs[point][0]] == labels[arcs[point][1]])
        if all(point in safe for point in ones):
            safe.update(unknown)

    def _exposed_by_lp(self, unknown, safe, pending):
        import numpy as np
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        """The cycle certificate first; then min and max by LP for whatever it leaves undecided."""
        self._certify_by_cycles(unknown, safe)
        pending = [point for point in pending if point not in safe]
        if not pending:
            return []
        # The equations fall apart into independent blocks: the connected components of the graph whose
        # nodes are lines and whose edges are suppressed points. Each block gets its own, smaller LPs.
        variables = sorted(unknown)
        nodes = len(self.lines)
        ends = np.array([self.lines_of(point) for point in variables])
        graph = coo_matrix((np.ones(len(variables)), (ends[:, 0], ends[:, 1])), shape=(nodes, nodes))
        _, labels = connected_components(graph, directed=False)
        blocks, undecided = {}, {}
        for point, (line, _) in zip(variables, ends):
            blocks.setdefault(labels[line], []).append(point)
        for point in pending:
            undecided.setdefault(labels[self.lines_of(point)[0]], []).append(point)
        exposed = []
        for label in sorted(undecided):
            exposed += self._lp_block(blocks[label], safe, undecided[label])
        return sorted(exposed)

    def _lp_block(self, variables, safe, pending):
        import numpy as np
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix

        """min and max of every pending value over the completions of one block, by LP (HiGHS)."""
        index = {point: n for n, point in enumerate(variables)}
        lines = sorted({n for point in variables for n in self.lines_of(point)})
        data, rows, cols, rhs = [], [], [], []
        for row, n in enumerate(lines):
            known = 0
            for point, sign in self.lines[n]:
                if point in index:
                    data.append(sign)
                    rows.append(row)
                    cols.append(index[point])
                else:
                    known += sign * self.values[point]
            rhs.append(-known)
        a_eq = csr_matrix((data, (rows, cols)), shape=(len(lines), len(variables)), dtype=float)
        b_eq = np.array(rhs, dtype=float)
        truth = np.array([self.values[point] for point in variables], dtype=float)

        def certify(objective):
            # HiGHS's presolve costs more than it saves on these small network LPs (measured: 8 ms -> 3 ms).
            result = linprog(
                objective, A_eq=a_eq, b_eq=b_eq, bounds=(1, self.cap), method="highs", options={"presolve": False}
            )
            if result.status != 0:  # the true table is a bounded feasible point, so this is a solver fault
                raise RuntimeError(f"disclosure audit LP failed: {result.message}")
            # Values are whole numbers at the optimum (total unimodularity); 0.5 absorbs the solver's tolerance.
            for n in np.flatnonzero(np.abs(result.x - truth) > 0.5):
                safe.add(variables[n])

        # Batch certificates first: optimise generic directions over all undecided values at once (all up,
        # all down, then random signs, since some values can move only one way and only if another moves the
        # other way). A vertex rarely coincides with the true table, so most values move and are certified.
        # Stop when an LP certifies nothing new. The weights come from a fixed seed: the result is repeatable.
        rng = np.random.default_rng(len(variables))
        for attempt in range(12):
            columns = [index[point] for point in pending if point not in safe]
            if not columns:
                break
            signs = np.full(len(columns), -1.0 if attempt == 0 else 1.0)
            if attempt >= 2:
                signs = rng.choice((-1.0, 1.0), size=len(columns))
            objective = np.zeros(len(variables))
            objective[columns] = signs * rng.uniform(0.5, 1.5, size=len(columns))
            before = len(safe)
            certify(objective)
            if len(safe) == before and attempt >= 1:
                break
        exposed = []
        for point in pending:
            for direction in (-1.0, 1.0):  # maximise, then minimise this one value
                if point in safe:
                    break
                objective = np.zeros(len(variables))
                objective[index[point]] = direction
                certify(objective)
            if point not in safe:
                exposed.append(point)
        return exposed

    # -- complements ----------------------------------------------------------------------------------------

    def complements(self, unknown, exposed):
        """One complement per exposed point, in order, skipping a point whose line already got one this round.

        The complement is the smallest non-zero published value in the point's row or column (in the line
        that alone pins it down, when there is one), a cell before a margin, ties broken by position."""
        added = set()
        used_lines = set()
        blanks = Counter(n for point in unknown for n in self.lines_of(point))
        for point in exposed:
            lines = [n for n in self.lines_of(point) if blanks[n] == 1] or list(self.lines_of(point))
            if used_lines & set(lines):
                continue
            candidates = [p for n in lines for p, _ in self.lines[n] if p not in unknown and self.values[p] > 0]
            if not candidates:
                candidates = [p for p, value in self.values.items() if p not in unknown and value > 0]
            if not candidates:
                continue
            choice = min(candidates, key=lambda p: (self.is_margin(p), self.values[p], p))
            unknown = unknown | {choice}
            added.add(choice)
            for n in self.lines_of(choice):
                blanks[n] += 1
                used_lines.add(n)
        return added

    # -- result ---------------------------------------------------------------------------------------------

    def published(self, primary, secondary):
        suppressed = primary | secondary
        r, c = self.r, self.c

        def shown(point):
            return None if point in suppressed else self.values[point]

        return Protected(
            cells=[[shown((i, j)) for j in range(c)] for i in range(r)],
            row_totals=[shown((i, c)) for i in range(r)],
            col_totals=[shown((r, j)) for j in range(c)],
            grand_total=shown((r, c)),
            primary=frozenset(self.position(p) for p in primary),
            secondary=frozenset(self.position(p) for p in secondary),
            threshold=self.threshold,
        )


# --------------------------------------------------------------------------------------------------------
# k-anonymity for microdata
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KAnonymityPlan:
    """How far each quasi-identifier is generalised, and which equivalence classes are still suppressed."""

    levels: dict[str, int]
    suppressed_classes: frozenset[tuple]
    records: int
    suppressed_records: int
    k: int
    depths: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """A sentence for the extract's metadata: what was generalised and how many records suppressed."""
        names = [_label(name) for name in self.levels]
        text = f"k-anonymity with k = {self.k} over {_join(names)}: "
        changes = []
        for name, level in self.levels.items():
            if level == 0:
                continue
            if level >= self.depths.get(name, math.inf):
                changes.append(f"{_label(name)} removed (shown as {SUPPRESSED})")
            else:
                changes.append(f"{_label(name)} generalised to level {level}")
        text += _join(changes) if changes else "no value needed generalising"
        if self.suppressed_records:
            share = 100 * self.suppressed_records / self.records
            text += (
                f"; the quasi-identifiers of {self.suppressed_records:,} of {self.records:,} records "
                f"({share:.2g}%), in groups smaller than {self.k}, are shown as {SUPPRESSED}."
            )
        else:
            text += "; no record needed suppressing."
        return text


def _label(name):
    return name.replace("_", " ")


def _join(words):
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def plan_k_anonymity(
    hierarchy_depths: dict[str, int],
    class_sizes: Callable[[dict[str, int]], Mapping[tuple, int]],
    k: int = 5,
    max_suppressed_share: float = 0.02,
) -> KAnonymityPlan:
    """Greedily generalise quasi-identifiers until the records in classes smaller than k are at most
    max_suppressed_share of all records; those classes are then suppressed.

    hierarchy_depths maps each quasi-identifier, in the order of the class tuples, to its top level: 0 is the
    value as recorded and the top level is "*". class_sizes(levels) returns {class tuple: records} for an
    assignment of levels. Each step raises by one the level of the quasi-identifier whose raise takes the most
    records out of small classes per unit of detail lost (one step of a hierarchy of depth d costs 1/d); when
    no raise helps, the cheapest is taken; ties go to the one listed first."""
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k!r}")
    if not 0 <= max_suppressed_share <= 1:
        raise ValueError(f"the suppressed share must be between 0 and 1, not {max_suppressed_share!r}")
    names = list(hierarchy_depths)
    for name in names:
        depth = hierarchy_depths[name]
        if isinstance(depth, bool) or not isinstance(depth, Integral) or depth < 1:
            raise ValueError(f"the hierarchy of {name!r} needs a top level of at least 1, not {depth!r}")
    cache = {}

    def evaluate(levels):
        # Only the counts are read here: the classes themselves are wanted for the chosen levels alone.
        if levels not in cache:
            sizes = class_sizes(dict(zip(names, levels)))
            counts = list(sizes.values())
            cache[levels] = (sizes, sum(counts), sum(n for n in counts if 0 < n < k))
        return cache[levels]

    levels = (0,) * len(names)
    _, records, small = evaluate(levels)
    allowed = max_suppressed_share * records + 1e-9  # tolerance for shares such as 0.29 * 100
    while small > allowed:
        best = None
        for n, name in enumerate(names):
            if levels[n] >= hierarchy_depths[name]:
                continue
            candidate = levels[:n] + (levels[n] + 1,) + levels[n + 1 :]
            _, total, candidate_small = evaluate(candidate)
            if total != records:
                raise ValueError(f"class_sizes counted {total} records at levels {candidate}, not {records}")
            # Records rescued per unit of detail given up: one step of a deep hierarchy (occupation from
            # unit to sub-major group) costs less than removing a shallow one (sex) outright.
            cost = 1 / hierarchy_depths[name]
            merit = ((small - candidate_small) / cost, -cost)
            if best is None or merit > best[0]:
                best = (merit, candidate_small, candidate)
        if best is None:  # every quasi-identifier is already "*": fewer than k records in all
            break
        _, small, levels = best
    sizes, _, _ = evaluate(levels)
    suppressed = frozenset(cls for cls, n in sizes.items() if 0 < n < k)
    return KAnonymityPlan(
        levels=dict(zip(names, levels)),
        suppressed_classes=suppressed,
        records=records,
        suppressed_records=sum(sizes[cls] for cls in suppressed),
        k=int(k),
        depths=dict(hierarchy_depths),
    )


def apply_plan(plan: KAnonymityPlan, generalised_values: tuple) -> tuple:
    """The record's generalised quasi-identifiers, or all "*" when its class is suppressed."""
    values = tuple(generalised_values)
    return (SUPPRESSED,) * len(values) if values in plan.suppressed_classes else values
