"""Registration slips per second, against a bare ReportLab page with the same text and QR code.

    python -m bench.slips [--quick] [--output FILE] [--check]

Measures, in one run:
1. `render_slip`, one PDF per slip, against two bare pages drawn with ReportLab's canvas alone: the same
   strings at fixed places, the same embedded font, and the QR code either drawn from the same module matrix
   (the floor: nothing but text and squares) or made by ReportLab's own QR widget. Runs are interleaved so
   both see the same machine. Target: `render_slip` at least 50% of the bare page's speed.
2. `render_batch` of 1,000 slips into one PDF.
3. The whole batch as an operator runs it: `flask slips batch --office BBR --date DAY` on a SQLite office
   database holding 1,000 registrations of that day (signing, recording each print and its audit event,
   drawing, writing the file), timed as a separate process. Target: under 10 seconds.

Writes its own section of docs/benchmarks.md (between the markers below), leaving the rest of the page alone.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date
from io import BytesIO

from bench.machine import ROOT, busy_share, cpu_times, describe, wait_until_quiet
from bench.stats import summarise

WORK = ROOT / "bench" / ".work" / "slips"
BEGIN, END = "<!-- slips benchmark: begin -->", "<!-- slips benchmark: end -->"
DAY = date(2026, 3, 10)
BATCH = 1000
TARGET_SHARE = 0.5
TARGET_BATCH_SECONDS = 10.0
SURNAMES = ("Moyo", "Ncube", "Nemaṱhaṅwe", "Muñoz", "Sibanda", "Dube", "Mutasa", "Gumede", "Ŵeta", "Chikore")
GIVEN = ("Tendai", "João", "Ṱhivhulawi", "Rudo", "Nokuthula", "Farai", "Thandiwe", "Ñasha", "Blessing", "Tatenda")


def say(message):
    print(message, flush=True)


def contents(count, seed=7):
    """`count` different slips, as the service would hand them to render_slip, signed with a fresh key."""
    from registry.slips.payload import SlipFields, SlipPayload, fields_digest, key_id_of, new_key_pair, sign
    from registry.slips.render import SlipContent

    rng = random.Random(seed)
    private, public = new_key_pair()
    made = []
    for n in range(count):
        number = f"BBR-2026-{n + 1:06d}-{rng.choice('ABCDEFGHJK0123456789')}"
        surname, given = rng.choice(SURNAMES), f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}"
        born = date(1970 + rng.randrange(35), 1 + rng.randrange(12), 1 + rng.randrange(28))
        fields = SlipFields(number, surname, given, born, rng.choice("FM"), "ZA", "ZA-LP", "9211", "BBR", DAY,
                            "t.moyo")
        payload = sign(SlipPayload(key_id_of(public), "BBR", number, DAY, n % 3, n % 17 == 0,
                                   fields_digest(fields)), private)
        made.append(SlipContent(
            registration_number=number, surname=surname, given_names=given, date_of_birth=born, sex=fields.sex,
            destination="South Africa, Limpopo", destination_country="ZA", occupation="9211 — Crop farm labourers",
            office="BBR — Labour Migration Centre, Beitbridge", registered_on=DAY, officer="t.moyo",
            printed_on=DAY, copy_number=payload.copy_number, cancelled=payload.cancelled,
            short_code=payload.short_code, qr_text=payload.text(), language="sn",
            helpline="Labour helpline 0800 123 123 (free)\nIOM Beitbridge +263 286 22 451",
            office_address="Old Customs Building, Beitbridge", office_phone="+263 286 22 001"))
    return made


def _bare_lines(content):
    """The strings a slip shows, as render_slip draws them (labels in both languages, rights, help)."""
    from registry.slips import labels as L
    from registry.slips.render import _fields

    labels = L.Labels(content.language)
    lines = [labels.joined(L.TITLE), labels.joined(L.NUMBER), content.registration_number]
    if content.copy_number:
        lines.append(labels.joined(L.COPY, number=content.copy_number))
    if content.cancelled:
        lines += [labels.joined(L.CANCELLED), labels.joined(L.CANCELLED_NOTE, separator=" ")]
    for label, second, value in _fields(content, labels):
        lines += [label if second is None else f"{label} / {second}", value]
    lines += [labels.joined(L.SHORT_CODE), content.short_code, labels.joined(L.RIGHTS)]
    for line in L.RIGHTS_LINES:
        lines += [line, labels.second(line)]
    lines += [labels.joined(L.HELP), *content.helpline.splitlines(), content.office_address, content.office_phone,
              L.VERIFY_NOTE, labels.second(L.VERIFY_NOTE)]
    return [line for line in lines if line]


def bare_page(content, lines, qr="matrix"):
    """A bare A4 page: the same strings, one per line at fixed places, the same font, and the QR code."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from registry.slips.fonts import register_fonts
    from registry.slips.render import _draw_qr, qr_symbol

    regular, bold = register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=regular)
    y = A4[1] - 20 * mm
    for number, line in enumerate(lines):
        canvas.setFont(bold if number % 2 else regular, 9)
        canvas.drawString(18 * mm, y, line)
        y -= 11.5
    if qr == "matrix":
        _draw_qr(canvas, A4[0] - 60 * mm, A4[1] - 20 * mm, qr_symbol(content.qr_text), 0.8 * mm)
    else:
        widget = QrCodeWidget(content.qr_text, barLevel="M", barWidth=40 * mm, barHeight=40 * mm)
        drawing = Drawing(40 * mm, 40 * mm)
        drawing.add(widget)
        renderPDF.draw(drawing, canvas, A4[0] - 60 * mm, A4[1] - 60 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def measure_single(slips, rounds, say=say):
    """Interleaved: each round renders every slip with render_slip and as both bare pages."""
    from registry.slips.render import render_slip

    lines = [_bare_lines(content) for content in slips]
    timings = {"render_slip": [], "bare_matrix": [], "bare_widget": []}
    sizes = {"render_slip": [], "bare_matrix": []}
    render_slip(slips[0], "a4"), bare_page(slips[0], lines[0]), bare_page(slips[0], lines[0], qr="widget")  # warm
    widget_every = 5  # ReportLab's QR widget is slow: sample it on every fifth slip
    before = cpu_times()
    for _ in range(rounds):
        for index, content in enumerate(slips):
            start = time.perf_counter()
            pdf = render_slip(content, "a4")
            timings["render_slip"].append(time.perf_counter() - start)
            sizes["render_slip"].append(len(pdf))
            start = time.perf_counter()
            pdf = bare_page(content, lines[index])
            timings["bare_matrix"].append(time.perf_counter() - start)
            sizes["bare_matrix"].append(len(pdf))
            if index % widget_every == 0:
                start = time.perf_counter()
                bare_page(content, lines[index], qr="widget")
                timings["bare_widget"].append(time.perf_counter() - start)
    busy = busy_share(before, cpu_times())
    receipts = []
    for content in slips[: max(1, len(slips) // 4)]:
        start = time.perf_counter()
        render_slip(content, "receipt")
        receipts.append(time.perf_counter() - start)
    timings["render_slip_receipt"] = receipts
    result = {name: {**summarise(values), "per_second": len(values) / sum(values)} for name, values in timings.items()}
    result["bytes"] = {name: sum(values) // len(values) for name, values in sizes.items()}
    result["machine_busy"] = busy
    result["share_of_bare"] = result["render_slip"]["per_second"] / result["bare_matrix"]["per_second"]
    result["share_of_widget_page"] = result["render_slip"]["per_second"] / result["bare_widget"]["per_second"]
    say(f"  render_slip {result['render_slip']['per_second']:.0f}/s, bare page {result['bare_matrix']['per_second']:.0f}/s "
        f"({result['share_of_bare']:.0%}); bare page with ReportLab's QR widget {result['bare_widget']['per_second']:.0f}/s")
    return result


def measure_render_batch(slips):
    from registry.slips.render import render_batch

    start = time.perf_counter()
    pdf = render_batch(slips, "a4")
    seconds = time.perf_counter() - start
    return {"slips": len(slips), "seconds": seconds, "per_second": len(slips) / seconds, "bytes": len(pdf)}


def _env(database):
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "FLASK_DEBUG")}
    env.update(REGISTRY_ENV="demo", REGISTRY_ROLE="office", OFFICE_CODE="BBR", DATABASE_URL=f"sqlite:///{database}",
               SECRET_KEY="bench-secret-key-not-for-production", SYNC_INTERVAL_SECONDS="0")
    return env


def build_database(path, count, say=say):
    """An office database with `count` registrations made on DAY, through the app's own services."""
    from flask_migrate import upgrade

    from registry import create_app
    from registry.auth.services import UserData, create_user
    from registry.core.db import command_transaction
    from registry.offices.services import OfficeData, create_office
    from registry.people.services import PersonData
    from registry.registration.services import RegistrationData, register

    if path.exists():
        path.unlink()
    app = create_app({"REGISTRY_ENV": "demo", "OFFICE_CODE": "BBR", "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "bench", "SYNC_INTERVAL_SECONDS": 0, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    rng = random.Random(11)
    with app.app_context():
        upgrade()
        with command_transaction():
            office = create_office(OfficeData("BBR", "Labour Migration Centre, Beitbridge", "border_post", "ZW",
                                              "ZW-MS", address="Old Customs Building, Beitbridge",
                                              phone="+263242790871", slip_language="sn",
                                              helpline="Labour helpline 0800 123 123 (free)\nIOM Beitbridge +263 286 22 451"))
            officer = create_user(UserData("t.moyo", "Tendai Moyo", "officer", office.code), "bench-Pa55word")
        started = time.perf_counter()
        for start in range(0, count, 200):
            with command_transaction():
                for n in range(start, min(count, start + 200)):
                    person = PersonData(
                        surname=rng.choice(SURNAMES), given_names=f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}",
                        sex=rng.choice("FM"), date_of_birth=date(1970 + rng.randrange(35), 1 + rng.randrange(12),
                                                                 1 + rng.randrange(28)),
                        citizenship="ZW", national_id=f"63-{100000 + n} A 78", phone="", home_subdivision="ZW-MV",
                        home_district="Chiredzi", languages=["sna"], education_level="3", consent=True)
                    register(officer, RegistrationData(destination_country="ZA", destination_subdivision="ZA-LP",
                                                       occupation_code="9211"),
                             person_data=person, override_duplicates=True, today=DAY)
        say(f"  database: {count:,} registrations of {DAY} made in {time.perf_counter() - started:.0f} s")
        from registry.extensions import db

        db.engine.dispose()


def measure_command(template, count, say=say):
    """`flask slips batch` as a separate process on a fresh copy of the database; wall time and its output."""
    database = WORK / "run.db"
    output = WORK / "batch.pdf"
    shutil.copyfile(template, database)
    for suffix in ("-wal", "-shm"):
        leftover = database.with_name(database.name + suffix)
        if leftover.exists():
            leftover.unlink()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "slips", "batch", "--office", "BBR",
               "--date", DAY.isoformat(), "-o", str(output)]
    before = cpu_times()
    start = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=_env(database), capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    busy = busy_share(before, cpu_times())
    if finished.returncode != 0:
        raise SystemExit(f"flask slips batch failed: {finished.stderr.strip()}")
    # The same work without the process start (imports, app factory): the service and the commit alone.
    shutil.copyfile(template, database)
    from registry import create_app
    from registry.core.db import command_transaction
    from registry.slips.services import print_batch, registrations_for_batch

    app = create_app({"REGISTRY_ENV": "demo", "OFFICE_CODE": "BBR", "DATABASE_URL": f"sqlite:///{database}",
                      "SECRET_KEY": "bench", "SYNC_INTERVAL_SECONDS": 0})
    with app.app_context():
        start = time.perf_counter()
        with command_transaction():
            registrations = registrations_for_batch("BBR", DAY)
            loaded = time.perf_counter()
            pdf, issued = print_batch(registrations, None, "a4")
            drawn = time.perf_counter()
        committed = time.perf_counter()
        from registry.extensions import db

        db.engine.dispose()
    result = {"slips": count, "seconds": seconds, "per_second": count / seconds, "output": finished.stdout.strip(),
              "bytes": output.stat().st_size, "machine_busy": busy,
              "in_process": {"seconds": committed - start, "load": loaded - start, "issue_and_draw": drawn - loaded,
                             "commit": committed - drawn, "slips": len(issued), "bytes": len(pdf)}}
    say(f"  flask slips batch: {count:,} slips in {seconds:.1f} s ({result['per_second']:.0f}/s); "
        f"in process {result['in_process']['seconds']:.1f} s")
    return result


def render_section(results):
    single, batch, command = results["single"], results["render_batch"], results["command"]
    m = results["machine"]
    ms = lambda v: "—" if v is None else f"{v:.1f}"  # noqa: E731
    ok = lambda passed: "pass" if passed else "**FAIL**"  # noqa: E731
    share_passed = single["share_of_bare"] >= TARGET_SHARE
    batch_passed = command["seconds"] < TARGET_BATCH_SECONDS
    rows = [
        ("`render_slip`, A4, one PDF each", single["render_slip"], single["bytes"]["render_slip"]),
        ("bare ReportLab page: same strings, font and QR matrix", single["bare_matrix"], single["bytes"]["bare_matrix"]),
        ("bare ReportLab page with ReportLab's own QR widget", single["bare_widget"], None),
        ("`render_slip`, 80 mm receipt, one PDF each", single["render_slip_receipt"], None),
    ]
    lines = [
        BEGIN,
        "## Registration slips",
        "",
        f"Generated by `{results['command_line']}` on {m['date']} ({m['cpu']}, {m['cores']} cores, Python "
        f"{m['python']}, commit {m['commit']}); rerun it to refresh this section. The machine was "
        f"{single['machine_busy']:.0%} busy during the single-slip runs and {command['machine_busy']:.0%} during the "
        "batch command (other work included).",
        "",
        "| Benchmark | Target | Result | Verdict |",
        "|---|---|---|---|",
        f"| Slips per second, one PDF each, against a bare ReportLab page with the same text and QR code | "
        f"at least {TARGET_SHARE:.0%} of the bare page | {single['render_slip']['per_second']:.0f}/s against "
        f"{single['bare_matrix']['per_second']:.0f}/s: {single['share_of_bare']:.0%} | {ok(share_passed)} |",
        f"| A {command['slips']:,}-slip batch, `flask slips batch --office BBR --date {DAY}` | under "
        f"{TARGET_BATCH_SECONDS:.0f} s | {command['seconds']:.1f} s ({command['per_second']:.0f} slips/s) | "
        f"{ok(batch_passed)} |",
        "",
        f"One PDF per slip, {single['render_slip']['count'] // max(1, results['sizes']['rounds'])} different slips "
        f"(names beyond Latin-1, bilingual English/Shona labels, signed payloads), {results['sizes']['rounds']} "
        "interleaved rounds:",
        "",
        "| Page | Per second | p50 ms | p95 ms | max ms | PDF bytes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, summary, size in rows:
        lines.append(f"| {name} | {summary['per_second']:.0f} | {ms(summary['p50'])} | {ms(summary['p95'])} | "
                     f"{ms(summary['max'])} | {'—' if size is None else f'{size:,}'} |")
    inner = command["in_process"]
    lines += [
        "",
        "The bare page draws the same strings (one per line, no wrapping or layout), embeds the same DejaVu Sans "
        "font and draws the same QR module matrix; it is the floor for any slip with this content. ReportLab's own "
        f"QR widget makes the same page about {single['bare_matrix']['per_second'] / single['bare_widget']['per_second']:.0f} "
        "times slower (its encoder is pure Python and draws one rectangle per module), which is why slips encode "
        "their QR code with zxing-cpp (docs/slips.md).",
        "",
        f"Batches: `render_batch` draws {batch['slips']:,} slips into one PDF in {batch['seconds']:.1f} s "
        f"({batch['per_second']:.0f}/s, {batch['bytes'] / 1e6:.1f} MB). The command, a separate process on a SQLite "
        f"office database holding {command['slips']:,} registrations of that day, takes {command['seconds']:.1f} s "
        f"from start to exit. The same work in a process already running takes {inner['seconds']:.1f} s: loading "
        f"the registrations {inner['load']:.1f} s; signing, recording each print with its audit event and outbox "
        f"entries, and drawing {inner['issue_and_draw']:.1f} s; committing {inner['commit']:.1f} s. The difference "
        "is starting Python, importing the app and reading the fonts.",
        END,
    ]
    return "\n".join(lines) + "\n", share_passed and batch_passed


def write_section(path, section):
    """Put the section between its markers, or at the end; leave every other section as it is."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + section.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.slips", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer slips and rounds; writes to bench/.work/")
    parser.add_argument("--output", help="the page to write the section into (default: docs/benchmarks.md, or "
                                         "bench/.work/benchmarks-slips-quick.md with --quick)")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help="before each measurement, wait up to this long for other work on the machine to stop")
    args = parser.parse_args(argv)
    os.environ.setdefault("REGISTRY_ENV", "demo")
    slips_per_round, rounds = (40, 2) if args.quick else (200, 3)
    WORK.mkdir(parents=True, exist_ok=True)
    output = ROOT / (args.output or ("bench/.work/benchmarks-slips-quick.md" if args.quick else "docs/benchmarks.md"))
    command_line = "python -m bench.slips" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()

    say(f"Slips: {slips_per_round} different slips x {rounds} rounds, each as render_slip and as bare pages")
    slips = contents(max(slips_per_round, BATCH))
    results = {"command_line": command_line.strip(), "machine": describe(),
               "sizes": {"slips": slips_per_round, "rounds": rounds, "batch": BATCH}}
    wait_until_quiet(args.wait_quiet, say=say)
    results["single"] = measure_single(slips[:slips_per_round], rounds)
    say(f"Slips: render_batch of {BATCH:,}")
    wait_until_quiet(args.wait_quiet, say=say)
    results["render_batch"] = measure_render_batch(slips[:BATCH])
    say(f"  {results['render_batch']['seconds']:.1f} s")
    say(f"Slips: flask slips batch on an office database with {BATCH:,} registrations of one day")
    template = WORK / "template.db"
    build_database(template, BATCH)
    wait_until_quiet(args.wait_quiet, say=say)
    results["command"] = measure_command(template, BATCH)
    (WORK / f"results-{'quick' if args.quick else 'full'}.json").write_text(json.dumps(results, indent=2, default=str))
    section, passed = render_section(results)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_section(output, section)
    say(f"Wrote the slips section of {output.relative_to(ROOT)} ({'all targets met' if passed else 'a target missed'}).")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
