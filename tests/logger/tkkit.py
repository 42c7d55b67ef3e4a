"""Driving the Tk Logger window (the zipapp's) in tests: a private Xvfb display, the Tk loop pumped, screenshots.

Xvfb (Debian ``xvfb``) runs on a display it picks itself for the test session; without it the
Tk tests skip and say so. Screenshots go to the test's tmp dir (never into tracked files).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

WAIT_S = 20.0


@pytest.fixture(scope="session")
def xvfb():
    """A headless X server for the session (one per xdist worker); yields its DISPLAY, also set in os.environ meanwhile."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb); the Tk window tests need a display")
    read_end, write_end = os.pipe()  # -displayfd: Xvfb picks a free display itself and writes its number here
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], 15)
    number = os.read(read_end, 32).decode().strip() if ready else ""  # the pipe stays open: Xvfb dies if it cannot write
    if not number:
        proc.kill()
        os.close(read_end)
        pytest.skip(f"Xvfb did not start: {proc.stderr.read().decode()[-300:]}")
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield f":{number}"
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        proc.terminate()
        proc.wait(10)
        os.close(read_end)


def pump(window, seconds: float = 0.0) -> None:
    """Run the Tk loop for a while (the test is the main loop)."""
    end = time.monotonic() + seconds
    while True:
        window.root.update()
        if time.monotonic() >= end:
            return
        time.sleep(0.02)


def wait_until(window, condition, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the Tk window"
        pump(window, 0.05)


def invoke(window, button) -> None:
    """Press a button as the operator would: it must be shown and enabled."""
    pump(window)
    assert button.winfo_ismapped() and str(button["state"]) == "normal", button["text"]
    button.invoke()
    pump(window)


def screenshot(window, path: Path, toplevel=None) -> Path:
    """The window (or a dialog) as a PNG, grabbed from the X server with Pillow's XCB support."""
    from PIL import ImageGrab

    widget = toplevel or window.root
    pump(window, 0.3)
    x, y, w, h = widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height()
    ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=os.environ["DISPLAY"]).save(path)
    return path


def start_session(window, user: str = "bob", note: str = "", shot: Path | None = None):
    invoke(window, window.start_button)
    dialog = window.dialog
    if not dialog.user.get():  # no reservation to pre-fill from: type the user as an operator would
        dialog.user.set(user)
    if note:
        dialog.note.insert(0, note)
    if shot is not None:
        screenshot(window, shot, dialog.top)
    invoke(window, dialog.ok)
    return dialog


def add_note(window, text: str) -> None:
    invoke(window, window.note_button)
    window.dialog.text.insert("1.0", text)
    invoke(window, window.dialog.ok)


def end_session(window) -> None:
    invoke(window, window.end_button)
    invoke(window, window.dialog.ok)


def journal_events(window) -> list[tuple[str, str]]:
    return [(ev.kind, ev.uuid) for ev in window.journal.events()]
