"""The hub client over TLS an old PC's Python cannot verify: a one-line message naming the fix, and the fix working.

A real HTTPS server on loopback with a self-signed certificate made by the openssl
command (the site CA an old Windows does not know).
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading

import pytest
from nxhub_logger import settings as config
from nxhub_logger.hubclient import HubClient, TlsProblem


@pytest.fixture
def tls_hub(tmp_path):
    """(url, CA file) of an HTTPS server answering the Logger's heartbeat."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "site-ca.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps({"instrument": "titan", "path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_unknown_ca_says_which_setting_fixes_it_and_the_setting_does(tls_hub, tmp_path) -> None:
    url, ca = tls_hub
    with pytest.raises(TlsProblem) as err:
        HubClient(url, "tok", timeout=5).heartbeat()
    message = str(err.value)
    assert message.startswith("TLS to the hub failed (") and "CERTIFICATE_VERIFY_FAILED" in message
    assert '"ca_bundle" in the config file' in message and "http:// address" in message and ssl.OPENSSL_VERSION in message
    assert HubClient(url, "tok", timeout=5, ca_bundle=str(ca)).heartbeat()["path"] == "/api/v1/logger/heartbeat"
    with pytest.raises(TlsProblem, match=r"cannot read the CA bundle .*missing\.pem"):
        HubClient(url, "tok", timeout=5, ca_bundle=str(tmp_path / "missing.pem")).heartbeat()


def test_ca_bundle_comes_from_the_config_file(tmp_path, logger_home) -> None:
    cfg = tmp_path / "fleet.json"
    cfg.write_text(json.dumps({"hub_url": "https://hub.example.org", "token": "s3cr3t-token", "ca_bundle": "C:\\site\\ca.pem"}))
    settings = config.load(cfg)
    assert settings.ca_bundle == "C:\\site\\ca.pem" and "s3cr3t" not in repr(settings)
