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
