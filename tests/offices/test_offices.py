"""Office administration: the web form and `flask offices`, with bad input refused and nothing saved."""
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.core.ids import stable_id
from registry.extensions import db
from registry.offices.models import Office
from registry.sync.models import OutboxEntry
from tests.conftest import extract_csrf

GOOD = {"code": "CHR", "name": "District Labour Office, Chiredzi", "kind": "district_office", "country": "ZW",
        "subdivision": "ZW-MV", "address": "Box 12, Chiredzi", "phone": "077 212 3456", "default_destination": "ZA",
        "active": "y", "version": "0"}


def snapshot(app):
    """Every office row as stored, and how many audit events and outbox entries there are."""
    with app.app_context():
        offices = db.session.execute(
            select(Office.code, Office.name, Office.kind, Office.country, Office.subdivision, Office.address,
                   Office.phone, Office.default_destination, Office.active, Office.version).order_by(Office.code)
        ).all()
        return (offices, db.session.scalar(select(func.count()).select_from(AuditEvent)),
                db.session.scalar(select(func.count()).select_from(OutboxEntry)))


def office(app, code):
    with app.app_context():
        row = db.session.scalar(select(Office).where(Office.code == code))
        if row is not None:
            db.session.expunge(row)
        return row


def admin_form(client, login, url):
    login(client, "admin")
    page = client.get(url)
    assert page.status_code == 200
    return extract_csrf(page.get_data(as_text=True))


def test_admin_adds_an_office_through_the_web(app, client, login):
    token = admin_form(client, login, "/admin/offices/new")
    response = client.post("/admin/offices/new", data={**GOOD, "code": "chr", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/offices/"
    listing = client.get("/admin/offices/").get_data(as_text=True)
    assert "Office CHR added." in listing and "District Labour Office, Chiredzi" in listing and "Masvingo" in listing

    added = office(app, "CHR")
    assert added.id == stable_id("office", "CHR")  # every node names the same office with the same UUID
    assert (added.kind, added.country, added.subdivision, added.address) == (
        "district_office", "ZW", "ZW-MV", "Box 12, Chiredzi")
    assert added.phone == "+263772123456"  # stored in E.164
    assert added.default_destination == "ZA" and added.active is True
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "office.created",
                                                           AuditEvent.entity_id == added.id))
        assert event.actor == "admin" and event.details == {"code": "CHR"}


BAD_OFFICES = [
    ({"code": "B1"}, "Use 2 to 5 capital letters, e.g. BBR."),
    ({"code": "TOOLONG"}, "Field must be between 2 and 5 characters long."),
    ({"code": "BBR"}, "Office BBR already exists."),
    ({"country": "XX"}, "Not a valid choice"),
    ({"subdivision": "ZA-LP"}, "ZA-LP is not a subdivision of ZW."),
    ({"subdivision": "ZW-XX"}, "ZW-XX is not a subdivision of ZW."),
    ({"phone": "12345"}, "is not a valid phone number for ZW"),
    ({"phone": "call us"}, "is not a phone number"),
    ({"name": "  "}, "This field is required."),
    ({"kind": "embassy"}, "Not a valid choice"),
    ({"default_destination": "XX"}, "Not a valid choice"),
]


def test_bad_office_input_is_refused_with_a_message_and_nothing_saved(app, client, login):
    token = admin_form(client, login, "/admin/offices/new")
    before = snapshot(app)
    for changes, message in BAD_OFFICES:
        response = client.post("/admin/offices/new", data={**GOOD, **changes, "csrf_token": token})
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
        assert snapshot(app) == before, changes
    assert office(app, "CHR") is None


def test_admin_edits_an_office_but_never_its_code(app, client, login):
    token = admin_form(client, login, "/admin/offices/HRE")
    hre = office(app, "HRE")
    form = {"code": "HRE", "name": "Harare Labour Office", "kind": "district_office", "country": "ZW",
            "subdivision": "ZW-HA", "address": "Compensation House, Harare", "phone": "+263 24 2790871",
            "default_destination": "BW", "active": "y", "version": str(hre.version), "csrf_token": token}

    before = snapshot(app)
    renamed = client.post("/admin/offices/HRE", data={**form, "code": "HRX"})
    assert renamed.status_code == 200
    assert "An office&#39;s code never changes" in renamed.get_data(as_text=True)
    assert snapshot(app) == before
    assert office(app, "HRX") is None

    bad = client.post("/admin/offices/HRE", data={**form, "subdivision": "ZA-GP"})
    assert "ZA-GP is not a subdivision of ZW." in bad.get_data(as_text=True)
    assert snapshot(app) == before

    response = client.post("/admin/offices/HRE", data=form)
    assert response.status_code == 302
    changed = office(app, "HRE")
    assert (changed.name, changed.address, changed.default_destination, changed.version) == (
        "Harare Labour Office", "Compensation House, Harare", "BW", hre.version + 1)
    assert changed.phone == "+263242790871"
    assert changed.id == hre.id

    stale = client.post("/admin/offices/HRE", data={**form, "name": "Old form"})  # version is now behind
    assert "Someone changed this office" in stale.get_data(as_text=True)
    assert office(app, "HRE").name == "Harare Labour Office"
    with app.app_context():
        updated = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "office.updated"))
        assert updated.actor == "admin"
        assert updated.details["before"]["name"] == "District Labour Office, Harare"
        assert updated.details["after"]["name"] == "Harare Labour Office"
    assert client.get("/admin/offices/NOPE").status_code == 404


def test_edit_form_shows_the_code_read_only_and_the_subdivisions_of_the_country(client, login):
    login(client, "admin")
    html = client.get("/admin/offices/BBR").get_data(as_text=True)
    assert 'value="BBR"' in html and "readonly" in html
    assert 'value="ZW-MS" selected' in html or 'selected value="ZW-MS"' in html
    assert "ZA-LP" not in html  # only Zimbabwe's provinces are offered for a Zimbabwean office


def test_flask_offices_add_and_list(app, runner):
    result = runner.invoke(args=["offices", "add", "plm", "--name", "Plumtree Border Post", "--kind", "border_post",
                                 "--subdivision", "ZW-MS"])
    assert result.exit_code == 0, result.output
    assert "added PLM Plumtree Border Post" in result.output
    added = office(app, "PLM")
    assert (added.kind, added.country, added.subdivision) == ("border_post", "ZW", "ZW-MS")

    listing = runner.invoke(args=["offices", "list"])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["BBR", "HQ", "HRE", "PLM"]
    assert "PLM\tborder_post\tPlumtree Border Post" in lines


BAD_ADD_COMMANDS = [
    (["B2", "--name", "X"], "code: Use 2 to 5 capital letters", 1),
    (["BBR", "--name", "Again"], "Office BBR already exists.", 1),
    (["PLM", "--name", "Plumtree", "--country", "XX"], "country: Choose a country", 1),
    (["PLM", "--name", "Plumtree", "--subdivision", "ZA-LP"], "ZA-LP is not a subdivision of ZW", 1),
    (["PLM", "--name", "Plumtree", "--kind", "embassy"], "Invalid value for '--kind'", 2),
    (["PLM"], "Missing option '--name'", 2),
]


def test_flask_offices_add_refuses_bad_input_and_saves_nothing(app, runner):
    before = snapshot(app)
    for args, message, exit_code in BAD_ADD_COMMANDS:
        result = runner.invoke(args=["offices", "add", *args])
        assert result.exit_code == exit_code, (args, result.output)
        assert message in result.output, args
        assert snapshot(app) == before, args
