"""Security headers on every response, the session cookie's flags, and no caching of logged-in pages."""
from tests.conftest import extract_csrf
from tests.support.factories import PASSWORD


def session_cookie_header(response):
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_security_headers_everywhere_and_no_caching_once_logged_in(client, login):
    login_page = client.get("/login")
    assert_security_headers(login_page)
    assert "no-store" not in login_page.headers.get("Cache-Control", "")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert_security_headers(missing)
    refused = client.post("/login", data={})  # no CSRF token
    assert refused.status_code == 400
    assert_security_headers(refused)
    login(client, "officer")
    for url in ("/people/", "/account/password", "/no/such/page"):
        response = client.get(url)
        assert response.status_code == (404 if url == "/no/such/page" else 200), url
        assert_security_headers(response)
        # Pages with personal data must not linger in a shared browser's cache.
        assert "no-store" in response.headers["Cache-Control"], url
    assert_security_headers(client.get("/codes/isco.json"))


def test_session_cookie_is_httponly_and_samesite_lax_and_plain_http_in_tests(client):
    page = client.get("/login")
    token = extract_csrf(page.get_data(as_text=True))
    response = client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    cookie = session_cookie_header(response)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # the test config serves plain HTTP on 127.0.0.1
    assert "Strict-Transport-Security" not in response.headers
