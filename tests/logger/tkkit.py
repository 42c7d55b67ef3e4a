"""Driving the Tk Logger window (the zipapp's) in tests: a private Xvfb display, the Tk loop pumped, screenshots.

Xvfb (Debian ``xvfb``) runs on a free display number for the test session; without it the
Tk tests skip and say so. Screenshots go to the test's tmp dir (never into tracked files).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

WAIT_S = 20.0


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number in :90-:199")


@pytest.fixture(scope="session")
def xvfb():
    """A headless X server for the session; yields its DISPLAY (also set in os.environ while it runs)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian: apt-get install xvfb); the Tk window tests need a display")
    number = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip(f"Xvfb did not start on :{number}: {proc.stderr.read().decode()[-300:]}")
        time.sleep(0.05)
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
