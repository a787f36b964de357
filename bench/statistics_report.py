"""The statistics section of docs/benchmarks.md, written from a run's results (rerun the benchmark to refresh it)."""
START, END = "<!-- statistics benchmark: begin -->", "<!-- statistics benchmark: end -->"


def _verdict(passed):
    return "pass" if passed else "**FAIL**"


def _f(value, digits=1):
    return "—" if value is None else f"{value:,.{digits}f}"


def _share(value):
    return "—" if value is None else f"{value:.0%}"


def _best(entry):
    return min(run["total"] for run in entry["runs"])


def _copy_share(microdata, extract="command"):
    """Rows per second of the extract as a share of plain COPY's, per round (same round, same rows)."""
    return [round_[extract]["rows_per_second"] / round_["copy"]["rows_per_second"] for round_ in microdata["rounds"]]


def _extract_rate(round_, extract):
    entry = round_[extract]
    return entry["rows"] / (entry["seconds"] if extract == "command" else entry["write_seconds"])


def verdicts(results):
    """Each target measured in this run: True when met."""
    found = {}
    tables = results.get("tables")
    if tables:
        found["tables"] = all(_best(entry) < tables["target_seconds"]
                              for period in (tables["year"], tables["quarter"])
                              for entry in tables["in_process"][period].values())
    microdata = results.get("microdata")
    if microdata:
        found["microdata speed"] = min(_copy_share(microdata)) >= microdata["target_share"]
        full_peak = max(r["command"]["peak_mib"] for r in microdata["rounds"])
        found["microdata memory"] = full_peak <= max(1.25 * microdata["small"]["peak_mib"],
                                                     microdata["small"]["peak_mib"] + 32)
    xlsx = results.get("xlsx")
    if xlsx:
        runs = xlsx["microdata"] + xlsx["full"]
        found["xlsx"] = all(r["seconds"] < xlsx["target_seconds"] and r["peak_mib"] * 1.048576 < xlsx["target_mib"]
                            for r in runs)
    dashboard = results.get("dashboard")
    if dashboard:
        found["dashboard"] = all((load["first_contentful_paint_ms"] or 1e9) < dashboard["target_ms"]
                                 for load in dashboard["cold"] + dashboard["warm"])
    return found


def _summary(results, passed):
    lines = ["| Target | Result | Verdict |", "|---|---|---|"]
    tables = results.get("tables")
    if tables:
        everything = [(period, name, _best(entry)) for period in (tables["year"], tables["quarter"])
                      for name, entry in tables["in_process"][period].items()]
        period, name, worst = max(everything, key=lambda item: item[2])
        over = sum(1 for *_, best in everything if best >= tables["target_seconds"])
        lines.append(f"| Every standard table ({len(everything) // 2} tables, year {tables['year']} and quarter "
                     f"{tables['quarter']}) computed and published in under {tables['target_seconds']:.0f} s "
                     f"(best of {len(next(iter(tables['in_process'][period].values()))['runs'])}) | slowest "
                     f"{worst:.2f} s ({name}, {period}); {over} of {len(everything)} at or over the target | "
                     f"{_verdict(passed['tables'])} |")
    microdata = results.get("microdata")
    if microdata:
        shares = _copy_share(microdata)
        rounds = microdata["rounds"]
        rows = rounds[0]["command"]["rows"]
        lines.append(f"| Pseudonymised microdata CSV of all {rows:,} rows at no less than "
                     f"{microdata['target_share']:.0%} of the rows per second of PostgreSQL's `COPY ... TO STDOUT` of "
                     f"the same columns, same run | `flask extract microdata` {_share(min(shares))} to "
                     f"{_share(max(shares))} of COPY's speed over {len(rounds)} rounds (in process: "
                     f"{_share(min(_copy_share(microdata, 'in_process')))} to "
                     f"{_share(max(_copy_share(microdata, 'in_process')))}) | {_verdict(passed['microdata speed'])} |")
        full_peak = max(r["command"]["peak_mib"] for r in rounds)
        lines.append(f"| ... in constant memory | peak {full_peak:.0f} MiB for {rows:,} rows, "
                     f"{microdata['small']['peak_mib']:.0f} MiB for {microdata['small']['rows']:,} | "
                     f"{_verdict(passed['microdata memory'])} |")
    xlsx = results.get("xlsx")
    if xlsx:
        for kind, label in (("microdata", "`extract microdata --format xlsx`"),
                            ("full", "`extract full --format xlsx`")):
            runs = xlsx[kind]
            met = all(r["seconds"] < xlsx["target_seconds"] and r["peak_mib"] * 1.048576 < xlsx["target_mib"]
                      for r in runs)
            lines.append(f"| XLSX of {runs[0]['rows']:,} rows, {label}: under {xlsx['target_seconds']:.0f} s and "
                         f"{xlsx['target_mib']:.0f} MB | slowest {max(r['seconds'] for r in runs):.1f} s, peak "
                         f"{max(r['peak_mib'] for r in runs):.0f} MiB | {_verdict(met)} |")
    dashboard = results.get("dashboard")
    if dashboard:
        cold = [load["first_contentful_paint_ms"] for load in dashboard["cold"]]
        warm = [load["first_contentful_paint_ms"] for load in dashboard["warm"]]
        drawn = [load["charts_drawn_ms"] for load in dashboard["cold"]]
        lines.append(f"| Dashboard's first paint under {dashboard['target_ms'] / 1000:.0f} s | cold "
                     f"{', '.join(_f(v, 0) for v in cold)} ms; warm worst {_f(max(warm), 0)} ms (all five charts "
                     f"drawn cold at {', '.join(_f(v / 1000, 1) for v in drawn)} s) | "
                     f"{_verdict(passed['dashboard'])} |")
    return lines + [""]


