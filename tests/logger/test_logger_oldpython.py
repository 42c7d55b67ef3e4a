"""The zipapp on the Pythons of old microscope PCs: 3.4 (the last for Windows XP) and 3.8 (the last for Windows 7).

Its sources are checked with vermin (the minimum Python must stay 3.4) and for the
calls vermin cannot see on an untyped object; then the zipapp itself runs, against a
real hub, under each older interpreter this machine has.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from build_zipapp import HEADLESS  # the files that go into the zipapp, one list (LOGGER_DIR is on sys.path)
from loggerkit import LOGGER_DIR, logger_env, run_cli, write_config
from nxhub_logger.journal import Journal
from tkkit import xvfb  # noqa: F401 -- a fixture

SOURCES = [LOGGER_DIR / "nxhub_logger" / name for name in HEADLESS]
# Newer than 3.4 and invisible to vermin on a Path or sqlite string it cannot type: each once bit this code.
NEWER_CALLS = {r"\.read_text\(": "Path.read_text is 3.5+", r"\.write_text\(": "Path.write_text is 3.5+",
               r"exist_ok=True\)": "Path.mkdir(exist_ok) is 3.5+ (os.makedirs is fine)", r"missing_ok": "Path.unlink(missing_ok) is 3.8+",
               r"\.fromisoformat\(": "datetime.fromisoformat is 3.7+", r"ON CONFLICT": "SQLite UPSERT is newer than Python 3.4's SQLite",
               r"subprocess\.run\(": "subprocess.run is 3.5+", r"os\.scandir\(": "os.scandir is 3.5+"}


def test_zipapp_sources_need_no_python_newer_than_3_4() -> None:
    pytest.importorskip("vermin", reason="pip install vermin (in the [dev] extra)")
    run = subprocess.run([sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())", "--target=3.4-", "--no-tips", "--violations", *map(str, SOURCES)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Minimum required versions: 3.4" in run.stdout, run.stdout + run.stderr


def test_zipapp_sources_avoid_calls_vermin_cannot_see() -> None:
    found = [f"{src.name}:{n}: {why}" for src in SOURCES for n, line in enumerate(src.read_text().splitlines(), 1)
             for pattern, why in NEWER_CALLS.items() if re.search(pattern, line) and "os.makedirs" not in line]
    assert found == []


@pytest.mark.parametrize("text", ["2026-03-01T09:00:00+00:00", "2026-03-01T09:00:00.123456+00:00", "2026-03-01T10:30:05.5+01:30",
                                  "2026-03-01T09:00:00-05:00", "2026-03-01T09:00:00"])
def test_journal_reads_times_as_fromisoformat_does(text) -> None:
    """The journal's own ISO parser (3.4 has no fromisoformat) reads what this and newer Pythons wrote."""
    import datetime as dt

    from nxhub_logger.journal import parse_time

    assert parse_time(text) == dt.datetime.fromisoformat(text)
    assert parse_time(text).utcoffset() == dt.datetime.fromisoformat(text).utcoffset()


# -- the zipapp itself under older interpreters --------------------------------------------------------------------------

OLD_PYTHONS = ["3.4", "3.5", "3.6", "3.7", "3.8", "pypy3"]


def find_python(version: str) -> str | None:
    """An interpreter of exactly this version on this machine: on PATH, in pyenv's versions, or uv's; None if none."""
    import glob
    import os
    import shutil

    name = "pypy3" if version == "pypy3" else f"python{version}"
    found = [shutil.which(name)]
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if version != "pypy3":
        found += sorted(glob.glob(os.path.join(pyenv, "versions", f"{version}.*", "bin", name)), reverse=True)
        uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        if Path(uv).exists():
            res = subprocess.run([uv, "python", "find", "--no-project", version], capture_output=True, text=True, timeout=30)
            found.append(res.stdout.strip() if res.returncode == 0 else None)
    want = "3.9" if version == "pypy3" else version  # Debian's pypy3 speaks Python 3.9
    for exe in filter(None, found):
        probe = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True,
                               timeout=30)
        if probe.returncode == 0 and probe.stdout.strip() == want:
            return exe
    return None


@pytest.fixture(params=OLD_PYTHONS)
def old_python(request) -> str:
    exe = find_python(request.param)
    if exe is None:
        pytest.skip(f"no Python {request.param} on this machine (pyenv, uv or Debian could not provide it here)")
    return exe


