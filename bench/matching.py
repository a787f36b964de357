"""Identity matching at a million people, and its quality on the labelled synthetic set.

    python -m bench.matching [--quick] [--rebuild] [--wait-quiet SECONDS] [--report-only] [--check]
    python -m bench.matching --quality

Speed (writes its section of docs/benchmarks.md, between the markers below):
1. A SQLite office database with 1,000,000 people, loaded with `flask demo load` (kept in
   bench/.work/matching/ between runs, brought to the current schema with `flask db upgrade`), copied fresh
   for each run. Into the copy go 2,000 second records of stored people, made with the synthetic set's slips
   (typing mistakes, spellings, swapped names and dates, a passport instead of the national ID), so the scan
   has duplicates to find and the run can say how many it found.
2. Ranked matches for one new registration: `rank_candidates` for 500 records of stored people as they
   would be typed again (with the same slips) and 500 new people, one fresh app context each, as a request
   would have. Target: 95th percentile under 100 ms. Also: how often the person typed again is ranked first.
3. `flask --app wsgi match scan` over the whole database, as a separate process, timed from start to exit,
   its peak resident memory (VmHWM) polled from /proc. Targets: under 10 minutes and 2 GB.

Quality (`--quality`): precision and recall of "match" on the reported seed of the synthetic set, the curve
over thresholds and the tuning seed's figures beside them, written into docs/matching.md between its markers.
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import date

from bench.database import _build, _checkpoint, _generator_digest, _upgrade, app_env, count_rows
from bench.machine import ROOT, busy_share, cpu_times, describe, wait_until_quiet
from bench.stats import summarise

WORK = ROOT / "bench" / ".work" / "matching"
BEGIN, END = "<!-- matching benchmark: begin -->", "<!-- matching benchmark: end -->"
QUALITY_BEGIN, QUALITY_END = "<!-- matching quality: begin -->", "<!-- matching quality: end -->"
TARGET_P95_MS = 100
TARGET_SCAN_SECONDS = 600
TARGET_SCAN_MIB = 2048
SEED = 2026


def say(message):
    print(message, flush=True)


# -- the database ---------------------------------------------------------------------------------------------

def prepared(people, rebuild=False):
    """A cached database of `people` people at the current schema, built with the app's commands if missing."""
    WORK.mkdir(parents=True, exist_ok=True)
    path, meta_path = WORK / f"people-{people}.db", WORK / f"people-{people}.json"
    log = WORK / f"prepare-{people}.log"
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        say(f"  reusing {path.relative_to(ROOT)} ({meta['people']:,} people)")
        if _upgrade(path, log, say) is None:
            return path, meta
    for stale in WORK.glob(f"people-{people}.*"):
        stale.unlink()
    building = WORK / f"people-{people}.building.db"
    for stale in WORK.glob(building.name + "*"):
        stale.unlink()
    say(f"  building {path.relative_to(ROOT)} with `flask demo load` (log: {log.relative_to(ROOT)}) ...")
    log.write_text("")
    seconds, notes = _build(building, people=people, log=log, say=say)
    _checkpoint(building)
    building.rename(path)
    meta = {"people": count_rows(path, "person"), "registrations": count_rows(path, "registration"),
            "build_seconds": round(seconds, 1), "size_mib": round(path.stat().st_size / 2**20),
            "notes": [note for note in notes if note], "generator": _generator_digest(),
            "built": describe()["date"]}
    meta_path.write_text(json.dumps(meta))
    say(f"  built in {seconds / 60:.1f} minutes: {meta['people']:,} people, {meta['size_mib']:,} MiB")
    return path, meta


def _app(database, role="office"):
    from registry import create_app

    env = app_env(database)
    return create_app({"REGISTRY_ENV": "demo", "REGISTRY_ROLE": role, "OFFICE_CODE": env["OFFICE_CODE"],
                       "SECRET_KEY": env["SECRET_KEY"], "DATABASE_URL": env["DATABASE_URL"]})


