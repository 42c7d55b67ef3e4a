"""Logging set-up with secrets scrubbed before anything is written.

Tokens (``nxh_...``), bearer headers and passwords in database URLs are
replaced by ``***`` in every record, whatever module logged them. The whole
formatted text is scrubbed (message, arguments, traceback and stack), because a
logged exception carries its own copy of the URL or token that caused it.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRETS = [
    (re.compile(r"nxh_[A-Za-z0-9_-]{8,}"), "nxh_***"),
    (re.compile(r"(?i)(authorization:\s*(?:bearer|token)\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)((?:token|api_token|password)=)[^&\s]+"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1***@"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """Rewrites the formatted message so no secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ScrubFormatter(logging.Formatter):
    """Formats as usual, then scrubs the whole text: tracebacks hold secrets too."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (tests and daemons swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr at ``level`` with secrets scrubbed (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "_nxhub", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = _StderrHandler(sys.stderr)
    handler._nxhub = True  # type: ignore[attr-defined]
    handler.setFormatter(ScrubFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that narrate routine work at INFO; their warnings still show.
    for name in ("alembic", "hyperspy", "rsciio", "exspy", "tornado.access", "numexpr", "matplotlib", "httpx", "httpcore",
                 "botocore", "aiobotocore", "s3fs", "fsspec"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def stdout_handlers_to_stderr() -> None:
    """Point every logging handler that writes to stdout at stderr instead.

    rosettasciio and HyperSpy install a ``StreamHandler(sys.stdout)`` on their
    loggers when imported, which would mix log lines into a command's output.
    """
    outs = {id(sys.__stdout__), id(sys.stdout)}
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in outs:
                handler.setStream(sys.stderr)
