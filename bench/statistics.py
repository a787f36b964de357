"""`python -m bench.statistics [--quick] [--only PART] [--rebuild | --keep-cache] [--wait-quiet N] [--check]`

The statistics benchmark, on central's PostgreSQL holding a million registrations loaded by the demo command
(`flask demo setup`, then `flask demo load --registrations 1000000`, which also makes referrals):

1. tables: every standard table for the last full year and for one quarter, computed and published in
   process (best of 3, each run reported), and once through `flask extract TABLE --format xlsx` for the wall
   time of the command. Target: under 2 s each.
2. microdata: the pseudonymised microdata CSV of every registration, by `flask extract microdata` and by
   write_microdata in process, interleaved in the same run with PostgreSQL's own `COPY (SELECT the same
   columns, plainly) TO STDOUT` into a file. Target: at least half COPY's rows per second, in constant
   memory (peak resident memory of the writing process, 100,000 rows against all of them).
3. xlsx: 100,000 rows as XLSX, `flask extract microdata --format xlsx` and the full extract with personal
   data (`flask extract full --format xlsx`). Targets: under 30 s and under 300 MB.
4. dashboard: central under gunicorn on 127.0.0.1, Chromium (Playwright) logged in as the statistician opens
   /statistics/dashboard with the figures' cache empty (gunicorn just started) and again warm; first
   contentful paint from the Performance API, and the time until all five charts are drawn. Target: first
   paint under 1 s.

Results go into docs/benchmarks.md between `<!-- statistics benchmark: begin -->` and
`<!-- statistics benchmark: end -->` (the rest of the file is left as it is); `--quick` (20,000
registrations, a few minutes) writes bench/.work/statistics/benchmarks-quick.md instead. The prepared
database is kept in bench/.work/statistics/cache/ (see bench/statistics_central.py); `--keep-cache` uses it
even when the demo generator or the migrations changed since it was built (the report says so). With `--only`,
the other parts' results are kept from the last run of the same size and reported as such. Logs in
bench/.work/statistics/logs/. `--wait-quiet SECONDS` waits (that long at most) for other work on the machine
to stop before each part; `--check` exits with status 1 when a target is missed.
"""
import argparse
import json
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from bench import machine
from bench.machine import ROOT
from bench.statistics_central import DATABASE, LOGS, RUNS, WORK, cached, start
from bench.statistics_dashboard import dashboard_benchmark
from bench.statistics_report import render, verdicts, write_section
from bench.sync_nodes import central_env, flask

TARGET_TABLE_SECONDS = 2.0
TARGET_COPY_SHARE = 0.5
TARGET_XLSX_SECONDS = 30.0
TARGET_XLSX_MIB = 300.0
TARGET_FIRST_PAINT_MS = 1000.0
COMMAND_TIMEOUT = 1800


@dataclass(frozen=True)
class Sizes:
    registrations: int  # loaded at central by `flask demo load`
    table_repeats: int  # in-process runs of each table and period
    microdata_rounds: int  # interleaved rounds of COPY and the extract
    small_rows: int  # the smaller microdata extract, for comparing memory; also the XLSX's rows
    xlsx_runs: int
    warm_loads: int  # dashboard loads after the cold one


FULL = Sizes(registrations=1_000_000, table_repeats=3, microdata_rounds=3, small_rows=100_000, xlsx_runs=2,
             warm_loads=3)
QUICK = Sizes(registrations=20_000, table_repeats=2, microdata_rounds=2, small_rows=5_000, xlsx_runs=1,
              warm_loads=2)


def say(message):
    print(message, flush=True)


def _stop(signum, frame):
    raise SystemExit(128 + signum)  # through the `finally` blocks that stop gunicorn and PostgreSQL


def _load():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Part:
    """Machine load around one part: the busy share of all CPUs meanwhile and the load average at its start."""

    def __init__(self, results, name):
        self.results, self.name = results, name

    def __enter__(self):
        self.load, self.before, self.started = _load(), machine.cpu_times(), time.monotonic()
        return self

    def __exit__(self, *exc):
        self.results.setdefault("load", {})[self.name] = {
            "load_average_at_start": self.load, "busy_share": machine.busy_share(self.before, machine.cpu_times()),
            "seconds": time.monotonic() - self.started}
        return False


