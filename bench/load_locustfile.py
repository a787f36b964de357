"""The users of the load test (bench/load.py runs this file with `locust --headless`).

Offices: each signs its requests with its own secret and, round after round, pushes a small batch of new
people and registrations (rows built as the app's models, snapshotted by registry.sync.outbox.row_payload,
registration numbers of that office with their check character), then pulls central's feed from its cursor
until it is up to date. Officers: each logs in once through the real form (CSRF token), then searches for
people that are stored (by surname, full name or national ID) and registers new people through the
new-registration form. Which check makes a response a failure is written next to each request.

The settings (hosts' secrets, usernames, the people to search for) come from the JSON file named by
LOAD_CONFIG; every response time and failure is written to the JSON file named by LOAD_SAMPLES when the
run ends (bench/load.py computes its percentiles from them, not from locust's rounded histogram).
"""
import itertools
import json
import os
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from markupsafe import escape

from bench.client import CSRF_RE, ERROR_RE, TAG_RE
from bench.registration import CREATED_RE, registration_form
from registry.core.ids import new_id
from registry.demo import data
from registry.people.models import Person
from registry.people.names import name_key
from registry.registration.models import Registration
from registry.registration.numbering import RegistrationNumber
from registry.sync.outbox import row_payload
from registry.sync.signing import sign_headers

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read())
PUSH_PATH, PULL_PATH = "/api/v1/sync/push", "/api/v1/sync/pull"
PULL_LIMIT = CONFIG["pull_limit"]
PEOPLE_PER_PUSH = CONFIG["people_per_push"]
MAX_PULL_PAGES = 20  # a round stops pulling after this many pages, however far behind

samples = defaultdict(list)  # request name -> response times in ms (successes only)
failures = Counter()  # "name: reason" -> count
outcomes = Counter()  # what the requests did: rows pushed, changes pulled, registrations made
_offices = iter(sorted(CONFIG["secrets"].items()))
_officers = iter(CONFIG["officers"])
_form_numbers = itertools.count(1)  # unique national IDs for the officers' new people
_push_numbers = itertools.count(1)  # unique national IDs for the offices' new people


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    if exception is None:
        samples[name].append(response_time)
    else:
        failures[f"{name}: {str(exception)[:160]}"] += 1


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["LOAD_SAMPLES"], "w") as handle:
        json.dump({"samples": samples, "failures": failures, "outcomes": outcomes}, handle)


def _messages(text):
    return " | ".join(" ".join(TAG_RE.sub("", m).split()) for m in ERROR_RE.findall(text))[:160]


# --- offices ---------------------------------------------------------------------------------------------

def new_rows(office, number, rng, today):
    """A new person and their registration, as an office's app would have saved them, as two outbox
    payloads (row_payload on the unsaved model objects: every column, in the wire's JSON types)."""
    now = datetime.now(timezone.utc)
    sex = rng.choice("FM")
    surname, given = rng.choice(data.SURNAMES), rng.choice(data.GIVEN_FEMALE if sex == "F" else data.GIVEN_MALE)
    province = rng.choice(sorted(data.DISTRICTS))
    occupation = rng.choice(sorted(data.OCCUPATIONS))
    serial = next(_push_numbers)
    person = Person(
        id=new_id(), version=1, origin_office=office, updated_at=now, deleted_at=None, surname=surname,
        given_names=given, surname_key=name_key(surname), given_names_key=name_key(given), sex=sex,
        date_of_birth=today - timedelta(days=rng.randrange(18 * 365 + 5, 60 * 365)), citizenship="ZW",
        # District 64 and check letter B: no form the officers send nor any demo row has these IDs.
        national_id=f"64{8_000_000 + serial * 11:07d}B21", national_id_country="ZW", passport_number=None,
        passport_country=None, phone=f"+26377{rng.randrange(1_000_000, 10_000_000)}", home_subdivision=province,
        home_district=rng.choice(data.DISTRICTS[province]), languages=["sna", "eng"],
        education_level=rng.choice("12345"), consent_at=now, consent_recorded_by=f"officer.{office.lower()}",
        same_as_id=None)
    registration = Registration(
        id=new_id(), version=1, origin_office=office, updated_at=now, deleted_at=None,
        registration_number=str(RegistrationNumber(office, today.year, number)), person_id=person.id,
        office_code=office, registered_on=today, registered_by=f"officer.{office.lower()}",
        destination_country="ZA", destination_subdivision="ZA-LP", intended_sector=data.OCCUPATIONS[occupation][1],
        occupation_code=occupation, other_occupation_codes=[], skills=data.OCCUPATIONS[occupation][2],
        certificates=None, prior_learning_recognised=False, years_experience=rng.randrange(0, 15),
        has_job_offer=False, employer_name=None, agency_name=None, status="registered", status_changed_on=today)
    return row_payload(person), row_payload(registration)


