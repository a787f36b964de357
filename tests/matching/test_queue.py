"""The duplicate queue at central: every pair scored, shown best first with its reasons; link, different
people and undo keep working."""
import html
import re
import uuid
from datetime import date

from sqlalchemy import select

from registry.core.db import command_transaction
from registry.extensions import db
from registry.matching.candidates import scan
from registry.matching.models import DuplicateCandidate
from registry.matching.services import open_candidates, queue_pair
from registry.people.models import Person
from registry.people.services import create_person
from tests.conftest import user
from tests.support.factories import person_data
from tests.sync.conftest import central_app  # noqa: F401  (fixture)
from tests.sync.test_pages import post_form

SECTION = re.compile(r'<section class="pair" aria-labelledby="pair-([0-9a-f-]+)">(.*?)</section>', re.S)


def text_of(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def queue_on(page):
    """[(pair id, heading, [reasons])] of the open pairs, in the order the page shows them."""
    shown = []
    for pair_id, body in SECTION.findall(page):
        heading = text_of(re.search(r"<h2[^>]*>(.*?)</h2>", body, re.S).group(1))
        reasons = [text_of(item) for item in re.findall(r"<li>(.*?)</li>", body, re.S)]
        shown.append((pair_id, heading, reasons))
    return shown


def add(actor, **values):
    return create_person(person_data(**values), actor, override_duplicates=True)


def people_with_pairs(app):
    """Three pairs queued as they would be: two by `match scan`, one on a shared national ID at sync. Returns
    {name: pair id}."""
    with app.app_context(), command_transaction():
        admin = user("admin")
        # Found by scan: one person, recorded with a passport the second time and day and month swapped.
        tendai = add(admin, surname="Moyo", given_names="Tendai", date_of_birth=date(1991, 4, 9))
        add(admin, surname="Moyo", given_names="Tendayi", date_of_birth=date(1991, 9, 4), national_id="",
            passport_number="FN123123", phone="")
        # Found by scan, weaker: same names, birth date and phone, but national IDs that differ (twins?).
        for _ in range(2):
            add(admin, surname="Dube", given_names="Farai", sex="M", date_of_birth=date(1987, 6, 30),
                phone="0772555666")
        assert scan() == 2
        # Queued at sync because two records hold one national ID: here an ID mistyped for someone else.
        sipho = add(admin, surname="Ncube", given_names="Sipho", sex="M", date_of_birth=date(1980, 1, 2),
                    phone="+263712000111")
        db.session.flush()
        sipho.national_id = tendai.national_id  # as sync writes a row, past the services' check
        db.session.flush()
        queue_pair(sipho.id, tendai.id, "same national ID (ZW), registered at BBR and HRE")
    with app.app_context():
        pairs = {}
        for candidate in db.session.scalars(select(DuplicateCandidate)):
            people = {db.session.get(Person, candidate.first_person_id).surname,
                      db.session.get(Person, candidate.second_person_id).surname}
            pairs["ncube" if "Ncube" in people else "dube" if "Dube" in people else "moyo"] = str(candidate.id)
        return pairs


def test_pairs_are_scored_when_queued_and_shown_best_first_with_reasons(central_app, login):
    pairs = people_with_pairs(central_app)
    with central_app.app_context():
        by_id = {str(candidate.id): candidate for candidate in open_candidates()}
        scores = {name: by_id[pair_id].score for name, pair_id in pairs.items()}
        # The pair queued on the national ID was scored when queued, and its reasons say why it is doubtful.
        assert scores["ncube"] is not None and "same national ID" in by_id[pairs["ncube"]].reasons
        assert "surnames differ" in by_id[pairs["ncube"]].reasons
        assert scores["moyo"] > scores["dube"] > scores["ncube"]
    client = central_app.test_client()
    login(client, "admin")
    shown = queue_on(client.get("/duplicates/").get_data(as_text=True))
    assert [pair_id for pair_id, _, _ in shown] == [pairs["moyo"], pairs["dube"], pairs["ncube"]]
    percents = [int(re.match(r"(\d+)%", heading).group(1)) for _, heading, _ in shown]
    assert percents == sorted(percents, reverse=True)
    assert shown[0][1].endswith("Likely the same person")
    assert shown[1][1].endswith("Possibly the same person") and "national ID differs" in shown[1][2]
    assert shown[2][1].endswith("Probably different people")
    assert "given name is a spelling variant" in shown[0][2] and "day and month of birth swapped" in shown[0][2]
    assert "same national ID" in shown[2][2]


def test_a_pair_queued_without_a_score_comes_first_until_scan_scores_it(central_app, login):
    pairs = people_with_pairs(central_app)
    with central_app.app_context(), command_transaction():
        # As a pair queued before pairs were scored when queued.
        candidate = db.session.get(DuplicateCandidate, uuid.UUID(pairs["ncube"]))
        candidate.score, candidate.reasons = None, None
    client = central_app.test_client()
    login(client, "admin")
    shown = queue_on(client.get("/duplicates/").get_data(as_text=True))
    assert shown[0] == (pairs["ncube"], "Not scored: same national ID (ZW), registered at BBR and HRE", [])
    with central_app.app_context(), command_transaction():
        assert scan() == 0  # nothing new, but the unscored pair now has its score
    shown = queue_on(client.get("/duplicates/").get_data(as_text=True))
    assert [pair_id for pair_id, _, _ in shown] == [pairs["moyo"], pairs["dube"], pairs["ncube"]]
    assert "same national ID" in shown[2][2]


def test_link_different_people_and_undo_keep_working_on_the_ordered_queue(central_app, login):
    pairs = people_with_pairs(central_app)
    client = central_app.test_client()
    login(client, "admin")
    assert post_form(client, "/duplicates/", f"/duplicates/{pairs['moyo']}/link").status_code == 302
    assert post_form(client, "/duplicates/", f"/duplicates/{pairs['ncube']}/distinct").status_code == 302
    page = client.get("/duplicates/").get_data(as_text=True)
    assert [pair_id for pair_id, _, _ in queue_on(page)] == [pairs["dube"]]
    decided = re.findall(r"<tr><td>[^<]*</td><td>admin</td><td>(\w+)</td><td>(\d+%|—)</td>", page)
    assert sorted(status for status, _ in decided) == ["distinct", "linked"]
    assert all(score.endswith("%") for _, score in decided)
    with central_app.app_context():
        assert db.session.scalar(select(Person.id).where(Person.same_as_id.isnot(None))) is not None
    assert post_form(client, "/duplicates/", f"/duplicates/{pairs['moyo']}/undo").status_code == 302
    page = client.get("/duplicates/").get_data(as_text=True)
    assert [pair_id for pair_id, _, _ in queue_on(page)] == [pairs["moyo"], pairs["dube"]]
    with central_app.app_context():
        assert db.session.scalar(select(Person.id).where(Person.same_as_id.isnot(None))) is None