def _earlier(results):
    """{(command, date, commit): [parts]} for the parts whose results were kept from earlier runs."""
    runs = {}
    for part, earlier in (results.get("earlier") or {}).items():
        runs.setdefault((earlier["command"], earlier["date"], earlier["commit"]), []).append(part)
    return runs


def _machine(results):
    m, central = results["machine"], results["central"]
    settings = central.get("settings", {})
    load = results.get("load", {})
    parts = ", ".join(f"{name} {_f(entry['load_average_at_start'], 1)} ({_share(entry['busy_share'])} busy)"
                      for name, entry in load.items() if entry)
    built = (f"built {central['built_at']} with `flask db upgrade`, `flask demo setup` and `flask demo load "
             f"--registrations {central['registrations_loaded']:,}` (the load took "
             f"{central['load_seconds'] / 60:.1f} minutes), then VACUUM ANALYZE")
    upgrades = central.get("upgrades") or []
    if upgrades:
        built += (f"; brought to the current migrations once since ({upgrades[-1]['at']}, "
                  f"{upgrades[-1]['seconds'] / 60:.1f} minutes)")
    if central.get("kept"):
        built += (f"; kept (`--keep-cache`) although {' and '.join(central['kept'])} changed since, so this run's "
                  "copy was brought to the current schema by `flask db upgrade` alone")
    lines = [
        "### Machine and run", "",
        "| | |", "|---|---|",
        f"| Date | {m['date']} |",
        f"| CPU | {m['cpu']}, **{m['cores']} cores**, shared with other engineers' work (load below) |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python; SQLAlchemy, Flask, gunicorn | {m['python']}; {m['sqlalchemy']}, {m['flask']}, {m['gunicorn']} |",
        f"| PostgreSQL | {central.get('postgres', '—')}: a throwaway server on 127.0.0.1, `fsync=off`, "
        f"`synchronous_commit=off`, otherwise default settings (work_mem {settings.get('work_mem', '—')} kB, "
        f"shared_buffers {settings.get('shared_buffers', '—')} × 8 kB, max_parallel_workers_per_gather "
        f"{settings.get('max_parallel_workers_per_gather', '—')}, jit {settings.get('jit', '—')}) |",
        f"| Data | {central['registrations']:,} registrations ({central['first_day']} to {central['last_day']}) of "
        f"{central['people']:,} people, {central['referrals']:,} referrals ({central['placements']:,} placements), "
        f"{central['services']} services, {central['vacancies']} vacancies; {built}. Kept in "
        "bench/.work/statistics/cache/; each run starts PostgreSQL on a copy "
        f"({_f(central.get('start_seconds'), 0)} s) and runs `flask db upgrade` and ANALYZE on it |",
        f"| Code | commit {m['commit']} |",
        f"| Command | `{results['command']}` ({results['mode']} run, {results['seconds'] / 60:.1f} minutes) |",
        *(f"| Kept from an earlier run | {', '.join(parts)}: `{command}`, {date}, commit {commit} |"
          for (command, date, commit), parts in _earlier(results).items()),
        f"| Load average at the start of each part (busy share of both cores during it, ours included) | {parts} |",
        "",
    ]
    if central.get("note"):
        lines += [f"Note on the data: {central['note']}", ""]
    return lines


