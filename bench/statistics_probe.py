"""Timings taken inside the app, for the statistics benchmark; run as its own process on central's database.

    python -m bench.statistics_probe tables --repeats N PERIOD [PERIOD ...]
    python -m bench.statistics_probe microdata FIRST_DAY LAST_DAY FILE

`tables` computes and publishes every standard table (tables.compute, then publish.publish: the counting
query, then disclosure control) for each period, `repeats` times in a row, and times each call.
`microdata` times write_microdata as the web page calls it, and its three steps: reading the rows (COPY into
a temporary file, counting the classes), the plan (the choice of generalisation), and writing the extract.
Each prints one line of JSON on standard output; the benchmark reads it. Nothing is committed.
"""
import json
import sys
import time
from datetime import date


def _tables(periods, repeats):
    from registry.extensions import db
    from registry.statistics.publish import publish
    from registry.statistics.tables import CATALOGUE, compute, make_request, parse_period

    results = {}
    for period in periods:
        for name in CATALOGUE:
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                counts = compute(make_request(name, parse_period(period)))
                computed = time.perf_counter()
                published = publish(counts)
                done = time.perf_counter()
                runs.append({"compute": computed - started, "publish": done - computed, "total": done - started})
            suppressed = 0 if published.empty else len(published.protected.primary | published.protected.secondary)
            results.setdefault(period, {})[name] = {
                "runs": runs, "rows": len(counts.row_keys), "columns": len(counts.column_keys),
                "counted": counts.total, "suppressed": suppressed,
                "unit": counts.spec.population.unit,
            }
            db.session.rollback()
    return results


def _microdata(first, last, path):
    from registry.extensions import db
    from registry.statistics import microdata
    from registry.statistics.tables import date_range

    request = microdata.MicrodataRequest(date_range(date.fromisoformat(first), date.fromisoformat(last)))
    steps = {}
    plan = microdata._plan  # the plan from the counted classes: timed from outside, the code is as it runs

    def timed_plan(*args, **kwargs):
        steps["read"] = time.perf_counter()
        chosen = plan(*args, **kwargs)
        steps["planned"] = time.perf_counter()
        steps["levels"] = chosen.levels
        return chosen

    microdata._plan = timed_plan
    started = time.perf_counter()
    manifest = microdata.write_microdata(request, path, run_by="benchmark")
    done = time.perf_counter()
    db.session.rollback()  # the audit event is not kept
    return {"write_seconds": done - started, "read_seconds": steps["read"] - started,
            "plan_seconds": steps["planned"] - steps["read"], "rewrite_seconds": done - steps["planned"],
            "rows": manifest.rows, "bytes": manifest.size, "notes": manifest.notes, "levels": steps["levels"]}


def main(argv):
    from wsgi import app

    command, *args = argv
    with app.app_context():
        if command == "tables":
            repeats = 1
            if args[:1] == ["--repeats"]:
                repeats, args = int(args[1]), args[2:]
            result = _tables(args, repeats)
        elif command == "microdata":
            result = _microdata(*args)
        else:
            raise SystemExit(f"unknown probe {command!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