@pytest.fixture(scope="module")
def pyz(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zipapp") / "nxhub-logger.pyz"
    build = subprocess.run([sys.executable, str(LOGGER_DIR / "build_zipapp.py"), str(out)], capture_output=True, text=True, timeout=60)
    assert build.returncode == 0, build.stderr
    return out


def test_zipapp_commands_on_an_old_python_lose_and_duplicate_nothing(old_python, pyz, hub, logger_home) -> None:
    """Offline queueing, kill -9 after journaling and after the hub stored it, replay; the journal shared with today's Python."""
    import signal

    cfg = write_config(logger_home, hub.url, hub.token)
    env = logger_env(logger_home)
    env.pop("PYTHONPATH")

    def old(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([old_python, "-I", "-S", str(pyz), "--config", str(cfg), *args], env={**env, **extra},
                              capture_output=True, text=True, timeout=60)

    start = old("start", "--user", "alice")  # the hub is down
    assert start.returncode == 0 and "queued (1 waiting): hub unreachable" in start.stdout, start.stdout + start.stderr
    assert old("note", "lost?", NXHUB_LOGGER_FAULT="after-journal").returncode == -signal.SIGKILL
    hub.up()
    assert old("note", "twice?", NXHUB_LOGGER_FAULT="after-send").returncode == -signal.SIGKILL  # the hub stored the START
    assert [k for k, _ in hub.events()] == ["START"]
    assert "delivered" in run_cli(logger_home, "end", config=cfg).stdout  # today's Python reads the old one's journal
    status = old("status")  # and the old one reads what today's wrote
    assert "4 delivered, 0 queued, 0 refused" in status.stdout and "none running" in status.stdout, status.stdout + status.stderr
    journal = Journal(logger_home / "journal.sqlite3")
    try:
        assert hub.events() == [(ev.kind, ev.uuid) for ev in journal.events()]
    finally:
        journal.close()
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "NOTE", "END"]


TK_DRIVER = """
import sys, threading, time
from nxhub_logger import settings as config
from nxhub_logger.tkwindow import TkLoggerWindow
window = TkLoggerWindow(config.load(sys.argv[1]))
go = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), go.set()), daemon=True).start()

def run_until(cond, limit=30):
    deadline = time.time() + limit
    while not cond():
        if time.time() > deadline:
            sys.exit("timed out: %r %r" % (window.link, window.journal.counts()))
        window.root.update(); time.sleep(0.02)

run_until(lambda: window.link.state == "online")
window.start_button.invoke()
window.dialog.user.set("bob")
window.dialog.ok.invoke()
window.note_button.invoke()
window.dialog.text.insert("1.0", "from Python %d.%d" % sys.version_info[:2])
window.dialog.ok.invoke()
run_until(lambda: window.journal.counts()["queued"] == 0 and " 0 waiting" in window.footer["text"])  # shown, not only sent
print("shot", window.root.winfo_rootx(), window.root.winfo_rooty(), window.root.winfo_width(), window.root.winfo_height(), flush=True)
run_until(go.is_set)
window.end_button.invoke()
window.dialog.ok.invoke()
run_until(lambda: window.journal.counts()["queued"] == 0)
window.close()
print("closed")
"""


def test_zipapp_tk_window_on_an_old_python(old_python, pyz, hub, logger_home, xvfb, tmp_path) -> None:  # noqa: F811
    """The Tk window from the zipapp, driven under the old interpreter; a screenshot of it taken from outside."""
    probe = subprocess.run([old_python, "-c", "import tkinter"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"{old_python} has no tkinter: {(probe.stderr.strip().splitlines() or ['?'])[-1]}")
    from PIL import ImageGrab

    cfg = write_config(logger_home, hub.up().url, hub.token)
    env = logger_env(logger_home, DISPLAY=xvfb)
    env["PYTHONPATH"] = str(pyz)  # the zipapp's own modules, nothing else
    proc = subprocess.Popen([old_python, "-S", "-c", TK_DRIVER, str(cfg)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["shot"], line + [proc.stderr.read()[-2000:]]
        x, y, w, h = map(int, line[1:])
        ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=xvfb).save(tmp_path / "logger-tk-old-python.png")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "closed" in out, out + err
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]
