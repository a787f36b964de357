"""docs/benchmarks.md, written from a run's results (never edited by hand: rerun the benchmarks instead)."""
import re
from collections import Counter


def _ms(value):
    return "—" if value is None else f"{value:.1f}"


def _verdict(passed):
    return "pass" if passed else "**FAIL**"


def _share(value):
    return "—" if value is None else f"{value:.0%}"


def _machine(results):
    m = results["machine"]
    return [
        "### Machine and run", "",
        "| | |", "|---|---|",
        f"| Date | {m['date']} |",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| SQLite | {m['sqlite']} |",
        f"| SQLAlchemy, Flask, gunicorn | {m['sqlalchemy']}, {m['flask']}, {m['gunicorn']} |",
        f"| Code | commit {m['commit']} |",
        f"| Command | `{results['command']}` ({results['mode']} run, {results['seconds'] / 60:.1f} minutes "
        "including database preparation) |",
        "",
        "Clients and server share the machine, so client work counts against the server's CPU. "
        "Databases are SQLite files built with the app's own commands (`flask db upgrade`, `flask demo setup`, "
        "`flask users create`, `flask demo load`) and each run works on a fresh copy.",
        "",
    ]


def _summary(results):
    lines = ["| Benchmark | Target | Result | Verdict |", "|---|---|---|---|"]
    reg = results.get("registration")
    if reg:
        lines.append(
            f"| Registration, POST /registrations/new, {reg['clients']} concurrent clients, "
            f"{reg['stored_registrations']:,} stored | p95 < {reg['target_p95_ms']} ms, no errors | "
            f"p95 {_ms(reg['latency']['p95'])} ms, {reg['per_second']:.1f} registrations/s, {reg['errors']} errors "
            f"| {_verdict(reg['passed'])} |")
    search = results.get("search")
    if search:
        for path, name in (("http", "through HTTP"), ("direct", "with search_people directly")):
            kinds = search[path]
            worst = max(kinds.values(), key=lambda k: k["latency"]["p95"] or 0)
            failed = sum(not k["passed"] for k in kinds.values())
            lines.append(
                f"| Search {name}, {search['people']:,} people, {len(kinds)} kinds of query | "
                f"p95 < {search['target_p95_ms']} ms for every kind; the person sought found | "
                f"worst p95 {_ms(worst['latency']['p95'])} ms ({worst['label']}); {failed} of {len(kinds)} "
                f"kinds miss a target | {_verdict(failed == 0)} |")
    return lines + [""]


def _registration_row(phase, target, verdict):
    lat = phase["latency"]
    return (f"| {phase['clients']} | {phase['succeeded']:,} of {phase['attempted']:,} | {phase['errors']} | "
            f"{phase['seconds']:.1f} s | {phase['per_second']:.1f} | {_ms(lat['p50'])} | {_ms(lat['p95'])} | "
            f"{_ms(lat['p99'])} | {_ms(lat['max'])} | {_ms(phase['server_cpu_ms_per_post'])} | "
            f"{_share(phase['cpu_busy_share'])} | {_share(phase['other_cpu_share'])} | {target} | {verdict} |")


def _registration(reg):
    single = reg["single"]
    lines = [
        "### 1. Registration through the HTTP stack", "",
        f"`{reg['server']} -b 127.0.0.1:PORT wsgi:app` on SQLite holding {reg['stored_registrations']:,} "
        f"registrations ({reg['stored_people']:,} people). {reg['clients']} client threads, each its own logged-in "
        "session, POST complete new-registration forms back to back (a new person "
        "each: unique national ID, a name and birth date drawn like the demo data's, the similar-name warning "
        f"overridden). Each client first sends {reg['warmup_posts'] // max(reg['clients'], 1)} untimed warm-up "
        "POSTs. Only the POST round trip is timed; any response but a 302 to the new registration counts as an "
        "error. Then one client alone repeats the exercise on the same server, for comparison. SQLite lets one "
        "connection write at a time; the app queues concurrent saves for it in arrival order, across threads and "
        "processes (registry/core/sqlite.py). The gunicorn settings are those docs/operations.md gives for an office "
        "on Linux.", "",
        *[f"Database preparation: {note}.\n" for note in reg.get("database_notes", [])],
        "| Clients | Measured POSTs | Errors | Time | Registrations/s | p50 ms | p95 ms | p99 ms | max ms "
        "| Server CPU ms per POST | Machine busy (ours) | Machine busy (others) | Target | Verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        _registration_row(reg, f"p95 < {reg['target_p95_ms']} ms, no errors", _verdict(reg["passed"])),
        _registration_row(single, "(comparison)", "—"),
        "",
        f"Registrations in the database afterwards: {reg['stored_after']:,}; expected (stored + every 302, "
        f"warm-up included): {reg['stored_expected']:,} — "
        + ("they agree." if reg["stored_after"] == reg["stored_expected"] else "**they differ.**"),
        "",
        f"Server CPU is that of the gunicorn master and workers over the measured phase, divided by the POSTs; "
        f"CPU alone would allow about {1000 * reg['cores'] / reg['server_cpu_ms_per_post']:.0f} registrations/s on "
        f"these {reg['cores']} cores. "
        + ("Each request came on a new connection (the server keeps none alive), so gunicorn's workers shared "
           "the clients request by request. " if "--keep-alive 0" in reg["server"] else
           f"Client connections held by each worker when the {reg['clients']} clients began: "
           f"{', '.join(str(n) for n in reg['connections_per_worker'])} (gunicorn keeps a keep-alive connection "
           "with the worker that accepted it). ")
        + "The machine was "
        f"{_share(reg['busy_before'])} busy with other work just before the run.",
        "",
    ]
    errors = Counter(dict(reg["error_kinds"])) + Counter(dict(single["error_kinds"]))
    if errors:
        lines += ["Errors by kind (warm-up included):", "", "| Count | Status and message |", "|---:|---|"]
        lines += [f"| {count} | {text.replace('|', '/')} |" for text, count in errors.most_common()]
        lines.append("")
    return lines