def _sample_people(app, count, rng):
    """`count` stored people picked uniformly by rowid (seeded), as dicts of their columns."""
    from sqlalchemy import text

    from registry.extensions import db

    with app.app_context():
        highest = db.session.execute(text("SELECT max(rowid) FROM person")).scalar()
        picked, seen = [], set()
        while len(picked) < count:
            row = db.session.execute(text(
                "SELECT id, surname, given_names, sex, date_of_birth, national_id, passport_number, phone "
                "FROM person WHERE rowid >= :at AND deleted_at IS NULL ORDER BY rowid LIMIT 1"),
                {"at": rng.randrange(1, highest + 1)}).mappings().first()
            if row is not None and row["id"] not in seen:
                seen.add(row["id"])
                picked.append({**row, "id": uuid.UUID(str(row["id"]))})  # SQLite holds it as 32 hex digits
        db.session.rollback()
    return picked


SLIPS = ("name_typo", "spelling_variant", "names_swapped", "day_month_swapped", "date_typo", "given_name_dropped")


def typed_again(maker, stored):
    """A second record of a stored person, with one or two slips, holding a passport but no national ID (so
    no number gives the person away)."""
    rng = maker.rng
    first = {"surname": stored["surname"], "given_names": stored["given_names"], "sex": stored["sex"],
             "date_of_birth": date.fromisoformat(str(stored["date_of_birth"])), "phone": ""}
    second = dict(first)
    born = first["date_of_birth"]
    slips = [slip for slip in SLIPS if slip != "day_month_swapped" or (born.day <= 12 and born.day != born.month)]
    for slip in rng.sample(slips, rng.choice((1, 1, 2))):
        maker.slip(dict(first), second, slip)
    second.update(national_id="", passport=f"ZP{rng.randrange(10**6, 10**7)}")
    return second


def inject_duplicates(database, count, rng):
    """Store `count` second records of stored people; return their (stored id, new id) pairs."""
    from sqlalchemy import insert

    from registry.core.ids import new_id
    from registry.core.types import utcnow
    from registry.extensions import db
    from registry.matching.keys import key_row
    from registry.matching.models import PersonMatchKey
    from registry.matching.synthetic import SyntheticSet
    from registry.people.models import Person
    from registry.people.names import name_key

    app = _app(database)
    maker = SyntheticSet(rng.randrange(10**9))
    sources = _sample_people(app, count, rng)
    rows, truth = [], []
    for stored in sources:
        record = typed_again(maker, stored)
        person_id = new_id()
        rows.append({
            "id": person_id, "version": 1, "origin_office": "BBR", "updated_at": utcnow(), "deleted_at": None,
            "surname": record["surname"], "given_names": record["given_names"],
            "surname_key": name_key(record["surname"]), "given_names_key": name_key(record["given_names"]),
            "sex": record["sex"], "date_of_birth": record["date_of_birth"], "citizenship": "ZW",
            "national_id": None, "national_id_country": None, "passport_number": record["passport"],
            "passport_country": "ZW", "phone": None, "home_subdivision": None, "home_district": None,
            "languages": [], "education_level": None, "consent_at": utcnow(), "consent_recorded_by": "bench",
        })
        truth.append((str(stored["id"]), str(person_id)))
    with app.app_context():
        db.session.execute(insert(Person), rows)
        db.session.execute(insert(PersonMatchKey), [row for row in map(key_row, rows) if row is not None])
        db.session.commit()
        db.engine.dispose()
    return truth


# -- ranked matches for one registration ----------------------------------------------------------------------

def measure_ranking(database, queries, warmup, say=say):
    """Time rank_candidates for each query in a fresh app context; say how often the source ranks first."""
    from registry.extensions import db
    from registry.matching.candidates import rank_candidates

    app = _app(database)
    seconds, first, in_top, returned = [], 0, 0, []
    for number, (record, source_id) in enumerate(queries):
        with app.app_context():
            started = time.perf_counter()
            ranked = rank_candidates(record)
            elapsed = time.perf_counter() - started
            ids = [str(match.person.id) for match in ranked]
            db.session.rollback()
        if number < warmup:
            continue
        seconds.append(elapsed)
        returned.append(len(ids))
        if source_id:
            first += bool(ids) and ids[0] == source_id
            in_top += source_id in ids
    with app.app_context():
        db.engine.dispose()
    typed = sum(1 for _, source_id in queries[warmup:] if source_id)
    return {"latency": summarise(seconds), "queries": len(seconds), "typed_again": typed,
            "new_people": len(seconds) - typed, "source_first": first, "source_in_top5": in_top,
            "mean_returned": sum(returned) / len(returned) if returned else None}


