"""Each API request is logged exactly once, with its status and, when it failed, why."""

from __future__ import annotations

import logging
import time


def test_each_request_is_logged_once(api_server, caplog) -> None:
    caplog.set_level(logging.INFO)
    with api_server.client() as client:
        assert client.get("/records").status_code == 200
        assert client.get("/records/999").status_code == 404
    with api_server.client("nxh_not_a_real_token_at_all") as client:
        assert client.get("/me").status_code == 401
    time.sleep(0.2)  # the server thread logs after it has answered

    def lines(path: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if path in r.getMessage() and r.name != "httpx"]  # the client logs too

    (ok,) = lines("/api/v1/records ")
    assert ok.levelno == logging.INFO and ok.getMessage().startswith("200 GET /api/v1/records ")
    (missing,) = lines("/api/v1/records/999")
    assert missing.levelno == logging.WARNING and missing.getMessage().startswith("404 GET")
    assert "record 999 not found" in missing.getMessage()
    (denied,) = lines("/api/v1/me")
    assert denied.getMessage().startswith("401 GET") and "nxh_not" not in caplog.text
