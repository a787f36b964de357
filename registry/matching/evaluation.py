"""Quality of matching on the labelled synthetic set: precision and recall of "match", the curve over
thresholds, how each kind of pair was decided, and how many true pairs blocking would bring together."""
from collections import Counter, defaultdict

from registry.matching import synthetic
from registry.matching.keys import met_by_ranking, met_by_scan
from registry.matching.normalise import normalise_record
from registry.matching.scoring import MATCH_THRESHOLD, POSSIBLE_THRESHOLD, decide, to_score, weigh

CURVE_THRESHOLDS = (0.10, 0.30, 0.50, 0.70, 0.80, 0.85, 0.90, 0.95, 0.98, 0.99, 0.995, 0.999)
TARGET_PRECISION, TARGET_RECALL = 0.97, 0.93


def _ratio(part, whole):
    return part / whole if whole else None


def precision_recall(scored, threshold):
    """(precision, recall, true positives, false positives, false negatives) of "score >= threshold"."""
    tp = sum(1 for same, score in scored if same and score >= threshold)
    fp = sum(1 for same, score in scored if not same and score >= threshold)
    fn = sum(1 for same, score in scored if same and score < threshold)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), tp, fp, fn


def evaluate(seed=synthetic.REPORT_SEED, true_pairs=4000, distinct_pairs=8000):
    """Score every labelled pair of a seed; return the measurements as a dict (see docs/matching.md)."""
    pairs = synthetic.generate(seed, true_pairs=true_pairs, distinct_pairs=distinct_pairs)
    scored, by_kind, examples = [], defaultdict(Counter), defaultdict(list)
    blocked = {"ranking": 0, "scan": 0}
    for pair in pairs:
        left, right = normalise_record(pair.left), normalise_record(pair.right)
        weight, reasons = weigh(left, right)
        score = to_score(weight)
        decision = decide(score)
        scored.append((pair.same, score))
        by_kind[(pair.same, pair.kind)][decision] += 1
        if pair.same:
            blocked["ranking"] += met_by_ranking(left, right) or met_by_ranking(right, left)
            blocked["scan"] += met_by_scan(left, right)
        wrong = (decision == "match") != pair.same
        if wrong and len(examples[pair.kind]) < 3:
            examples[pair.kind].append({"left": synthetic.csv_row(pair), "score": round(score, 4), "reasons": reasons})
    precision, recall, tp, fp, fn = precision_recall(scored, MATCH_THRESHOLD)
    true_count = sum(1 for same, _ in scored if same)
    return {
        "seed": seed,
        "true_pairs": true_count,
        "distinct_pairs": len(scored) - true_count,
        "match_threshold": MATCH_THRESHOLD,
        "possible_threshold": POSSIBLE_THRESHOLD,
        "precision": precision, "recall": recall, "true_positives": tp, "false_positives": fp, "false_negatives": fn,
        "met": precision is not None and recall is not None and precision >= TARGET_PRECISION
        and recall >= TARGET_RECALL,
        "possible_share_of_true": _ratio(sum(1 for same, s in scored if same and s >= POSSIBLE_THRESHOLD), true_count),
        "curve": [dict(zip(("threshold", "precision", "recall", "true_positives", "false_positives"),
                           (t, *precision_recall(scored, t)[:4]))) for t in CURVE_THRESHOLDS],
        "kinds": [{"same": same, "kind": kind, "pairs": sum(counts.values()), **{d: counts.get(d, 0) for d in
                                                                             ("match", "possible", "distinct")}}
                  for (same, kind), counts in sorted(by_kind.items(), key=lambda item: (not item[0][0], item[0][1]))],
        "blocking_recall": _ratio(blocked["ranking"], true_count),
        "scan_blocking_recall": _ratio(blocked["scan"], true_count),
        "wrong_examples": dict(examples),
    }


def render_text(result):
    """A plain-text report for the terminal."""
    lines = [f"Seed {result['seed']}: {result['true_pairs']:,} true pairs, {result['distinct_pairs']:,} distinct pairs",
             f"At the default threshold ({result['match_threshold']}): precision {result['precision']:.4f}, "
             f"recall {result['recall']:.4f} (targets {TARGET_PRECISION} and {TARGET_RECALL}: "
             f"{'met' if result['met'] else 'NOT met'})",
             f"True pairs at 'possible' or better: {result['possible_share_of_true']:.4f}; "
             f"true pairs found by ranking's lookups: {result['blocking_recall']:.4f}, "
             f"put in one block by the scan: {result['scan_blocking_recall']:.4f}", "",
             "threshold  precision  recall"]
    for point in result["curve"]:
        lines.append(f"{point['threshold']:>9}  {point['precision'] or 0:9.4f}  {point['recall'] or 0:6.4f}")
    lines += ["", "kind                          pairs  match  possible  distinct"]
    for row in result["kinds"]:
        label = ("same: " if row["same"] else "distinct: ") + row["kind"]
        lines.append(f"{label:<28} {row['pairs']:>6} {row['match']:>6} {row['possible']:>9} {row['distinct']:>9}")
    return "\n".join(lines)
