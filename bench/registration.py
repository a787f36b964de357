"""Registration through gunicorn: concurrent officers POSTing complete new-registration forms.

Each client is a thread with its own logged-in session; it reads the CSRF token from the form page once
(the token lives as long as the session) and then submits new people, each with a unique national ID.
Only the POST /registrations/new round trip is timed. Anything but a 302 to the new registration is an
error, and the database is checked afterwards: it must hold exactly one registration per 302.
"""
import http.client
import os
import random
import re
import threading
import time
from collections import Counter
from datetime import date, timedelta

from bench.client import Session, csrf_token
from bench.database import BENCH_PASSWORD, BENCH_USER, count_rows, fresh_copy, prepared
from bench.machine import busy_share, cpu_times
from bench.server import OFFICE_ARGS, Gunicorn
from bench.stats import summarise
from registry.demo import data

TARGET_P95_MS = 150
NEW_PATH = "/registrations/new"
CREATED_RE = re.compile(r"/registrations/[A-Z]{2,5}-\d{4}-\d{6,9}-[0-9A-Z]$")
# National ID serials from here up: the demo loader's serials stay far below, so every ID is new.
SERIAL_BASE = 9_000_000


def registration_form(index, rng, today):
    """A complete new-registration form as an officer would submit it (field names of NewRegistrationForm)."""
    sex = rng.choice("FM")
    given = rng.choice(data.GIVEN_FEMALE if sex == "F" else data.GIVEN_MALE)
    province = rng.choice(sorted(data.DISTRICTS))
    occupation = rng.choice(sorted(data.OCCUPATIONS))
    _, sector, skills = data.OCCUPATIONS[occupation]
    born = today - timedelta(days=rng.randrange(18 * 365 + 5, 60 * 365))
    form = [
        ("surname", rng.choice(data.SURNAMES)), ("given_names", given), ("sex", sex),
        ("date_of_birth", born.isoformat()), ("citizenship", "ZW"),
        ("national_id", f"63-{SERIAL_BASE + index:07d} A 12"),
        ("passport_number", f"BN{index:07d}" if rng.random() < 0.4 else ""), ("passport_country", ""),
        ("phone", f"077{rng.randrange(1_000_000, 10_000_000)}"),
        ("home_subdivision", province), ("home_district", rng.choice(data.DISTRICTS[province])),
        ("languages", "sna"), ("languages", "eng"), ("education_level", rng.choice("12345")),
        ("consent", "y"),
        ("destination_country", "ZA"), ("destination_subdivision", "ZA-LP"), ("intended_sector", sector),
        ("occupation_code", occupation), ("other_occupation_codes", ""), ("skills", skills), ("certificates", ""),
        ("years_experience", str(rng.randrange(0, 15))),
        ("employer_name", ""), ("agency_name", ""),
        ("override_duplicates", "y"),  # the similar-name warning must never turn a POST into a 200
        ("use_person", ""),
    ]
    if rng.random() < 0.25:
        form.append(("has_job_offer", "y"))
        form[form.index(("employer_name", ""))] = ("employer_name", rng.choice(data.EMPLOYERS))
    return form


class Tally:
    """Shared between the client threads: hands out form numbers and collects outcomes."""

    def __init__(self, warmup, total, deadline, first=0):
        """Measured POSTs get form numbers first+1 .. first+total; warm-up POSTs the next `warmup` ones."""
        self.lock = threading.Lock()
        self.warmup_left, self.taken, self.total, self.deadline = warmup, first, first + total, deadline
        self.samples = []  # seconds of each measured 302
        self.errors = Counter()  # "status: message" -> count, warm-up included
        self.created = 0  # 302s, warm-up included
        self.windows = []  # (first start, last end) of the measured phase, per client

    def take_warmup(self):
        """A form number for a warm-up POST (numbers above the measured ones), or None."""
        with self.lock:
            if self.warmup_left <= 0 or time.monotonic() > self.deadline:
                return None
            self.warmup_left -= 1
            return self.total + self.warmup_left + 1

    def take(self):
        with self.lock:
            if self.taken >= self.total or time.monotonic() > self.deadline:
                return None
            self.taken += 1
            return self.taken

    def error(self, text):
        with self.lock:
            self.errors[text[:200]] += 1


def _post(session, token, index, rng, today, tally, measured):
    form = [("csrf_token", token)] + registration_form(index, rng, today)
    try:
        # The 302's cookie only adds the "Registered: ..." flash, which the browser's GET of the new
        # registration would take out again; kept, it would pile up in the session cookie post after post.
        response = session.request("POST", NEW_PATH, form, keep_cookies=False)
    except (OSError, http.client.HTTPException) as exc:
        tally.error(f"connection: {exc.__class__.__name__}: {exc}")
        return
    if response.status == 302 and CREATED_RE.search(response.location):
        with tally.lock:
            tally.created += 1
            if measured:
                tally.samples.append(response.seconds)
        return
    messages = response.error_messages() or [response.location or response.text[:120]]
    tally.error(f"{response.status}: {' | '.join(messages)}")