def ranking_queries(database, count, rng):
    """Half records of stored people typed again, half new people: [(record, source id or None)]."""
    from registry.matching.synthetic import SyntheticSet

    maker = SyntheticSet(rng.randrange(10**9))
    stored = _sample_people(_app(database), count // 2, rng)
    queries = [(typed_again(maker, person), str(person["id"])) for person in stored]
    for _ in range(count - len(queries)):
        queries.append((maker.record(maker.person(), show_id=False, show_passport=True), None))
    rng.shuffle(queries)
    return queries


# -- the scan -------------------------------------------------------------------------------------------------

def _vm_kib(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_scan(database, log):
    """`flask match scan` as a separate process on a central node: seconds, peak memory, what it printed."""
    env = app_env(database)
    env["REGISTRY_ROLE"] = "central"
    env["OFFICE_CODE"] = "HQ"
    peak = {"kib": 0}
    started = time.monotonic()
    before = cpu_times()
    with log.open("w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "match", "scan"], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, stderr=handle, text=True)
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                value = _vm_kib(process.pid, "VmHWM")
                if value:
                    peak["kib"] = max(peak["kib"], value)
                stop.wait(0.2)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        output, _ = process.communicate()
        stop.set()
        watcher.join()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"`flask match scan` failed (exit {process.returncode}); see {log}")
    return {"seconds": seconds, "peak_mib": peak["kib"] / 1024, "output": output.strip(),
            "machine_busy": busy_share(before, cpu_times())}


def scan_quality(database, truth):
    """How many injected duplicates the scan queued, and what else it queued, by decision."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT d.first_person_id, d.second_person_id, d.score, "
            "(p1.consent_recorded_by = 'bench') + (p2.consent_recorded_by = 'bench') FROM duplicate_candidate d "
            "JOIN person p1 ON p1.id = d.first_person_id JOIN person p2 ON p2.id = d.second_person_id").fetchall()
    finally:
        connection.close()
    from registry.matching.scoring import decide

    wanted = {tuple(sorted(pair)) for pair in truth}  # the queue stores a pair in this order too
    result = {"injected": len(truth), "found": 0, "queued": len(rows), "other_pairs": 0,
              "found_match": 0, "other_match": 0, "other_without_injected": 0}
    for first, second, score, injected in rows:
        pair = (str(uuid.UUID(first)), str(uuid.UUID(second)))
        kind = "found" if pair in wanted else "other"
        result[{"found": "found", "other": "other_pairs"}[kind]] += 1
        result[f"{kind}_match"] += decide(score) == "match"
        result["other_without_injected"] += kind == "other" and not injected
    return result


# -- the run and the report -----------------------------------------------------------------------------------

def run(people, injected, queries, warmup, rebuild, settle):
    rng = random.Random(SEED)
    results = {"machine": describe(), "people_target": people}
    say(f"Database with {people:,} people")
    template, meta = prepared(people, rebuild=rebuild)
    results["database"] = meta
    copy = WORK / "run.db"
    for old in WORK.glob("run.db*"):
        old.unlink()
    shutil.copyfile(template, copy)
    say(f"  injecting {injected:,} second records of stored people ...")
    truth = inject_duplicates(copy, injected, rng)
    _checkpoint(copy)
    results["stored_people"] = count_rows(copy, "person")

    say(f"Ranked matches for one registration ({queries:,} queries after {warmup} untimed)")
    built = ranking_queries(copy, queries + warmup, rng)
    results["busy_before_ranking"] = settle()
    before = cpu_times()
    results["ranking"] = measure_ranking(copy, built, warmup)
    results["ranking"]["machine_busy"] = busy_share(before, cpu_times())
    latency = results["ranking"]["latency"]
    results["ranking"]["passed"] = latency["p95"] is not None and latency["p95"] < TARGET_P95_MS
    say(f"  p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, p99 {latency['p99']:.1f} ms; "
        f"typed-again person ranked first {results['ranking']['source_first']:,} of "
        f"{results['ranking']['typed_again']:,}")

    say("`flask match scan` over everyone")
    results["busy_before_scan"] = settle()
    scan = run_scan(copy, WORK / "scan.log")
    scan.update(scan_quality(copy, truth))
    scan["passed"] = scan["seconds"] < TARGET_SCAN_SECONDS and scan["peak_mib"] < TARGET_SCAN_MIB
    results["scan"] = scan
    say(f"  {scan['seconds']:.0f} s, peak {scan['peak_mib']:.0f} MiB; found {scan['found']:,} of "
        f"{scan['injected']:,} injected duplicates; {scan['other_pairs']:,} other pairs queued")
    return results


def _share(value):
    return "n/a" if value is None else f"{value:.0%}"


def render(results):
    ranking, scan, meta, m = results["ranking"], results["scan"], results["database"], results["machine"]
    latency = ranking["latency"]
    verdict = {True: "**pass**", False: "**FAIL**"}
    lines = [
        BEGIN,
        "## Identity matching",
        "",
        f"`{results['command']}` on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, Python "
        f"{m['python']}, SQLite {m['sqlite']}, commit {m['commit']}. Method and quality: docs/matching.md.",
        "",
        f"A SQLite office database of {meta['people']:,} people ({meta['registrations']:,} registrations, "
        f"{meta['size_mib']:,} MiB) loaded with `flask demo load` and kept in bench/.work/matching/; each run "
        f"works on a fresh copy, into which go {scan['injected']:,} second records of stored people made with "
        f"the synthetic set's slips (a passport instead of the national ID, so no number gives them away): "
        f"{results['stored_people']:,} people in all." + "".join(f" Note: {note}." for note in meta.get("notes", [])),
        "",
        "| Measure | Result | Target | Verdict |",
        "|---|---:|---:|---|",
        f"| Ranked matches for one registration, p50 / p95 / p99 | {latency['p50']:.1f} / {latency['p95']:.1f} / "
        f"{latency['p99']:.1f} ms | p95 < {TARGET_P95_MS} ms | {verdict[ranking['passed']]} |",
        f"| `flask match scan`, whole run | {scan['seconds'] / 60:.1f} min | < {TARGET_SCAN_SECONDS // 60} min | "
        f"{verdict[scan['seconds'] < TARGET_SCAN_SECONDS]} |",
        f"| `flask match scan`, peak resident memory | {scan['peak_mib']:,.0f} MiB | < {TARGET_SCAN_MIB:,} MiB | "
        f"{verdict[scan['peak_mib'] < TARGET_SCAN_MIB]} |",
        "",
        f"Ranking: {ranking['queries']:,} calls of `rank_candidates`, each in a fresh app context: "
        f"{ranking['typed_again']:,} records of stored people typed again with one or two slips, "
        f"{ranking['new_people']:,} new people. The person typed again was ranked first "
        f"{ranking['source_first']:,} times and in the top five {ranking['source_in_top5']:,} times; "
        f"{ranking['mean_returned']:.2f} candidates came back on average. The machine was "
        f"{_share(results['busy_before_ranking'])} busy with other work just before, "
        f"{_share(ranking['machine_busy'])} during (this benchmark included).",
        "",
        f"Scan: {scan['output']}. Of the {scan['injected']:,} injected duplicates it queued {scan['found']:,} "
        f"({scan['found_match']:,} as `match`, the rest `possible`). It also queued {scan['other_pairs']:,} other "
        f"pairs ({scan['other_match']:,} as `match`), {scan['other_without_injected']:,} of them between two demo "
        "people: every other pair joins an injected record, which holds no national ID, to a namesake of the "
        "person it was made from (same names, and the same date of birth or one a typing slip away). Nothing in "
        "the two records tells such people apart, and the demo data make them common: 58 surnames and 30 given "
        "names for each sex, so a surname and first given name are shared by some 250 people on average (see "
        "docs/matching.md, \"What the figures do not show\"). The demo people themselves all hold national IDs, which keep them apart. The "
        f"machine was {_share(results['busy_before_scan'])} busy with other work just before, "
        f"{_share(scan['machine_busy'])} during.",
        "",
        END,
    ]
    return "\n".join(lines)


def write_between(path, begin, end, section):
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section.strip() + tail
    else:
        text = text.rstrip() + "\n\n" + section.strip() + "\n"
    path.write_text(text)


# -- quality --------------------------------------------------------------------------------------------------

def quality():
    from registry.matching import synthetic
    from registry.matching.evaluation import TARGET_PRECISION, TARGET_RECALL, evaluate, render_text

    reported, tuning = evaluate(synthetic.REPORT_SEED), evaluate(synthetic.TUNING_SEED)
    say(render_text(reported))
    tuning_curve = {point["threshold"]: point for point in tuning["curve"]}
    lines = [
        QUALITY_BEGIN,
        f"Measured by `python -m bench.matching --quality` on seed {reported['seed']} "
        f"({reported['true_pairs']:,} true pairs, {reported['distinct_pairs']:,} distinct pairs); the weights "
        f"and thresholds were chosen on seed {tuning['seed']}, shown beside it.",
        "",
        f"At the default threshold ({reported['match_threshold']}): **precision {reported['precision']:.4f}, recall "
        f"{reported['recall']:.4f}** (targets {TARGET_PRECISION} and {TARGET_RECALL}: "
        f"{'met' if reported['met'] else 'NOT met'}); on the tuning seed {tuning['precision']:.4f} and "
        f"{tuning['recall']:.4f}. True pairs decided `possible` or better: "
        f"{reported['possible_share_of_true']:.4f}. Blocking (a pair that blocking never brings together cannot be "
        f"found at all): true pairs that `rank_candidates` looks up {reported['blocking_recall']:.4f}, that "
        f"`match scan` puts in one block {reported['scan_blocking_recall']:.4f}.",
        "",
        "| Threshold | Precision | Recall | Pairs at or above (true + distinct) | Tuning seed: precision | Tuning seed: recall |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for point in reported["curve"]:
        other = tuning_curve.get(point["threshold"], {})
        lines.append(f"| {point['threshold']} | {point['precision'] or 0:.4f} | {point['recall'] or 0:.4f} | "
                     f"{point['true_positives']:,} + {point['false_positives']:,} | "
                     f"{other.get('precision') or 0:.4f} | {other.get('recall') or 0:.4f} |")
    lines += ["", "How each kind of pair was decided (seed " + str(reported["seed"]) + "):", "",
              "| Pair | Kind | Pairs | match | possible | distinct |", "|---|---|---:|---:|---:|---:|"]
    for row in reported["kinds"]:
        lines.append(f"| {'same person' if row['same'] else 'two people'} | {row['kind'].replace('_', ' ')} | "
                     f"{row['pairs']:,} | {row['match']:,} | {row['possible']:,} | {row['distinct']:,} |")
    lines.append(QUALITY_END)
    write_between(ROOT / "docs" / "matching.md", QUALITY_BEGIN, QUALITY_END, "\n".join(lines))
    (WORK).mkdir(parents=True, exist_ok=True)
    (WORK / "quality.json").write_text(json.dumps({"reported": reported, "tuning": tuning}, indent=2, default=str))
    say("Wrote the quality section of docs/matching.md.")
    return reported["met"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.matching", description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="measure quality on the synthetic set instead")
    parser.add_argument("--quick", action="store_true", help="20,000 people; report to bench/.work/matching/")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--prepare-only", action="store_true", help="only build (or migrate) the cached database")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="before each measurement, wait up to this long for other work on the machine to stop")
    parser.add_argument("--report-only", action="store_true", help="write the report again from the saved results")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quality:
        met = quality()
        return 1 if args.check and not met else 0
    people = 20_000 if args.quick else 1_000_000
    if args.prepare_only:
        prepared(people, rebuild=args.rebuild)
        return 0
    saved = WORK / f"results-{'quick' if args.quick else 'full'}.json"
    output = WORK / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md"
    if args.report_only:
        results = json.loads(saved.read_text())
    else:
        results = run(people, injected=200 if args.quick else 2000, queries=200 if args.quick else 1000,
                      warmup=20, rebuild=args.rebuild, settle=lambda: wait_until_quiet(args.wait_quiet, say=say))
        results["command"] = "python -m bench.matching" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
        saved.write_text(json.dumps(results, indent=2, default=str))
    write_between(output, BEGIN, END, render(results))
    passed = results["ranking"]["passed"] and results["scan"]["passed"]
    say(f"Wrote {output.relative_to(ROOT)} ({'all targets met' if passed else 'some targets missed'}).")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
