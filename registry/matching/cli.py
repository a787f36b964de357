"""`flask match ...`: score pairs from a CSV file, scan the stored people for duplicates, measure quality."""
import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from registry.core.db import command_transaction
from registry.matching.normalise import BadRecord, normalise_record
from registry.matching.scoring import score_pair

match_cli = AppGroup("match", help="Identity matching: score pairs, scan for duplicates, measure quality.")

SIDES = ("left", "right")
FIELDS = ("surname", "given_names", "sex", "date_of_birth", "national_id", "passport", "phone")
REQUIRED = tuple(f"{side}_{name}" for side in SIDES for name in ("surname", "given_names"))
OUTPUT_FIELDS = ("line", "id", "left_surname", "left_given_names", "right_surname", "right_given_names", "score",
                 "decision", "reasons")


def _cell(value):
    """A spreadsheet must not run what a cell holds: text starting like a formula is quoted (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _read_text(path):
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise click.ClickException(f"{path} is not UTF-8 text (line {line}); save it as CSV UTF-8") from None


class _Lines:
    """The file's lines, counted as the CSV reader takes them (its own line_num skips a line it failed on)."""

    def __init__(self, source):
        self.source, self.count = source, 0

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.source)
        self.count += 1
        return line


def score_rows(text, report):
    """Yield (line, row, Match) for every row of the CSV text that can be scored; call report(line, message)
    for every row that cannot. Raises click.ClickException if the header lacks a required column."""
    lines = _Lines(io.StringIO(text, newline=""))
    # strict: a stray or unclosed quote is an error to report, not a field that silently swallows the line
    reader = csv.DictReader(lines, restkey="\0extra", strict=True)
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise click.ClickException(f"the first line must name the columns; missing: {', '.join(missing)} "
                                   "(see docs/matching.md)")
    while True:
        line = lines.count + 1  # where the next row starts, unless blank lines come first
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report(line, f"not valid CSV ({exc})")
            continue
        # The row ends on the line just read; it starts earlier only if a quoted field held line breaks.
        line = lines.count - sum(value.count("\n") for value in row.values() if isinstance(value, str))
        if "\0extra" in row or any(value is None for value in row.values()):
            found = len(header) + len(row.get("\0extra", [])) - sum(value is None for value in row.values())
            report(line, f"expected {len(header)} fields, found {found}")
            continue
        sides, problems = [], []
        for side in SIDES:
            record = {name: row.get(f"{side}_{name}", "") for name in FIELDS}
            try:
                sides.append(normalise_record(record))
            except BadRecord as exc:
                problems += [f"{side}_{field}: {message}" for field, message in exc.problems.items()]
        if problems:
            report(line, "; ".join(problems))
            continue
        yield line, row, score_pair(*sides)


@match_cli.command("score")
@click.option("--pairs", "pairs_path", required=True, type=click.Path(path_type=Path),
              help="CSV of pairs of person records (columns in docs/matching.md).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the scores (CSV).")
def score_command(pairs_path, output):
    """Score pairs of person records: score, decision (match / possible / distinct) and reasons per pair."""
    text = _read_text(pairs_path)
    bad = []

    def report(line, message):
        bad.append(line)
        click.echo(f"{pairs_path}: line {line}: {message}", err=True)

    counts = {"match": 0, "possible": 0, "distinct": 0}
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=OUTPUT_FIELDS)
            writer.writeheader()
            for line, row, match in score_rows(text, report):
                counts[match.decision] += 1
                writer.writerow({
                    "line": line, "id": _cell(row.get("id", "")),
                    **{name: _cell(row[name]) for name in OUTPUT_FIELDS[2:6]},
                    "score": f"{match.score:.4f}", "decision": match.decision, "reasons": "; ".join(match.reasons),
                })
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    scored = sum(counts.values())
    click.echo(f"scored {scored:,} pairs ({counts['match']:,} match, {counts['possible']:,} possible, "
               f"{counts['distinct']:,} distinct) into {output}"
               + (f"; {len(bad):,} rows could not be scored (see above)" if bad else ""))
    if scored == 0:
        Path(output).unlink(missing_ok=True)
        raise click.ClickException("no pair could be scored")


@match_cli.command("scan")
@click.option("--matches-only", is_flag=True, help="Queue only pairs decided 'match' (default: 'possible' too).")
def scan_command(matches_only):
    """Find likely duplicates among all stored people and queue them for an administrator."""
    from registry.matching.candidates import PASSES, scan, scan_total

    stats = {}
    with command_transaction():
        total = scan_total()
        label = f"Comparing ({len(PASSES)} passes)"
        with click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr) as bar:
            queued = scan(progress=bar.update, min_decision="match" if matches_only else "possible", stats=stats)
    filled = f"; {stats['keys_filled']:,} people got their matching keys first" if stats.get("keys_filled") else ""
    click.echo(f"queued {queued:,} new pairs; {stats['pairs']:,} pairs shared a key, {stats['scored']:,} were "
               f"scored in full{filled}")


@match_cli.command("reindex")
def reindex_command():
    """Rebuild every person's matching keys (after the normalisation rules changed)."""
    from registry.matching.candidates import rebuild_keys

    with command_transaction():
        count = rebuild_keys()
    click.echo(f"rebuilt the matching keys of {count:,} people")


@match_cli.command("evaluate")
@click.option("--seed", type=int, default=None, help="Seed of the synthetic set (default: the reported seed).")
@click.option("--true-pairs", type=click.IntRange(1), default=4000, show_default=True)
@click.option("--distinct-pairs", type=click.IntRange(1), default=8000, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the measurements as JSON.")
def evaluate_command(seed, true_pairs, distinct_pairs, json_path):
    """Precision and recall of 'match' on the project's labelled synthetic set, and the curve."""
    from registry.matching import synthetic
    from registry.matching.evaluation import evaluate, render_text

    result = evaluate(seed=synthetic.REPORT_SEED if seed is None else seed, true_pairs=true_pairs,
                      distinct_pairs=distinct_pairs)
    click.echo(render_text(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2, default=str))
