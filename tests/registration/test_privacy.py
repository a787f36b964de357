"""Statisticians see counts, never people."""
import pytest

from registry.core.db import command_transaction
from tests.conftest import user
from tests.registration.helpers import row_counts
from tests.support.factories import create_registration


@pytest.fixture
def records(app):
    with app.app_context(), command_transaction():
        officer = user("officer")
        first = create_registration(actor=officer, surname="Zvobgo", given_names="Rufaro", national_id="63-987654 C 21")
        second = create_registration(actor=officer, surname="Nyathi", given_names="Sibusiso")
        return first.registration_number, first.person_id, second.registration_number


def test_statistician_is_refused_every_page_with_personal_data(app, client, login, records):
    number, person_id, _ = records
    login(client, "statistician")
    before = row_counts(app)
    for url in ("/people/", "/people/?q=Zvobgo", f"/people/{person_id}", f"/people/{person_id}/edit",
                "/registrations/", "/registrations/new", f"/registrations/new/{person_id}", f"/registrations/{number}",
                f"/registrations/{number}/edit", f"/registrations/find?number={number}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Zvobgo" not in response.get_data(as_text=True) and "ZVOBGO" not in response.get_data(as_text=True)
    assert row_counts(app) == before  # nothing was viewed, so nothing was audited as viewed


def test_summary_shows_counts_and_no_names(app, login, records):
    number, _, other = records
    pages = {}
    for username in ("statistician", "officer"):
        client = app.test_client()
        login(client, username)
        page = pages[username] = client.get("/registrations/summary").get_data(as_text=True)
        assert "2 registrations made at BBR" in page, username
        for personal in ("Zvobgo", "ZVOBGO", "Rufaro", "Nyathi", "Sibusiso", "987654", number, other):
            assert personal not in page, (username, personal)
        assert "South Africa" in page  # the destination, counted
    # The statistician's menu offers no way to people; the officer's does.
    assert 'href="/people/"' not in pages["statistician"] and 'href="/registrations/new"' not in pages["statistician"]
    assert 'href="/people/"' in pages["officer"]
