"""docs/access.md lists every route of returns and complaints, with the roles the code lets in."""
import re
from pathlib import Path

from registry.core.access import ADMIN, OFFICER, STATISTICIAN, SUPERVISOR

ACCESS_DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def _documented_path(rule):
    path = re.sub(r"<uuid:[a-z_]+>", "ID", rule.rule)
    return re.sub(r"<[a-z_]+>", "NUMBER", path)


def test_every_return_and_complaint_route_is_in_the_access_table(app):
    rows = [line for line in ACCESS_DOC.read_text().splitlines() if line.startswith("| `")]
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if view.__module__ != "registry.recruitment.aftercare_views":
            continue
        path = _documented_path(rule)
        row = next((line for line in rows if f"`{path}`" in line), None)
        assert row is not None, f"{path} is not in docs/access.md"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        officer, supervisor, statistician, admin = cells[2:6]
        assert view.access_roles == {OFFICER, SUPERVISOR, ADMIN}, rule.endpoint
        assert (statistician, admin) == ("no", "yes"), path
        assert officer != "no" and supervisor != "no", path
        assert STATISTICIAN not in view.access_roles
        checked += 1
    assert checked == 8
