"""The hub's Logger API over HTTP, with the standard library only (urllib), so the zipapp needs nothing installed.

Failures are sorted by what the sender must do about them:
``Unreachable`` (network, timeout, 5xx, 429: retry later), ``Unauthorized``
(401/403: the token is wrong or revoked, keep everything and tell the
operator) and ``Refused`` (any other 4xx: the server will never accept this
request as it is). Python 3.4 syntax and calls (the zipapp runs on old PCs),
where an old OpenSSL may not manage the hub's TLS: ``TlsProblem`` names the fix.
"""

import json

from nxhub_logger import __version__


class HubError(Exception):
    """Base of every failure talking to the hub; ``str()`` is a one-line reason for the operator."""

    status = None


class Unreachable(HubError):
    """Try again later: the hub is down, slow or overloaded."""


class TlsProblem(Unreachable):
    """This Python's TLS cannot talk to the hub (old OpenSSL, unknown CA); events stay queued until it is fixed."""


class Unauthorized(HubError):
    """The instrument token was refused (revoked or mistyped)."""


class Refused(HubError):
    """The hub answered that this request is invalid; resending it will not help."""


class HubClient:
    """One hub, one instrument token. ``base_url`` is the hub's address, e.g. https://hub.example.org/services/api.

    ``ca_bundle``: a PEM file of the site's CA certificates, for a hub whose certificate
    an old PC's Python does not trust (its own CA store is years out of date).
    """

    def __init__(self, base_url, token, timeout=10.0, ca_bundle=""):
        self.base = base_url.rstrip("/")
        if not self.base.endswith("/api/v1"):
            self.base += "/api/v1"
        self.token = token
        self.timeout = timeout
        self.ca_bundle = ca_bundle

    def _request(self, method, path, body=None, query=None):
        import http.client  # here, not at import: the window shows before the HTTP stack (with ssl) is loaded
        import urllib.error
        import urllib.parse
        import urllib.request

        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer " + self.token, "Accept": "application/json",
                   "User-Agent": "nxhub-logger/" + __version__}
        if data:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout, **self._tls())
            try:
                return json.loads((resp.read() or b"null").decode("utf-8"))
            finally:
                resp.close()
        except urllib.error.HTTPError as exc:
            raise _classify(exc.code, _message(exc)) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets and ssl errors are OSErrors
            reason = getattr(exc, "reason", exc)
            if _is_tls(reason):
                raise TlsProblem(tls_advice(reason)) from None
            raise Unreachable("hub unreachable: {}".format(reason)) from None
        except ValueError as exc:  # a proxy's HTML page instead of JSON (or, before 3.7, a certificate's wrong name)
            if _is_tls(exc):
                raise TlsProblem(tls_advice(exc)) from None
            raise Unreachable("hub sent an answer that is not JSON: {}".format(exc)) from None

    def _tls(self):
        if not (self.ca_bundle and self.base.startswith("https:")):
            return {}
        import ssl

        try:
            return {"context": ssl.create_default_context(cafile=self.ca_bundle)}
        except (OSError, ssl.SSLError) as exc:
            raise TlsProblem("cannot read the CA bundle {} ({}): fix \"ca_bundle\" in the config file".format(
                self.ca_bundle, exc)) from None

    def heartbeat(self):
        return self._request("GET", "/logger/heartbeat")

    def reservations(self):
        return self._request("GET", "/logger/reservations")

    def files_since(self, since):
        return self._request("GET", "/logger/files", query={"since": since})

    def post_events(self, events):
        """Send events in one request; the server's per-event results, in the same order."""
        return self._request("POST", "/logger/events", {"events": events})["results"]


def _is_tls(reason):
    try:
        import ssl
    except ImportError:  # a Python built without OpenSSL: https cannot work at all
        return False
    return isinstance(reason, (ssl.SSLError, ssl.CertificateError))


def tls_advice(reason):
    """One line for the operator: what failed, this Python's OpenSSL, and the two ways out."""
    import ssl

    return ("TLS to the hub failed ({}; this Python has {}). Ask a facility admin for the site's CA file and set "
            "\"ca_bundle\" in the config file, or, on the facility network, use the hub's http:// address "
            "(the instrument token still applies)".format(reason, ssl.OPENSSL_VERSION))


def _message(exc):
    """The hub's one-line reason from a urllib HTTPError's JSON body."""
    try:
        raw = exc.read()
        return str(json.loads(raw.decode("utf-8"))["error"]["message"])[:500]
    except Exception:
        return exc.reason if isinstance(exc.reason, str) else "HTTP {}".format(exc.code)


def _classify(status, message):
    if status in (401, 403):
        err = Unauthorized("the hub refused the instrument token ({}: {})".format(status, message))
    elif status in (408, 425, 429) or status >= 500:
        err = Unreachable("hub error {}: {}".format(status, message))
    else:
        err = Refused("{}: {}".format(status, message))
    err.status = status
    return err
