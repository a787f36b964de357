from registry.auth.models import User
from registry.extensions import db


def test_seeded_database_has_users(ctx):
    assert db.session.query(User).count() == 5


def test_login_and_home(client, login):
    login(client, "officer")
    response = client.get("/", follow_redirects=True)
    assert b"Find a person" in response.data