def _tables(tables):
    year, quarter = tables["year"], tables["quarter"]
    lines = [
        "### 1. Standard tables", "",
        f"Each table computed (`tables.compute`: one query) and published (`publish.publish`: disclosure control "
        f"and labels) in one process, {len(next(iter(tables['in_process'][year].values()))['runs'])} times in a "
        "row; the best counts for the target, every run is shown. The command column is one "
        f"`flask --app wsgi extract TABLE --period {year} --format xlsx -o FILE` from start to exit, which adds "
        f"starting Python and the app (`flask extract list` alone: "
        f"{', '.join(_f(s, 2) for s in tables['startup_seconds'])} s), writing the file and its manifest, and the "
        "audit record.", "",
        f"| Table | Counted ({year}) | Runs {year} (s) | Best | Cells hidden | Runs {quarter} (s) | Best | Command, "
        f"{year} | Verdict |",
        "|---|---:|---|---:|---:|---|---:|---:|---|",
    ]
    for name, entry in tables["in_process"][year].items():
        other = tables["in_process"][quarter][name]
        best = max(_best(entry), _best(other))
        command = tables["commands"].get(name, {}).get("seconds")
        lines.append(
            f"| `{name}` | {entry['counted']:,} {entry['unit']} | "
            f"{', '.join(_f(r['total'], 2) for r in entry['runs'])} | {_best(entry):.2f} | {entry['suppressed']} | "
            f"{', '.join(_f(r['total'], 2) for r in other['runs'])} | {_best(other):.2f} | {_f(command, 2)} s | "
            f"{_verdict(best < tables['target_seconds'])} |")
    publish = max(r["publish"] for period in (year, quarter) for e in tables["in_process"][period].values()
                  for r in e["runs"])
    lines += ["", f"Publishing (disclosure control, labels) took at most {publish * 1000:.0f} ms of any run; the "
                  "rest is the counting query.", ""]
    return lines


