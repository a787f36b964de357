"""Registration and search benchmarks; their section of docs/benchmarks.md is written from the results.

    python -m bench [--quick] [--only registration|search] [--rebuild] [--wait-quiet SECONDS] [--check]
"""
import argparse
import json
import shlex
import signal
import sys
import time
from dataclasses import asdict, dataclass

from bench import machine, registration, report, search
from bench.database import WORK
from bench.machine import ROOT, wait_until_quiet
from bench.server import OFFICE_ARGS


@dataclass(frozen=True)
class Sizes:
    stored_registrations: int  # in the database the registration benchmark posts into
    clients: int
    warmup_posts: int  # per client, untimed
    posts: int  # measured, over all clients
    time_limit: int  # seconds for each phase of the registration benchmark
    single_posts: int  # measured with one client alone, for comparison
    search_people: int  # people in the search database
    queries_per_kind: int
    warmup_queries: int  # per kind, untimed
    search_time_limit: int  # seconds per kind of query and path


FULL = Sizes(stored_registrations=100_000, clients=8, warmup_posts=5, posts=2_000, time_limit=900, single_posts=300,
             search_people=1_000_000, queries_per_kind=250, warmup_queries=20, search_time_limit=300)
QUICK = Sizes(stored_registrations=5_000, clients=8, warmup_posts=2, posts=200, time_limit=60, single_posts=50,
              search_people=20_000, queries_per_kind=50, warmup_queries=5, search_time_limit=20)


def say(message):
    print(message, flush=True)


def _stop(signum, frame):
    # A plain SIGTERM would skip the clean-up that stops gunicorn and the app's commands; exit through it.
    raise SystemExit(128 + signum)


def main(argv=None):
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes; writes to bench/.work/")
    parser.add_argument("--only", choices=("registration", "search"), help="run one benchmark")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached databases")
    parser.add_argument("--output", help="where to write the report (default: docs/benchmarks.md, or "
                                         "bench/.work/benchmarks-quick.md with --quick)")
    parser.add_argument("--gunicorn", default=OFFICE_ARGS, metavar="ARGS",
                        help=f"gunicorn worker options (default: {OFFICE_ARGS!r})")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="before each benchmark, wait up to this long for other work on the machine to stop")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report again from the last run's saved results")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    output = ROOT / (args.output or ("bench/.work/benchmarks-quick.md" if args.quick else "docs/benchmarks.md"))
    command = "python -m bench" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])).rstrip()

    def settle():
        return wait_until_quiet(args.wait_quiet, say=say)

    saved = WORK / f"results-registration-search-{mode}.json"  # other benchmarks keep theirs beside it
    if args.report_only:
        results = json.loads(saved.read_text())
        report.write_section(output, report.render(results))
        say(f"Wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} from {saved.relative_to(ROOT)}.")
        return 0

    started = time.monotonic()
    results = {"mode": mode, "command": command.strip(), "sizes": asdict(sizes), "machine": machine.describe()}
    if args.only in (None, "registration"):
        say(f"Registration benchmark ({sizes.stored_registrations:,} stored registrations)")
        results["registration"] = registration.run(sizes, args.gunicorn, rebuild=args.rebuild, say=say, settle=settle)
        reg = results["registration"]
        say(f"  {reg['per_second']:.1f} registrations/s; p50 {reg['latency']['p50'] or 0:.1f} ms, "
            f"p95 {reg['latency']['p95'] or 0:.1f} ms, p99 {reg['latency']['p99'] or 0:.1f} ms; "
            f"{reg['errors']} errors")
    if args.only in (None, "search"):
        say(f"Search benchmark ({sizes.search_people:,} people)")
        results["search"] = search.run(sizes, args.gunicorn, rebuild=args.rebuild, say=say, settle=settle)
        for path in ("http", "direct"):
            for kind in results["search"][path].values():
                say(f"  {path:<6} {kind['label']:<46} p95 {kind['latency']['p95'] or 0:7.1f} ms  "
                    f"found {kind['found_share'] or 0:4.0%}  {'pass' if kind['passed'] else 'FAIL'}")
    results["seconds"] = time.monotonic() - started

    WORK.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, indent=2, default=str))
    output.parent.mkdir(parents=True, exist_ok=True)
    report.write_section(output, report.render(results))
    passed = all(results[name]["passed"] for name in ("registration", "search") if name in results)
    say(f"Wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"({'all targets met' if passed else 'some targets missed'}) in {results['seconds'] / 60:.1f} minutes.")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