def _client(port, seed, warmup_each, start, tally, today, failures):
    rng = random.Random(seed)
    session = Session(port)
    try:
        try:
            session.login(BENCH_USER, BENCH_PASSWORD)
            token = csrf_token(session.request("GET", NEW_PATH).text)
            for _ in range(warmup_each):
                if (index := tally.take_warmup()) is not None:
                    _post(session, token, index, rng, today, tally, measured=False)
        except Exception as exc:  # a client that cannot even log in is reported, not hidden
            failures.append(f"{exc.__class__.__name__}: {exc}")
            start.abort()
            return
        try:
            start.wait(timeout=tally.deadline - time.monotonic())
        except threading.BrokenBarrierError:
            return
        first = last = None
        while (index := tally.take()) is not None:
            first = first or time.perf_counter()
            _post(session, token, index, rng, today, tally, measured=True)
            last = time.perf_counter()
        if first is not None:
            with tally.lock:
                tally.windows.append((first, last))
    finally:
        session.close()


def _phase(server, clients, warmup_each, posts, time_limit, first_index, today):
    """One closed-loop run of `clients` concurrent clients; the measured figures as a dict."""
    tally = Tally(clients * warmup_each, posts, deadline=time.monotonic() + time_limit, first=first_index)
    failures, mark = [], {}

    def mark_start():  # runs once, when every client is logged in and warmed up
        mark.update(connections=server.connections_per_worker(), server=server.cpu_seconds(),
                    client=time.process_time(), machine=cpu_times(), wall=time.monotonic())

    start = threading.Barrier(clients, action=mark_start)
    threads = [threading.Thread(target=_client, args=(server.port, first_index + n, warmup_each, start, tally,
                                                      today, failures), name=f"client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 120)
    hung = [thread.name for thread in threads if thread.is_alive()]
    if failures or hung:
        raise RuntimeError(f"registration clients failed: {failures or hung}")
    wall = time.monotonic() - mark["wall"]
    server_cpu, client_cpu = server.cpu_seconds() - mark["server"], time.process_time() - mark["client"]
    machine = busy_share(mark["machine"], cpu_times())
    measured, cores = tally.samples, os.cpu_count()
    elapsed = (max(end for _, end in tally.windows) - min(begin for begin, _ in tally.windows)) if tally.windows else 0
    ours = (server_cpu + client_cpu) / (wall * cores) if wall else None
    return {
        "clients": clients,
        "connections_per_worker": mark["connections"],
        "warmup_posts": clients * warmup_each,
        "attempted": tally.taken - first_index,
        "complete": tally.taken == tally.total,
        "succeeded": len(measured),
        "created": tally.created,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors.most_common(10),
        "seconds": elapsed,
        "per_second": len(measured) / elapsed if elapsed else 0,
        "latency": summarise(measured),
        # CPU time per measured POST, and how busy the machine was, during the measured phase
        "server_cpu_ms_per_post": server_cpu * 1000 / len(measured) if measured else None,
        "client_cpu_ms_per_post": client_cpu * 1000 / len(measured) if measured else None,
        "cpu_busy_share": ours,
        "other_cpu_share": max(0.0, machine - ours) if ours is not None and machine is not None else None,
    }


def run(sizes, server_args=OFFICE_ARGS, rebuild=False, say=print, settle=None):
    """Measure with `sizes.clients` concurrent clients, then with one for comparison; return a dict for the report."""
    template, meta = prepared("registration", registrations=sizes.stored_registrations, rebuild=rebuild, say=say)
    database = fresh_copy(template, "registration")
    busy_before = settle() if settle else None  # how busy other work kept the machine just before measuring
    today = date.today()
    say(f"  {sizes.clients} clients, {sizes.clients * sizes.warmup_posts} warm-up POSTs, then {sizes.posts:,} "
        f"measured POSTs (at most {sizes.time_limit} s); then one client alone, {sizes.single_posts} POSTs ...")
    with Gunicorn(database, "registration", server_args) as server:
        main = _phase(server, sizes.clients, sizes.warmup_posts, sizes.posts, sizes.time_limit, 0, today)
        # Form numbers go on from the first phase's (its measured POSTs, then its warm-up ones).
        single = _phase(server, 1, sizes.warmup_posts, sizes.single_posts, sizes.time_limit,
                        sizes.posts + main["warmup_posts"], today)
    stored_after = count_rows(database, "registration")
    expected = meta["registrations"] + main["created"] + single["created"]
    latency = main["latency"]
    return dict(
        main,
        stored_people=meta["people"],
        stored_registrations=meta["registrations"],
        database_notes=meta.get("notes", []),
        cores=os.cpu_count(),
        server=f"gunicorn {server_args}",
        single=single,
        stored_after=stored_after,
        stored_expected=expected,
        busy_before=busy_before,
        target_p95_ms=TARGET_P95_MS,
        passed=bool(latency["count"]) and latency["p95"] < TARGET_P95_MS and main["errors"] == 0 and main["complete"]
        and stored_after == expected,
    )
