"""Secrets never reach the log output."""

from __future__ import annotations

import logging

from nexuslims_kernel.db.tokens import new_token
from nexuslims_kernel.logs import ScrubFilter, scrub


def test_tokens_and_passwords_are_scrubbed(caplog) -> None:
    token = new_token()
    logger = logging.getLogger("nxhub.test")
    logger.addFilter(ScrubFilter())
    with caplog.at_level(logging.INFO):
        logger.info("logger %s connected to %s with header Authorization: Bearer %s", token, "postgresql://u:s3cret@db/x", token)
    text = caplog.text
    assert token not in text and "s3cret" not in text
    assert "nxh_***" in text and "postgresql://u:***@db/x" in text


def test_scrub_keeps_harmless_text() -> None:
    assert scrub("built session 12 in 0.4 s") == "built session 12 in 0.4 s"
    assert scrub("GET /api/v1/records?token=abc123&q=x") == "GET /api/v1/records?token=***&q=x"


def test_a_logged_database_failure_shows_no_password_or_token_in_its_traceback() -> None:
    """Through the real set-up (``configure_logging``, as every nxhub command uses), in a fresh process."""
    import subprocess
    import sys

    code = """
import logging
from nexuslims_kernel.logs import configure_logging
from nexuslims_kernel.db import Database
configure_logging("INFO")
db = Database("postgresql+psycopg://nxuser:Tr0ub4dor-pw@127.0.0.1:1/nxhub")
try:
    with db.session() as sess:
        sess.execute(__import__("sqlalchemy").text("select 1"))
except Exception:
    logging.getLogger("nxhub.test").exception("cannot reach the database for token nxh_abcdefgh12345678")
try:
    raise RuntimeError("bad header Authorization: Bearer nxh_zyxwvuts87654321 for postgresql://u:hunter2@db/x")
except RuntimeError:
    logging.getLogger("nxhub.test").exception("request failed")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    text = out.stderr
    assert "Traceback" in text and "cannot reach the database" in text  # the failure itself is logged in full
    for secret in ("Tr0ub4dor-pw", "nxh_abcdefgh12345678", "nxh_zyxwvuts87654321", "hunter2"):
        assert secret not in text, f"{secret} leaked into the log"
    assert "nxuser:***@" in text or "nxuser" not in text