def _search_table(kinds, target):
    lines = [
        "| Query | Queries | p50 ms | p95 ms | p99 ms | max ms | Person sought found | Results, mean / max "
        "| Precision | Recall | Errors | Verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind in kinds.values():
        lat = kind["latency"]
        found = _share(kind["found_share"]) + ("" if kind["must_find"] else " (not required)")
        results = "—" if kind["mean_results"] is None else f"{kind['mean_results']:.1f} / {kind['max_results']}"
        lines.append(f"| {kind['label']} | {lat['count']} | {_ms(lat['p50'])} | {_ms(lat['p95'])} | {_ms(lat['p99'])} "
                     f"| {_ms(lat['max'])} | {found} | {results} | {_share(kind.get('precision'))} "
                     f"| {_share(kind.get('recall'))} | {kind['errors']} | {_verdict(kind['passed'])} |")
    return lines + [
        "",
        f"Target: p95 < {target} ms for every kind; for ID, passport and name with birth date the person the query "
        "was built from must be among the results. Precision: the share of the people listed who are right answers "
        "(that ID or passport; that exact name, and birth date where given; for a surname alone, surnames starting "
        "with it). Recall: how many of the right answers stored made it into the list, out of as many as fit on it "
        "(at most 50). Both are averaged over the queries.",
    ]


def _search(search):
    lines = [
        f"### 2. Search at {search['people']:,} people", "",
        f"SQLite holding {search['people']:,} people and {search['registrations']:,} registrations. For each kind of "
        f"query, {search['queries_per_kind']} stored people are picked at random (fixed seed) and the query is "
        f"built from their data; {search['warmup_queries']} more queries per kind run first, untimed. One client, "
        f"one query at a time. The machine was {_share(search['busy_before'])} busy with other work just before; "
        f"{_share(search['machine_busy_http'])} busy (this benchmark included) during the HTTP queries and "
        f"{_share(search['machine_busy_direct'])} during the direct ones.", "",
        *[f"Database preparation: {note}.\n" for note in search.get("database_notes", [])],
        f"#### Through HTTP (`{search['server']}`, GET /people/?q=...&dob=...)", "",
        "Timed from sending the request to reading the whole results page; the page lists at most 50 people.", "",
    ]
    lines += _search_table(search["http"], search["target_p95_ms"])
    lines += ["", "#### Directly (registry.people.services.search_people in an app context)", ""]
    lines += _search_table(search["direct"], search["target_p95_ms"])
    return lines + [""]


def _registration_notes(reg):
    notes = []
    connections = reg.get("connections_per_worker") or []
    if len(connections) > 1 and connections[0] > -(-reg["clients"] // len(connections)):
        notes.append(f"One gunicorn worker held {connections[0]} of the {reg['clients']} client connections, so its "
                     "threads (one Python interpreter, one core at a time) served most of the load while the other "
                     f"worker{'s' if len(connections) > 2 else ''} held {', '.join(map(str, connections[1:]))}.")
    single = reg["single"]
    if single["latency"]["p95"] and reg["latency"]["p95"] and reg["latency"]["p95"] > 3 * single["latency"]["p95"]:
        gain = reg["per_second"] / single["per_second"] - 1 if single["per_second"] else 0
        added = f"added {gain:.0%} throughput" if gain >= 0.05 else "added no throughput"
        notes.append(f"{reg['clients']} clients got {reg['per_second']:.0f} registrations/s at p95 "
                     f"{reg['latency']['p95']:.0f} ms; one client alone got {single['per_second']:.0f}/s at p95 "
                     f"{single['latency']['p95']:.0f} ms. Concurrency {added} while each POST "
                     f"cost the server about {reg['server_cpu_ms_per_post']:.0f} ms of CPU either way: under load a "
                     "registration mostly waits (for a worker thread, the interpreter lock or the database's write "
                     "lock) rather than works.")
    return notes


def _observations(results):
    notes = []
    reg = results.get("registration")
    if reg:
        notes += _registration_notes(reg)
    for name in ("registration", "search"):
        part = results.get(name)
        if part and ((part.get("busy_before") or 0) > 0.15 or (part.get("other_cpu_share") or 0) > 0.15):
            notes.append(f"Other work kept the machine busy during the {name} benchmark (see above): its "
                         "latencies are higher and noisier than on a machine of its own.")
    if reg and (reg["errors"] or reg["single"]["errors"]):
        notes.append(f"{reg['errors'] + reg['single']['errors']} registration POSTs did not answer with a 302; "
                     "see the error table above.")
    search = results.get("search")
    if search:
        gaps = [search["http"][k]["latency"]["p50"] - search["direct"][k]["latency"]["p50"] for k in search["direct"]
                if search["http"][k]["latency"]["p50"] is not None and search["direct"][k]["latency"]["p50"] is not None]
        if gaps and min(gaps) > 50:
            notes.append(f"Every kind of query took at least {min(gaps):.0f} ms longer (at the median) through HTTP "
                         "than directly, the passport lookup that takes about a millisecond included: that time is "
                         "spent on the page around the search, not in the search.")
        # Result quality is the service's: observed directly, and flagged if the pages listed other people.
        for kind_name, kind in search["direct"].items():
            page = search["http"][kind_name]
            if any(page[k] != kind[k] for k in ("found_share", "precision", "recall", "mean_results")):
                notes.append(f"{kind['label']}: the results page listed other people than search_people returned "
                             "(compare the two tables).")
            if (kind_name.startswith("id") or kind_name == "passport") and (kind["mean_results"] or 0) > 1.05:
                notes.append(f"{kind['label']}: {kind['mean_results']:.1f} people listed per query on average "
                             f"(at most {kind['max_results']}), though the number identifies one person; "
                             f"precision {kind['precision']:.0%}.")
            if kind["must_find"] and kind["found_share"] is not None and kind["found_share"] < 1:
                examples = "; ".join(f"`{q}`" for q in kind.get("missed_examples", []))
                notes.append(f"{kind['label']}: the person sought was missing from {1 - kind['found_share']:.0%} "
                             f"of the result lists (for example {examples}).")
            if kind.get("recall") is not None and kind["recall"] < 0.9:
                notes.append(f"{kind['label']}: the list held only {kind['recall']:.0%} of the right answers it had "
                             f"room for, though they were stored; {kind['precision']:.0%} of the people listed had "
                             "the name typed.")
    if not notes:
        return []
    return ["### Observations", ""] + [f"- {note}" for note in notes] + [""]


BEGIN, END = "<!-- registration and search benchmark: begin -->", "<!-- registration and search benchmark: end -->"


def render(results):
    """This benchmark's section of docs/benchmarks.md, between its markers."""
    lines = [
        BEGIN,
        "## Registration and search", "",
        f"Generated by `{results['command']}` (`make bench`) from the run described below; rerun it to refresh this "
        "section rather than editing it. `python -m bench --quick` is a smaller run for trying a change and writes "
        "to bench/.work/ instead.", "",
    ]
    lines += _summary(results)
    lines += _machine(results)
    if results.get("registration"):
        lines += _registration(results["registration"])
    if results.get("search"):
        lines += _search(results["search"])
    lines += _observations(results)
    return "\n".join(lines).rstrip() + "\n" + END + "\n"


def write_section(path, section):
    """Put the section between its markers (first on a new page); leave the other benchmarks' sections alone."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        before, rest = text.split(BEGIN, 1)
        text = before + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        # Before the first other section, so this page opens with the registration and search figures.
        others = [match.start() for match in re.finditer(r"<!-- .*?: ?(?:begin|start) -->", text)]
        at = min(others) if others else len(text)
        head, tail = text[:at].rstrip("\n"), text[at:]
        text = head + "\n\n" + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
