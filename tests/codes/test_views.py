"""The code lists as JSON for the registration form's pickers."""
from registry.codes.isco import read_packaged


def test_isco_json_lists_every_group_for_a_logged_in_user(client, login):
    login(client, "statistician")
    response = client.get("/codes/isco.json")
    assert response.status_code == 200
    groups = response.get_json()
    assert groups == [{"code": e.code, "level": e.level, "title": e.title}
                      for e in sorted(read_packaged(), key=lambda entry: entry.code)]
    assert "private" in response.headers["Cache-Control"]


def test_subdivisions_json_names_the_provinces(client, login):
    for url in ("/codes/isco.json", "/codes/subdivisions/ZA.json"):
        response = client.get(url)  # not logged in yet
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next=")
    login(client, "officer")
    provinces = client.get("/codes/subdivisions/ZA.json").get_json()
    assert {"code": "ZA-LP", "name": "Limpopo"} in provinces
    assert all(item["code"].startswith("ZA-") for item in provinces)
    assert len(provinces) == 9  # South Africa's nine provinces
    assert client.get("/codes/subdivisions/za.json").get_json() == provinces
    assert client.get("/codes/subdivisions/XX.json").get_json() == []
