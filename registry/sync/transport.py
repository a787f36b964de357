"""HTTP to central: signs every request, and learns central's clock when its own is off."""
import json
import time
from urllib.parse import urljoin, urlsplit

from registry.sync.signing import sign_headers


class SyncUnavailable(RuntimeError):
    """Central could not be reached or refused; the message is one line an officer can read. When central
    refused, `code` is its error code and `error` its whole error object (docs/sync.md, Errors)."""

    def __init__(self, message, code=None, error=None):
        super().__init__(message)
        self.code, self.error = code, error or {}


class CentralClient:
    def __init__(self, base_url, office, secret, clock_offset=0, timeout=(5, 120), session=None, clock=time.time):
        if not base_url:
            raise SyncUnavailable("CENTRAL_URL is not set: this office does not know where central is")
        if not secret:
            raise SyncUnavailable("OFFICE_SECRET is not set: ask head office to issue this office's secret")
        self.base_url = base_url.rstrip("/") + "/"
        self.office, self.secret = office, secret
        self.clock_offset = clock_offset
        self.clock = clock  # this machine's clock, which may be wrong by days
        self.timeout = timeout
        if session is None:
            # Imported here: requests and its dependencies are a tenth of a second every command would pay.
            import requests

            session = requests.Session()
        self.http = session

    def _send(self, method, path, body=b""):
        import requests

        url = urljoin(self.base_url, path.lstrip("/"))
        signed_path = urlsplit(url).path + (("?" + urlsplit(url).query) if urlsplit(url).query else "")
        headers = sign_headers(self.office, self.secret, method, signed_path, body, now=self.clock() + self.clock_offset)
        headers["Content-Type"] = "application/json"
        try:
            return self.http.request(method, url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SyncUnavailable(f"central unreachable at {self.base_url}: {exc.__class__.__name__}") from None

    def request(self, method, path, payload=None, body=None):
        """Send a signed request and return the decoded JSON; raise SyncUnavailable with central's reason.
        The body is `payload` as JSON, or `body`, bytes of JSON already encoded."""
        if body is None:
            body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else b""
        response = self._send(method, path, body)
        if response.status_code == 401 and _error_code(response) == "stale_timestamp":
            server_time = _json(response).get("error", {}).get("server_time")
            if isinstance(server_time, int):
                # Our clock is off: sign with central's time from now on (ordering never uses clocks).
                self.clock_offset = server_time - int(self.clock())
                response = self._send(method, path, body)
        if response.status_code != 200:
            error = _json(response).get("error", {})
            message = error.get("message") or response.reason or "no reason given"
            raise SyncUnavailable(f"central refused ({response.status_code} {error.get('code', '')}): {message}".strip(),
                                  code=error.get("code"), error=error)
        data = _json(response)
        if not data:
            raise SyncUnavailable("central answered with something that is not JSON")
        return data


def _json(response):
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response):
    return _json(response).get("error", {}).get("code")
