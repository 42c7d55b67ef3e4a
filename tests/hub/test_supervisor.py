"""The supervisor behind ``nxhub up``, with small real commands: names on lines, back-off restarts, clean stops."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import psutil

from nexuslims_kernel.hub.supervisor import Component, Supervisor

PY = sys.executable


async def _run_for(sup: Supervisor, until, timeout: float = 30) -> None:
    """Run ``sup`` until ``until()`` is true (or time is up), then stop it and wait for the stop."""
    task = asyncio.create_task(sup.run())
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.05)
    sup.stop()
    await asyncio.wait_for(task, 60)


def test_lines_are_named_and_a_dying_component_is_restarted_with_growing_back_off() -> None:
    lines: list[str] = []
    crasher = Component("crasher", [PY, "-c", "print('boom', flush=True); raise SystemExit(3)"])
    steady = Component("steady", [PY, "-c", "import time; print('hello', flush=True); time.sleep(60)"])
    sup = Supervisor([crasher, steady], lines.append, backoff_s=0.2, backoff_max_s=0.8, subreaper=False)
    asyncio.run(_run_for(sup, lambda: crasher.restarts >= 3))

    assert "steady   | hello" in lines and lines.count("crasher  | boom") >= 3
    exits = [line for line in lines if "crasher exited with code 3" in line]
    delays = [float(line.rsplit("restarting in ", 1)[1].split()[0]) for line in exits]
    assert len(exits) >= 3 and delays[:3] == sorted(delays[:3])  # back-off grows (printed rounded)
    assert crasher.restarts >= 3 and steady.restarts == 0
    assert any(line.startswith("status   | steady    running") for line in lines)
    assert steady.state == "stopped" and crasher.state == "stopped"


def test_stop_ends_process_groups_and_detached_grandchildren(tmp_path: Path) -> None:
    """A component whose child starts its own session (as JupyterHub's proxy does) leaves nothing behind."""
    pidfile = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([{PY!r}, '-c', 'import time; time.sleep(120)'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('spawned', flush=True)\n"
        "time.sleep(120)\n"
    )
    lines: list[str] = []
    parent = Component("parent", [PY, "-c", script])
    ignores_term = Component("stubborn", [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                                    "print('up', flush=True); time.sleep(120)"])
    sup = Supervisor([parent, ignores_term], lines.append, grace_s=1.0, subreaper=False)
    asyncio.run(_run_for(sup, lambda: pidfile.exists() and "stubborn | up" in lines))

    grandchild = int(pidfile.read_text())
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert any("stubborn did not stop in 1 s; killing it" in line for line in lines)
    assert not psutil.Process().children(recursive=True) or all(
        p.pid in sup._preexisting for p in psutil.Process().children(recursive=True))


def test_a_component_reports_running_only_once_its_probe_passes(tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    lines: list[str] = []
    slow = Component("slow", [PY, "-c", f"import time, pathlib; time.sleep(0.5); pathlib.Path({str(flag)!r}).touch(); time.sleep(60)"],
                     ready=flag.exists)
    sup = Supervisor([slow], lines.append, subreaper=False)
    asyncio.run(_run_for(sup, lambda: slow.state == "running"))
    states = [line.split()[3] for line in lines if line.startswith("status   | slow ")]
    assert states[:2] == ["starting", "running"] and flag.exists()


def test_a_command_that_cannot_start_is_reported_and_retried() -> None:
    lines: list[str] = []
    missing = Component("missing", ["/nonexistent/nxhub-binary"])
    sup = Supervisor([missing], lines.append, backoff_s=0.1, subreaper=False)
    asyncio.run(_run_for(sup, lambda: missing.restarts >= 2))
    assert any("cannot start /nonexistent/nxhub-binary" in line for line in lines)


def test_ready_is_announced_when_the_essential_parts_run_even_if_a_helper_keeps_failing() -> None:
    from nexuslims_kernel.hub.supervisor import run_until_signal

    lines: list[str] = []
    front = Component("front", [PY, "-c", "import time; time.sleep(60)"])
    helper = Component("helper", [PY, "-c", "raise SystemExit(2)"])
    sup = Supervisor([front, helper], lines.append, backoff_s=0.1, subreaper=False)

    def ready() -> None:
        lines.append("READY")
        sup.stop()

    run_until_signal(sup, on_ready=ready, ready_check_s=0.1, essential={"front"})
    assert "READY" in lines and front.state == "stopped"


def test_components_get_sigterm_when_the_supervisor_is_killed_outright(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess

    pidfile = tmp_path / "child.pid"
    child_code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    script = tmp_path / "supervise.py"
    script.write_text(
        "import asyncio, sys\n"
        "from nexuslims_kernel.hub.supervisor import Component, Supervisor\n"
        f"child = Component('c', [sys.executable, '-c', {child_code!r}])\n"
        "asyncio.run(Supervisor([child], print, subreaper=False).run())\n"
    )
    sup = subprocess.Popen([PY, str(script)], env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline and sup.poll() is None
        time.sleep(0.1)
    child = psutil.Process(int(pidfile.read_text()))
    sup.send_signal(signal.SIGKILL)
    sup.wait(10)
    gone, alive = psutil.wait_procs([child], timeout=10)
    for proc in alive:
        proc.kill()
    assert gone, "a component outlived its killed supervisor"


def test_helpers_start_once_the_front_door_runs_or_after_their_timeout(tmp_path: Path) -> None:
    flag = tmp_path / "front-ready"
    lines: list[str] = []
    front = Component("front", [PY, "-c", f"import time, pathlib; time.sleep(1); pathlib.Path({str(flag)!r}).touch(); time.sleep(60)"],
                      ready=flag.exists)
    helper = Component("helper", [PY, "-c", "import time; print('helping', flush=True); time.sleep(60)"], after="front")
    orphan = Component("orphan", [PY, "-c", "import time; print('alone', flush=True); time.sleep(60)"], after="never-running",
                       after_timeout_s=0.5)
    sup = Supervisor([front, helper, orphan], lines.append, subreaper=False)
    asyncio.run(_run_for(sup, lambda: any("helping" in line for line in lines) and any("alone" in line for line in lines)))
    starts = [line.split()[2] for line in lines if line.startswith("status   |") and line.split()[3] in ("starting", "running")]
    # the helper's process starts only after the front door reported running; a missing predecessor only delays
    assert starts.index("helper") > starts.index("front", starts.index("front") + 1)
    assert any("alone" in line for line in lines)