def _microdata(microdata):
    lines = [
        "### 2. Microdata against COPY", "",
        f"All registrations of nationals from {microdata['first']} to {microdata['last']}, as the pseudonymised, "
        "k-anonymous microdata CSV. Each round runs, one after the other on the same database: "
        "(a) `psql -c \"COPY (SELECT the same eleven columns as stored: person id, date of registration, office, "
        "status, sex, date of birth, home province, destination, occupation, education, industry; same join and "
        "conditions) TO STDOUT WITH (FORMAT csv)\" > FILE`; (b) the same COPY read by psycopg in Python and "
        "written to a file, as the extract reads its own; (c) `flask --app wsgi extract microdata --from ... --to "
        "... -o FILE`, start to exit, its peak memory polled every 20 ms (VmHWM); (d) `write_microdata` called in "
        "a process already running, as the web page does, with its three steps in brackets: reading the rows "
        "(COPY into a temporary file, counting the classes of quasi-identifiers), the plan (choosing the "
        "generalisation), writing the extract from the temporary file. The target compares (c) with (a), the "
        "plainest and fastest COPY.",
        "",
        "| Round | (a) COPY, psql | (b) psycopg | (c) `extract microdata` | (c) / (a) | (c) peak memory "
        "| (d) write_microdata (reading, plan, writing) | (d) / (a) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, r in enumerate(microdata["rounds"], 1):
        copy, command, probe = r["copy"], r["command"], r["in_process"]
        psycopg = r.get("copy_psycopg")
        steps = (f"{_f(probe.get('read_seconds'))}, {_f(probe.get('plan_seconds'), 2)}, "
                 f"{_f(probe.get('rewrite_seconds'))} s")
        lines.append(
            f"| {number} | {copy['seconds']:.1f} s ({copy['rows_per_second']:,.0f} rows/s) | "
            f"{_f(psycopg and psycopg['seconds'])} s | {command['seconds']:.1f} s "
            f"({command['rows_per_second']:,.0f} rows/s) | "
            f"{command['rows_per_second'] / copy['rows_per_second']:.0%} | "
            f"{command['peak_mib']:.0f} MiB | {probe['write_seconds']:.1f} s ({steps}) | "
            f"{probe['rows_per_second'] / copy['rows_per_second']:.0%} |")
    first = microdata["rounds"][0]
    small = microdata["small"]
    lines += [
        "",
        f"Rows: {first['command']['rows']:,} in every extract and COPY ({first['copy']['rows']:,}); the extract's "
        f"file is {first['command']['bytes'] / 1e6:.0f} MB, COPY's {first['copy']['bytes'] / 1e6:.0f} MB. "
        f"Disclosure control applied: {microdata['notes']}", "",
        f"Memory: the same command for {small['rows']:,} rows (the last days of the data) peaked at "
        f"{small['peak_mib']:.0f} MiB in {small['seconds']:.1f} s; for all {first['command']['rows']:,} rows at "
        f"{max(r['command']['peak_mib'] for r in microdata['rounds']):.0f} MiB (the target counts as met when the "
        "full run peaks within 25% or 32 MiB of the small one).", ""]
    return lines


def _xlsx(xlsx):
    lines = [
        "### 3. XLSX of 100,000 rows", "",
        f"Registrations from {xlsx['from']} to {xlsx['to']} (about 100,000 of nationals: the microdata's rows; "
        "the full extract also has foreigners' registrations). Both commands write the rows into the XLSX file as "
        "they come (registry/statistics/xlsx.py), then a metadata sheet; timed from start to exit, peak memory "
        "polled every 20 ms.", "",
        "| Extract | Run | Rows | Time | Peak memory | File |", "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, label in (("microdata", "`extract microdata --format xlsx` (11 columns)"),
                        ("full", "`extract full --format xlsx` (22 columns, personal data)")):
        for number, r in enumerate(xlsx[kind], 1):
            lines.append(f"| {label} | {number} | {r['rows']:,} | {r['seconds']:.1f} s | {r['peak_mib']:.0f} MiB | "
                         f"{r['bytes'] / 1e6:.1f} MB |")
    return lines + [""]


def _dashboard(dashboard):
    lines = [
        "### 4. Dashboard", "",
        f"Central under `gunicorn {dashboard['gunicorn']}` on 127.0.0.1; Chromium "
        f"{dashboard.get('browser_version', '')} "
        "(Debian's, driven by Playwright, 1366×768) logged in as the statistician opens /statistics/dashboard. The "
        "page's frame is sent at once and each of the five charts fetches its figures; each gunicorn worker keeps "
        "figures for five minutes. Cold: the first load after gunicorn (re)started, nothing kept; warm: the loads "
        "after it, in the same browser (with two workers, a warm request can still reach the worker that has not "
        "computed that chart yet). Times from the page's Performance API, from the start of the navigation.", "",
        "| Load | First contentful paint | DOMContentLoaded | Figures fetched (last chart JSON) "
        "| All five charts drawn "
        "| Verdict (first paint < 1 s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    loads = [(f"cold {n}", load) for n, load in enumerate(dashboard["cold"], 1)]
    loads += [(f"warm {n} (after cold {load.get('after_cold', '')})", load)
              for n, load in enumerate(dashboard["warm"], 1)]
    for label, load in loads:
        lines.append(f"| {label} | {_f(load['first_contentful_paint_ms'], 0)} ms | "
                     f"{_f(load['dom_content_loaded_ms'], 0)} ms | {_f(load['chart_requests_ms'], 0)} ms | "
                     f"{_f(load['charts_drawn_ms'], 0)} ms | "
                     f"{_verdict((load['first_contentful_paint_ms'] or 1e9) < dashboard['target_ms'])} |")
    cold = dashboard["cold"][0]
    slowest = max(cold["charts"], key=lambda c: c["ms"], default=None)
    if slowest:
        lines += ["", "Chart figures on the first cold load (request duration as the browser saw it): "
                  + ", ".join(f"`{c['url'].rsplit('/', 1)[-1]}` {c['ms']:.0f} ms" for c in cold["charts"]) + "."]
    if dashboard.get("page_errors"):
        lines += ["", f"Errors on the page: {'; '.join(dashboard['page_errors'])}"]
    return lines + [""]


def _median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def observations(results):
    """What the numbers say, worked out from them (so a rerun keeps the text true)."""
    found = []
    tables = results.get("tables")
    if tables:
        year, quarter = tables["year"], tables["quarter"]
        person_level = [name for name, e in tables["in_process"][year].items() if e["unit"] == "persons"
                        and not name.startswith("returning")]
        best_year = _median([_best(tables["in_process"][year][n]) for n in person_level])
        best_quarter = _median([_best(tables["in_process"][quarter][n]) for n in person_level])
        found.append(
            f"Tables of registered outbound migrant workers take {best_year:.2f} s for the year (median of the "
            f"{len(person_level)}) and {best_quarter:.2f} s for a quarter: a quarter has a quarter of the rows but "
            "both tables are still read whole (registrations and people joined, then each person's latest "
            "registration kept with `DISTINCT ON` and one sort), so the time does not fall in proportion. The age "
            "group is worked out once a row (`width_bucket` over the ages, not a CASE that computes the age again "
            "for every band it tries). Referral and placement tables count a few hundred thousand rows without a "
            "join to people and take a tenth of a second.")
    microdata = results.get("microdata")
    if microdata:
        rounds = microdata["rounds"]
        copy = _median([r["copy"]["seconds"] for r in rounds])
        psycopg = _median([r["copy_psycopg"]["seconds"] for r in rounds])
        read = _median([r["in_process"]["read_seconds"] for r in rounds])
        plan = _median([r["in_process"]["plan_seconds"] for r in rounds])
        rewrite = _median([r["in_process"]["rewrite_seconds"] for r in rounds])
        write = _median([r["in_process"]["write_seconds"] for r in rounds])
        command = _median([r["command"]["seconds"] for r in rounds])
        startup = min((tables or {}).get("startup_seconds") or [0])
        found.append(
            f"Where the microdata's time goes (medians): the plain COPY took {copy:.1f} s, {psycopg:.1f} s when "
            "read by psycopg. The extract reads the rows once, by one COPY that also hashes each person's id "
            "(SHA-256 of the secret and the id: a microsecond a row, the most of PostgreSQL's work here, spread "
            "over its parallel workers) and works out the age group; the rows go into a temporary file while the "
            f"classes of quasi-identifiers are counted: {read:.1f} s. Choosing the generalisation from those "
            f"counts took {plan:.2f} s, and writing the extract from the temporary file (each row's six values "
            f"replaced by its class's published ones, in bulk) {rewrite:.1f} s: write_microdata {write:.1f} s in "
            f"all. The command took {command:.1f} s, which adds starting Python and the app "
            f"({startup:.1f} s for `flask extract list`).")
        small, full = microdata["small"]["peak_mib"], max(r["command"]["peak_mib"] for r in rounds)
        app = (tables or {}).get("startup_peak_mib")
        found.append(
            f"Memory: the rows go from COPY into the temporary file and from it into the extract a megabyte at a "
            f"time and are never held. The command "
            f"peaked at {small:.0f} MiB for {microdata['small']['rows']:,} rows and {full:.0f} MiB for all of them"
            + (f"; the app alone (`flask extract list`) peaks at {app:.0f} MiB" if app else "")
            + ". What grows is the table of quasi-identifier combinations (tens of thousands at a million "
            "rows) and what is published for each, which are bounded by the code lists, not by the number of rows.")
    xlsx = results.get("xlsx")
    if xlsx:
        found.append(
            "Both XLSX extracts are written by registry/statistics/xlsx.py, which streams each sheet's XML into the "
            "zip file a thousand rows at a time in the form openpyxl writes (inline strings, dates as serial "
            "numbers with a yyyy-mm-dd format). openpyxl's own write-only workbook, without lxml, builds and "
            "serialises an element tree for every cell in Python; with it the same extracts took 36-39 s "
            "(microdata) and 47-50 s (full extract) when measured on this machine on 2026-11-24.")
    dashboard = results.get("dashboard")
    if dashboard:
        cold = [load["charts_drawn_ms"] / 1000 for load in dashboard["cold"]]
        found.append(
            f"The dashboard's frame paints at once; the five charts' figures come afterwards, each counting "
            f"twelve months of registrations (about half a million) on first use, so the last chart was drawn "
            f"{min(cold):.1f}-{max(cold):.1f} s after a cold start. Each gunicorn worker keeps its own figures "
            "for five minutes: a warm load whose requests reach the worker that has not computed a chart yet "
            "waits for it once more.")
    return found


def render(results):
    passed = verdicts(results)
    lines = [START, "## Statistics and extracts", "",
             f"Generated by `{results['command']}` ({results['mode']} run, {results['machine']['date']}); rerun it "
             "to refresh this section rather than editing it. `python -m bench.statistics --quick` is a smaller run "
             "that writes to bench/.work/statistics/ instead. Central's PostgreSQL holds "
             f"{results['central']['registrations']:,} registrations loaded by the demo command.", ""]
    lines += _summary(results, passed)
    lines += _machine(results)
    if results.get("tables"):
        lines += _tables(results["tables"])
    if results.get("microdata"):
        lines += _microdata(results["microdata"])
    if results.get("xlsx"):
        lines += _xlsx(results["xlsx"])
    if results.get("dashboard"):
        lines += _dashboard(results["dashboard"])
    found = observations(results)
    if found or results.get("notes"):
        lines += ["### Observations", ""]
        lines += [f"- {text}" for text in found + results.get("notes", [])]
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(path, section):
    """Replace the statistics section of `path` (or add it at the end, or create the file), leaving everything
    else as it is."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text and text.index(START) < text.index(END):
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