# --- processes ---------------------------------------------------------------------------------------------

def _status_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def watched(command, env, log, timeout=COMMAND_TIMEOUT):
    """Run a command as a child process; return (seconds, peak resident MiB, standard output).

    The peak is VmHWM from /proc/PID/status, read every 20 ms while it runs: the process's own high-water
    mark (it starts fresh at exec), so nothing of this benchmark's memory is counted."""
    with open(log, "a") as handle:
        handle.write(f"\n$ {shlex.join(command)}\n")
    output = Path(str(log) + ".out")
    with open(output, "w") as out, open(log, "a") as err:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        peak = 0
        try:
            while process.poll() is None:
                value = _status_kib(process.pid, "VmHWM")
                peak = max(peak, value or 0)
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"`{shlex.join(command)}` took more than {timeout} s")
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        seconds = time.monotonic() - started
    text = output.read_text(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"`{shlex.join(command)}` failed (exit {process.returncode}); see {log}:\n{text[-1500:]}")
    return seconds, peak / 1024, text


def flask_command(*args):
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def pg_rows(pg, sql, params=None):
    with pg.connect(DATABASE) as connection:
        return connection.execute(sql, params).fetchall()


# --- 1. tables -----------------------------------------------------------------------------------------------

def periods(today):
    """The last full year, and the last full quarter before today."""
    quarter = (today.month - 1) // 3  # the current one, 0-based
    year, last = (today.year, quarter) if quarter else (today.year - 1, 4)
    return str(today.year - 1), f"{year}-Q{last}"


def tables_benchmark(env, sizes, today, out):
    log = LOGS / "tables.log"
    year, quarter = periods(today)
    say(f"  in process: every table for {year} and {quarter}, {sizes.table_repeats} runs each ...")
    _, peak, text = watched([sys.executable, "-m", "bench.statistics_probe", "tables", "--repeats",
                             str(sizes.table_repeats), year, quarter], env, log)
    in_process = json.loads(text.strip().splitlines()[-1])
    say(f"  through the command: `flask extract TABLE --period {year} --format xlsx`, each table once ...")
    startup = [watched(flask_command("extract", "list"), env, log)[:2] for _ in range(3)]
    commands = {}
    for name in in_process[year]:
        target = out / f"{name}-{year}.xlsx"
        seconds, mib, text = watched(flask_command("extract", name, "--period", year, "--format", "xlsx",
                                                   "-o", str(target)), env, log)
        commands[name] = {"seconds": seconds, "peak_mib": mib, "output": text.strip().splitlines()[0][:300]}
    for period in (year, quarter):
        for name, entry in in_process[period].items():
            runs = ", ".join(format(run["total"], ".2f") for run in entry["runs"])
            best = min(run["total"] for run in entry["runs"])
            command = f"; command {commands[name]['seconds']:.2f} s" if period == year else ""
            say(f"    {period:<8} {name:<36} best {best:5.2f} s (runs {runs}){command}")
    return {"year": year, "quarter": quarter, "in_process": in_process, "probe_peak_mib": peak,
            "commands": commands, "startup_seconds": sorted(seconds for seconds, _ in startup),
            "startup_peak_mib": max(peak for _, peak in startup), "target_seconds": TARGET_TABLE_SECONDS}


# --- 2. microdata ----------------------------------------------------------------------------------------------

PLAIN_COLUMNS = ("coalesce(p.same_as_id, p.id), r.registered_on, r.office_code, r.status, p.sex, p.date_of_birth, "
                 "p.home_subdivision, r.destination_country, r.occupation_code, p.education_level, "
                 "r.intended_sector")


def plain_copy_sql(first, last):
    """The microdata's rows and columns as stored (no hashing, age groups or generalisation): COPY's share."""
    day = date.fromisoformat  # the days are checked dates, so they go into the text as literals safely
    return (f"COPY (SELECT {PLAIN_COLUMNS} FROM registration r JOIN person p ON p.id = r.person_id "
            f"WHERE r.deleted_at IS NULL AND p.deleted_at IS NULL AND r.registered_on BETWEEN "
            f"'{day(first).isoformat()}' AND '{day(last).isoformat()}' AND p.citizenship = 'ZW') "
            "TO STDOUT WITH (FORMAT csv)")


