"""Fault injection for the crash tests: ``NXHUB_LOGGER_FAULT=<point>`` kills this process with SIGKILL there."""

import os
import signal

FAULT_ENV = "NXHUB_LOGGER_FAULT"
POINTS = ("after-journal", "after-send")


def crash_point(name):
    """A real kill -9 at a precise point, so a test can prove nothing is lost or duplicated."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