class Office(FastHttpUser):
    """One office node's sync rounds: push its new rows, then pull the feed until it is up to date."""

    fixed_count = len(CONFIG["secrets"])
    wait_time = between(*CONFIG["office_wait"])

    def on_start(self):
        self.code, self.secret = next(_offices)
        self.rng = random.Random(self.code)
        self.cursor = CONFIG["feed_end"]  # up to date when the test starts
        self.seq = 0  # the office's outbox sequence, all acknowledged by central
        self.number = 0  # the office's registration sequence this year

    def _signed(self, method, path, body=b""):
        return {**sign_headers(self.code, self.secret, method, path, body), "Content-Type": "application/json"}

    @task
    def sync_round(self):
        if self.push():
            self.pull()

    def push(self):
        changes = []
        today = date.today()
        for _ in range(PEOPLE_PER_PUSH):
            self.number += 1
            for entity, payload in zip(("person", "registration"), new_rows(self.code, self.number, self.rng, today)):
                self.seq += 1
                changes.append({"seq": self.seq, "entity": entity, "row_id": payload["id"], "operation": "insert",
                                "version": 1, "base_version": 0, "payload": payload})
        body = json.dumps({"protocol": 1, "office": self.code, "changes": changes}).encode()
        with self.client.post(PUSH_PATH, data=body, headers=self._signed("POST", PUSH_PATH, body), name="push",
                              catch_response=True) as response:
            # A failure: any status but 200, or any change not answered "applied".
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.text[:120]}")
                return False
            statuses = Counter(result["status"] for result in response.json()["results"])
            if statuses != {"applied": len(changes)}:
                response.failure(f"results {dict(statuses)}")
                return False
        outcomes["pushed_people"] += PEOPLE_PER_PUSH
        outcomes["pushed_registrations"] += PEOPLE_PER_PUSH
        return True

    def pull(self):
        for _ in range(MAX_PULL_PAGES):
            path = f"{PULL_PATH}?{urlencode({'after': self.cursor, 'limit': PULL_LIMIT, 'own_through': self.seq})}"
            with self.client.get(path, headers=self._signed("GET", path), name="pull",
                                 catch_response=True) as response:
                # A failure: any status but 200, or a cursor that goes backwards.
                if response.status_code != 200:
                    response.failure(f"{response.status_code} {response.text[:120]}")
                    return
                answer = response.json()
                if answer["next_after"] < self.cursor:
                    response.failure(f"cursor went back from {self.cursor} to {answer['next_after']}")
                    return
            self.cursor = answer["next_after"]
            outcomes["pulled_changes"] += len(answer["changes"])
            outcomes["own_changes_pulled"] += sum(c["office"] == self.code and c["entity"] in ("person", "registration")
                                                  for c in answer["changes"])
            if not answer["more"]:
                return


# --- officers --------------------------------------------------------------------------------------------

def _token(text):
    match = CSRF_RE.search(text)
    return match.group(1).replace("&#34;", '"').replace("&amp;", "&") if match else None


class Officer(FastHttpUser):
    """One officer at head office: logs in once, then searches and registers."""

    fixed_count = len(CONFIG["officers"])
    wait_time = between(*CONFIG["officer_wait"])

    def on_start(self):
        self.username = next(_officers)
        self.rng = random.Random(self.username)
        self.logged_in = False
        page = self.client.get("/login", name="login form")
        token = _token(page.text)
        form = {"csrf_token": token or "", "username": self.username, "password": CONFIG["password"], "next": ""}
        with self.client.post("/login", data=urlencode(form), name="login", allow_redirects=False, catch_response=True,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            # A failure: anything but the redirect a successful login answers with.
            if response.status_code != 302:
                response.failure(f"{response.status_code} {_messages(response.text)}")
                return
        self.logged_in = True

    def _search(self, name, query, must_contain=None):
        with self.client.get(f"/people/?{urlencode({'q': query})}", name=name, catch_response=True,
                             allow_redirects=False) as response:
            # A failure: any status but 200, or (by ID) a results page without the person's surname (which
            # the page shows in capitals).
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
            elif must_contain and str(escape(must_contain.upper())) not in response.text:
                response.failure("the person sought is not on the results page")

    @task(3)
    def search_surname(self):
        if self.logged_in:
            self._search("search: surname", self.rng.choice(CONFIG["people"])["surname"])

    @task(3)
    def search_full_name(self):
        if self.logged_in:
            person = self.rng.choice(CONFIG["people"])
            self._search("search: full name", f"{person['given_names']} {person['surname']}")

    @task(3)
    def search_national_id(self):
        if self.logged_in:
            person = self.rng.choice(CONFIG["people"])
            self._search("search: national ID", person["national_id"], must_contain=person["surname"])

    @task(2)
    def register(self):
        if not self.logged_in:
            return
        with self.client.get("/registrations/new", name="registration form", catch_response=True,
                             allow_redirects=False) as page:
            # A failure: any status but 200, or a form without its CSRF token.
            token = _token(page.text) if page.status_code == 200 else None
            if token is None:
                page.failure(f"{page.status_code}, no form")
                return
        form = [("csrf_token", token)] + registration_form(next(_form_numbers), self.rng, date.today())
        with self.client.post("/registrations/new", data=urlencode(form, doseq=True), name="registration POST",
                              allow_redirects=False, catch_response=True,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            # A failure: anything but the redirect to the new registration (the form asks to go ahead despite
            # any similar-name warning, as bench/registration.py does, so a warning page is a failure too).
            if response.status_code == 302 and CREATED_RE.search(response.headers.get("Location", "")):
                outcomes["registered"] += 1
            else:
                response.failure(f"{response.status_code} {_messages(response.text)}")