def copy_psql(pg, sql, path):
    """psql running COPY ... TO STDOUT, its output going straight into a file; (seconds, rows, bytes)."""
    command = [str(pg.bin / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "registry", "-d",
               DATABASE, "-v", "ON_ERROR_STOP=1", "-c", sql]
    with open(path, "wb") as handle:
        started = time.monotonic()
        subprocess.run(command, stdout=handle, check=True, timeout=COMMAND_TIMEOUT)
        seconds = time.monotonic() - started
    with open(path, "rb") as handle:
        rows = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return seconds, rows, Path(path).stat().st_size


def copy_psycopg(pg, sql, path):
    """The same COPY read by psycopg in Python and written to a file as it arrives (as the extract does);
    (seconds, rows, bytes)."""
    with pg.connect(DATABASE) as connection:
        started = time.monotonic()
        rows = size = 0
        with connection.cursor() as cursor, open(path, "wb") as handle:
            buffer = bytearray()
            with cursor.copy(sql) as copy:
                for chunk in copy:
                    buffer += chunk
                    if len(buffer) >= 1 << 20:
                        handle.write(buffer)
                        rows, size, buffer = rows + buffer.count(b"\n"), size + len(buffer), bytearray()
            handle.write(buffer)
            rows, size = rows + buffer.count(b"\n"), size + len(buffer)
        seconds = time.monotonic() - started
    return seconds, rows, size


def _rows_written(manifest_path):
    return json.loads(Path(manifest_path).read_text())["rows"]


def microdata_benchmark(pg, env, sizes, first, last, small_from, out):
    log = LOGS / "microdata.log"
    path = out / "microdata.csv"
    rounds = []
    for number in range(sizes.microdata_rounds):
        say(f"  round {number + 1} of {sizes.microdata_rounds}: COPY by psql, by psycopg, "
            "`flask extract microdata`, write_microdata in process ...")
        entry = {}
        for name, copier in (("copy", copy_psql), ("copy_psycopg", copy_psycopg)):
            seconds, rows, size = copier(pg, plain_copy_sql(first, last), out / f"{name}.csv")
            entry[name] = {"seconds": seconds, "rows": rows, "bytes": size}
        seconds, peak, text = watched(flask_command("extract", "microdata", "--from", first, "--to", last,
                                                    "-o", str(path)), env, log)
        entry["command"] = {"seconds": seconds, "peak_mib": peak, "rows": _rows_written(f"{path}.manifest.json"),
                            "bytes": path.stat().st_size}
        seconds, peak, text = watched([sys.executable, "-m", "bench.statistics_probe", "microdata", first, last,
                                       str(out / "microdata-probe.csv")], env, log)
        probe = json.loads(text.strip().splitlines()[-1])
        entry["in_process"] = {**probe, "peak_mib": peak}
        for name in ("copy", "copy_psycopg", "command"):
            entry[name]["rows_per_second"] = entry[name]["rows"] / entry[name]["seconds"]
        entry["in_process"]["rows_per_second"] = probe["rows"] / probe["write_seconds"]
        say(f"    COPY {entry['copy']['seconds']:.1f} s, psycopg {entry['copy_psycopg']['seconds']:.1f} s, "
            f"command {entry['command']['seconds']:.1f} s ({entry['command']['peak_mib']:.0f} MiB), write_microdata "
            f"{probe['write_seconds']:.1f} s (reading {probe['read_seconds']:.1f} s, plan "
            f"{probe['plan_seconds']:.2f} s, writing {probe['rewrite_seconds']:.1f} s)")
        rounds.append(entry)
    say(f"  the same command for the rows from {small_from} (about {sizes.small_rows:,}), for memory ...")
    small_path = out / "microdata-small.csv"
    seconds, peak, _ = watched(flask_command("extract", "microdata", "--from", small_from, "--to", last,
                                             "-o", str(small_path)), env, log)
    small = {"seconds": seconds, "peak_mib": peak, "rows": _rows_written(f"{small_path}.manifest.json")}
    notes = json.loads(Path(f"{path}.manifest.json").read_text())["disclosure_control"]
    for leftover in ("copy.csv", "copy_psycopg.csv", "microdata-probe.csv", "microdata.csv", "microdata-small.csv"):
        (out / leftover).unlink(missing_ok=True)
    return {"first": first, "last": last, "rounds": rounds, "small": small, "notes": notes,
            "target_share": TARGET_COPY_SHARE}


# --- 3. XLSX ----------------------------------------------------------------------------------------------------

def xlsx_benchmark(env, sizes, first, last, out):
    log = LOGS / "xlsx.log"
    result = {"from": first, "to": last, "microdata": [], "full": []}
    for number in range(sizes.xlsx_runs):
        path = out / "microdata.xlsx"
        say(f"  `flask extract microdata --format xlsx --from {first} --to {last}` (run {number + 1}) ...")
        seconds, peak, _ = watched(flask_command("extract", "microdata", "--from", first, "--to", last, "--format",
                                                 "xlsx", "-o", str(path)), env, log)
        result["microdata"].append({"seconds": seconds, "peak_mib": peak, "bytes": path.stat().st_size,
                                    "rows": _rows_written(f"{path}.manifest.json")})
        path = out / "full.xlsx"
        say(f"  `flask extract full --format xlsx --from {first} --to {last} --by admin ...` (run {number + 1}) ...")
        seconds, peak, _ = watched(flask_command(
            "extract", "full", "--from", first, "--to", last, "--format", "xlsx", "--by", "admin",
            "--recipient", "Benchmark recipient", "--purpose", "Timing the full extract",
            "--agreement", "Benchmark only; the file is deleted", "-o", str(path)), env, log)
        result["full"].append({"seconds": seconds, "peak_mib": peak, "bytes": path.stat().st_size,
                               "rows": _rows_written(f"{path}.manifest.json")})
        say(f"    microdata {result['microdata'][-1]['seconds']:.1f} s, {result['microdata'][-1]['peak_mib']:.0f} MiB; "
            f"full {seconds:.1f} s, {peak:.0f} MiB")
    for name in ("microdata.xlsx", "full.xlsx"):
        (out / name).unlink(missing_ok=True)
    result.update(target_seconds=TARGET_XLSX_SECONDS, target_mib=TARGET_XLSX_MIB)
    return result


def first_day_for(pg, rows, last):
    """The first day from which about `rows` registrations of nationals run to `last` (the microdata's rows)."""
    found = pg_rows(pg, "SELECT day FROM (SELECT r.registered_on AS day, sum(count(*)) OVER (ORDER BY "
                        "r.registered_on DESC) AS running FROM registration r JOIN person p ON p.id = r.person_id "
                        "WHERE r.deleted_at IS NULL AND p.deleted_at IS NULL AND p.citizenship = 'ZW' "
                        "AND r.registered_on <= %s GROUP BY r.registered_on) AS days WHERE running >= %s "
                        "ORDER BY day DESC LIMIT 1", (last, rows))
    return found[0][0].isoformat() if found else None


def statistician_password(env, log):
    """`flask demo setup` again on this copy: it keeps the offices and targets and prints fresh passwords."""
    for line in flask(env, "demo", "setup", log=log).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "statistician":
            return parts[2]
    raise RuntimeError("`flask demo setup` printed no password for the statistician")


def keep_earlier(results, earlier):
    """After a run of some parts only: the other parts' results from the last run of the same size, each with
    when and how it was measured, so that the report still covers every part and says which came from where."""
    for part in ("tables", "microdata", "xlsx", "dashboard"):
        if part in results["parts"] or part not in earlier:
            continue
        results[part] = earlier[part]
        results.setdefault("load", {})[part] = earlier.get("load", {}).get(part)
        results.setdefault("earlier", {})[part] = earlier.get("earlier", {}).get(part) or {
            "date": earlier["machine"]["date"], "commit": earlier["machine"]["commit"],
            "command": earlier["command"]}
        results["notes"] += [note for note in earlier.get("notes", []) if note.endswith(f"the {part} part.")]


# --- main ---------------------------------------------------------------------------------------------------------

def main(argv=None):
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="python -m bench.statistics", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="20,000 registrations (a few minutes); writes to "
                                                             "bench/.work/statistics/benchmarks-quick.md")
    parser.add_argument("--only", choices=("tables", "microdata", "xlsx", "dashboard"), action="append",
                        help="run only this part (may be given more than once)")
    parser.add_argument("--rebuild", action="store_true", help="build the cached central database again")
    parser.add_argument("--keep-cache", action="store_true",
                        help="use the cached central database even if the demo generator or the migrations changed "
                             "since it was built")
    parser.add_argument("--output", help="the Markdown file whose statistics section is written")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="before each part, wait up to this long for other work on the machine to stop")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report again from the last run's saved results")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    parts = args.only or ["tables", "microdata", "xlsx", "dashboard"]
    output = ROOT / (args.output or ("bench/.work/statistics/benchmarks-quick.md" if args.quick
                                     else "docs/benchmarks.md"))
    saved = WORK / f"results-{mode}.json"
    if args.report_only:
        results = json.loads(saved.read_text())
        write_section(output, render(results))
        say(f"Wrote the statistics section of {output} from {saved}.")
        return 0
    for folder in (LOGS, RUNS):
        folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    argv_text = shlex.join(argv if argv is not None else sys.argv[1:])
    results = {"mode": mode, "command": f"python -m bench.statistics {argv_text}".strip(), "sizes": asdict(sizes),
               "machine": machine.describe(), "parts": parts, "notes": []}

    def settle(name):
        share = machine.wait_until_quiet(args.wait_quiet, say=say) if args.wait_quiet else None
        if share is not None and share > 0.15:
            results["notes"].append(f"Other work kept the machine {share:.0%} busy just before the {name} part.")

    say(f"Central with {sizes.registrations:,} registrations")
    folder, meta, reused = cached(sizes.registrations, rebuild=args.rebuild, keep=args.keep_cache, say=say)
    results["central"] = {**meta, "reused": reused}
    out = RUNS / "extracts"
    out.mkdir(parents=True, exist_ok=True)
    pg, start_seconds, upgrade_seconds = start(folder, LOGS / "start.log")
    try:
        results["central"].update(start_seconds=start_seconds, upgrade_seconds=upgrade_seconds,
                                  postgres=pg_rows(pg, "SHOW server_version")[0][0])
        settings = pg_rows(pg, "SELECT name, setting FROM pg_settings WHERE name IN ('work_mem', 'shared_buffers', "
                               "'max_parallel_workers_per_gather', 'jit', 'fsync', 'synchronous_commit')")
        results["central"]["settings"] = dict(settings)
        env = central_env(pg.url(DATABASE))
        last = date.fromisoformat(meta["last_day"])
        today = last  # the demo load ends on the day it ran: its "today"
        first = meta["first_day"]
        small_from = first_day_for(pg, sizes.small_rows, last.isoformat())
        results["today"] = today.isoformat()
        if "tables" in parts:
            settle("tables")
            say("Standard tables")
            with Part(results, "tables"):
                results["tables"] = tables_benchmark(env, sizes, today, out)
        if "microdata" in parts:
            settle("microdata")
            say(f"Microdata of every registration ({first} to {last.isoformat()}) against COPY")
            with Part(results, "microdata"):
                results["microdata"] = microdata_benchmark(pg, env, sizes, first, last.isoformat(), small_from, out)
        if "xlsx" in parts:
            settle("xlsx")
            say(f"XLSX of about {sizes.small_rows:,} rows")
            with Part(results, "xlsx"):
                results["xlsx"] = xlsx_benchmark(env, sizes, small_from, last.isoformat(), out)
        if "dashboard" in parts:
            settle("dashboard")
            say("Dashboard in Chromium")
            password = statistician_password(env, LOGS / "dashboard.log")
            with Part(results, "dashboard"):
                results["dashboard"] = dashboard_benchmark(env, password, sizes.warm_loads, say=say)
    finally:
        pg.stop()
    results["seconds"] = time.monotonic() - started
    if args.only and saved.exists():
        keep_earlier(results, json.loads(saved.read_text()))
    saved.write_text(json.dumps(results, indent=2, default=str))
    write_section(output, render(results))
    say(f"Wrote the statistics section of {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} "
        f"in {results['seconds'] / 60:.1f} minutes.")
    passed = all(verdicts(results).values())
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
