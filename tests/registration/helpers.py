"""Helpers for request tests: row counts, reading a form off a page, and a record owned by another office."""
import html
import re
from html.parser import HTMLParser

from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.core.db import command_transaction
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from registry.sync.models import OutboxEntry
from tests.conftest import make_app
from tests.support.factories import create_registration

COUNTED = {"person": Person, "registration": Registration, "outbox": OutboxEntry, "audit": AuditEvent}
NUMBER_RE = re.compile(r"\b[A-Z]{2,5}-\d{4}-\d{6,9}-[0-9A-Z]\b")


def row_counts(app=None):
    """Rows per table, read in a fresh app context (so nothing a request left pending is counted)."""
    def count():
        return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}

    if app is None:
        return count()
    with app.app_context():
        return count()


def field_error(page, name):
    """The error text shown next to field `name`, or None."""
    match = re.search(rf'<p id="{re.escape(name)}-error" class="error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def flashes(page):
    return [html.unescape(text) for text in re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.S)]


def numbers_on(page):
    """Registration numbers in the order they first appear (a number is both a link and its text)."""
    return list(dict.fromkeys(NUMBER_RE.findall(page)))


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action"), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self._form["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = [a.get("name"), None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[2] = value
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, first, chosen = self._select
            self._form["fields"].append((name, chosen if chosen is not None else (first or "")))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._form["fields"].append((name, text.removeprefix("\n")))
            self._textarea = None


def read_form(page, index=-1, method="post"):
    """What a browser would submit from the page's form (the last POST form unless told), as a dict of
    field name to value, or to a list of values for a field that appears more than once."""
    reader = _FormReader()
    reader.feed(page)
    form = [f for f in reader.forms if f["method"] == method][index]
    data = {}
    for name, value in form["fields"]:
        if name in data:
            data[name] = (data[name] if isinstance(data[name], list) else [data[name]]) + [value]
        else:
            data[name] = value
    return data


def submit(data, **changes):
    """The form data with `changes` applied; a change to None removes the field, as an unticked box."""
    result = dict(data)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def click(data, name, value):
    """The form data a browser sends when a submit button `name`=`value` is pressed: the button's pair is added
    after the form's fields, so a field of the same name earlier in the form would be read first."""
    result = dict(data)
    result[name] = ([result[name]] if not isinstance(result[name], list) else result[name]) + [value] \
        if name in result else value
    return result


def registration_at_hre(database_url, **person_overrides):
    """A registration made at HRE, by HRE's officer, on an app whose OFFICE_CODE is HRE sharing the database."""
    app = make_app(database_url, OFFICE_CODE="HRE")
    try:
        with app.app_context(), command_transaction():
            actor = db.session.scalar(select(User).where(User.username == "officer.hre"))
            registration = create_registration(actor=actor, **person_overrides)
            return registration.registration_number, registration.person_id
    finally:
        with app.app_context():
            db.engine.dispose()
