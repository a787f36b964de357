"""A logged-in browser-like HTTP session over one keep-alive connection (standard library only)."""
import http.client
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ERROR_RE = re.compile(r'<p[^>]*class="(?:error|flash flash-error)"[^>]*>(.*?)</p>', re.S)
TAG_RE = re.compile(r"<[^>]+>")


class Response:
    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def location(self):
        return self.headers.get("Location", "")

    def error_messages(self):
        """The messages an officer would see on a refused form (field errors and flashed errors)."""
        return [" ".join(TAG_RE.sub("", message).split()) for message in ERROR_RE.findall(self.text)]


def csrf_token(html):
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).replace("&#34;", '"').replace("&amp;", "&")


class Session:
    def __init__(self, port, timeout=60):
        self.port, self.timeout = port, timeout
        self.cookies = {}
        self.connection = None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method, path, form=None, keep_cookies=True):
        """Send one request; the elapsed time covers sending it and reading the whole response.

        `keep_cookies=False` ignores the response's Set-Cookie, e.g. when it only adds a flashed message that
        a browser would have taken out again by following the redirect.
        """
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()  # a fresh connection for the next request; this one is reported as failed
            raise
        seconds = time.perf_counter() - started
        for header in (response.msg.get_all("Set-Cookie") or []) if keep_cookies else []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return Response(response.status, response.msg, data, seconds)

    def login(self, username, password):
        page = self.request("GET", "/login")
        form = {"csrf_token": csrf_token(page.text), "username": username, "password": password, "next": ""}
        response = self.request("POST", "/login", form)
        if response.status != 302:
            raise RuntimeError(f"login as {username} failed ({response.status}): {response.error_messages()}")
        return self
