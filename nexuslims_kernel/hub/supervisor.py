"""A small process supervisor: what ``nxhub up`` uses to run the hub's components.

Each component is a command run in its own process group. Their output is one
stream, every line prefixed with the component's name; a component that exits
while the supervisor runs is reported and restarted with exponential back-off
(reset once it has stayed up for a while). On stop, each component's process
group gets SIGTERM, then SIGKILL after a grace period, and every descendant
still alive is killed: the supervisor marks itself a *child subreaper*
(Linux), so processes that detach into their own session (JupyterHub's proxy,
users' servers) are re-parented to it and cannot outlive it. Should the
supervisor itself be killed outright, each component gets SIGTERM from the
kernel (``PR_SET_PDEATHSIG``), and JupyterHub then stops its proxy and servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Component:
    """One supervised command. ``ready`` says when it is up (e.g. an HTTP probe); None: once started."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None
    ready: Callable[[], bool] | None = None
    #: start only once this component is running (or ``after_timeout_s`` passed): helpers importing
    #: SQLAlchemy at the same moment would slow the front door's start on a small machine
    after: str | None = None
    after_timeout_s: float = 30.0
    # state, owned by the supervisor
    pid: int | None = None
    state: str = "stopped"
    restarts: int = 0
    last_exit: int | None = None
    started_at: float = field(default=0.0, repr=False)

    def status_line(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "no process"
        exit_note = f", last exit {self.last_exit}" if self.last_exit is not None else ""
        return f"{self.name:<9} {self.state:<10} {pid}, restarts {self.restarts}{exit_note}"


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux prctl); False where that is not possible."""
    if _LIBC is None:
        return False
    try:
        return _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except AttributeError:
        return False


class Supervisor:
    """Run components until :meth:`stop` is called; ``say`` receives every output line."""

    def __init__(self, components: list[Component], say: Callable[[str], None], *,
                 backoff_s: float = 1.0, backoff_max_s: float = 30.0, stable_s: float = 60.0,
                 grace_s: float = 20.0, subreaper: bool = True) -> None:
        self.components = components
        self.say = say
        self.backoff_s, self.backoff_max_s, self.stable_s, self.grace_s = backoff_s, backoff_max_s, stable_s, grace_s
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._seen: set[psutil.Process] = set()
        # Children the caller had already (e.g. multiprocessing's resource tracker) are not ours to stop.
        self._preexisting = {p.pid for p in psutil.Process().children(recursive=True)}
        # Adopting orphans changes this whole process, so a library caller (tests) may decline it;
        # descendants seen while running are stopped either way.
        self.subreaper = become_subreaper() if subreaper else False

    def log(self, name: str, line: str) -> None:
        self.say(f"{name:<9}| {line}")

    def status(self) -> list[str]:
        return [c.status_line() for c in self.components]

    def report_status(self) -> None:
        for line in self.status():
            self.log("status", line)

    async def _pump(self, comp: Component, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the buffer: skip it
                continue
            if not raw:
                return
            self.log(comp.name, raw.decode(errors="replace").rstrip())

    async def _start(self, comp: Component) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            *comp.argv, env=comp.env, cwd=comp.cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, limit=1 << 20, preexec_fn=_die_with_parent,
        )
        comp.pid, comp.state, comp.started_at = proc.pid, "starting", time.monotonic()
        self._procs[comp.name] = proc
        self.log("status", comp.status_line())
        return proc

    async def _await_ready(self, comp: Component, proc: asyncio.subprocess.Process) -> None:
        while comp.ready is not None and proc.returncode is None and not self._stopping.is_set():
            try:
                ok = await asyncio.to_thread(comp.ready)
            except Exception:  # a failing probe only means "not yet"
                ok = False
            if ok:
                break
            await asyncio.sleep(0.3)
        if proc.returncode is None and not self._stopping.is_set():
            comp.state = "running"
            self.log("status", comp.status_line())

    async def _wait_for_predecessor(self, comp: Component) -> None:
        first = next((c for c in self.components if c.name == comp.after), None)
        deadline = time.monotonic() + comp.after_timeout_s
        while first is not None and first.state != "running" and time.monotonic() < deadline and not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=0.1)

    async def _run(self, comp: Component) -> None:
        """Start (after its predecessor), watch, restart with back-off until stopping."""
        delay = self.backoff_s
        if comp.after:
            comp.state = f"waits for {comp.after}"
            await self._wait_for_predecessor(comp)
        while not self._stopping.is_set():
            try:
                proc = await self._start(comp)
            except OSError as exc:
                comp.state, comp.pid = "failed", None
                self.log(comp.name, f"cannot start {comp.argv[0]}: {exc.strerror}")
            else:
                pump = asyncio.create_task(self._pump(comp, proc.stdout))
                ready = asyncio.create_task(self._await_ready(comp, proc))
                code = await proc.wait()
                ready.cancel()
                await asyncio.wait({pump}, timeout=2)
                comp.last_exit, comp.pid = code, None
                if self._stopping.is_set():
                    comp.state = "stopped"
                    return
                comp.state = "exited"
                up_for = time.monotonic() - comp.started_at
                if up_for >= self.stable_s:
                    delay = self.backoff_s
                self.log("status", f"{comp.name} exited with code {code} after {up_for:.1f} s; restarting in {delay:g} s")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            if self._stopping.is_set():
                comp.state = "stopped"
                return
            comp.restarts += 1
            delay = min(delay * 2, self.backoff_max_s)

    async def _reap_orphans(self) -> None:
        """Remember descendants (to kill at stop) and reap adopted orphans' zombies."""
        me = psutil.Process()
        own = {p.pid for p in self._procs.values()}
        while not self._stopping.is_set():
            with contextlib.suppress(psutil.Error):
                self._seen.update(me.children(recursive=True))
                for child in me.children():
                    if child.pid not in own and child.status() == psutil.STATUS_ZOMBIE:
                        with contextlib.suppress(ChildProcessError):
                            os.waitpid(child.pid, os.WNOHANG)
            own = {p.pid for p in self._procs.values()}
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=1.0)

    async def run(self) -> None:
        """Start everything and return once :meth:`stop` was called and all is stopped."""
        self._tasks = [asyncio.create_task(self._run(c)) for c in self.components]
        reaper = asyncio.create_task(self._reap_orphans())
        await self._stopping.wait()
        await self._terminate_all()
        await asyncio.gather(*self._tasks, reaper, return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()

    async def _terminate_all(self) -> None:
        """SIGTERM every component's process group, SIGKILL after the grace period, then the stragglers."""
        with contextlib.suppress(psutil.Error):
            self._seen.update(psutil.Process().children(recursive=True))
        for comp in self.components:
            proc = self._procs.get(comp.name)
            if proc is not None and proc.returncode is None:
                comp.state = "stopping"
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGTERM)
        waits = [p.wait() for p in self._procs.values() if p.returncode is None]
        if waits:
            _, pending = await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=self.grace_s)
            for name, proc in self._procs.items():
                if proc.returncode is None:
                    self.log("status", f"{name} did not stop in {self.grace_s:.0f} s; killing it")
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGKILL)
            if pending:
                await asyncio.wait(pending, timeout=5)
        await asyncio.to_thread(self._kill_leftovers)

    def _kill_leftovers(self) -> None:
        """Whatever descendant is still alive (adopted or recorded) gets SIGTERM, then SIGKILL."""
        with contextlib.suppress(psutil.Error):
            self._seen.update(psutil.Process().children(recursive=True))
        alive = [p for p in self._seen if p.pid not in self._preexisting and _alive(p)]
        for proc in alive:
            self.log("status", f"stopping leftover process {proc.pid} ({_name(proc)})")
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _, still = psutil.wait_procs(alive, timeout=5)
        for proc in still:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(still, timeout=5)
        for child in psutil.Process().children():  # reap adopted zombies
            with contextlib.suppress(ChildProcessError, psutil.Error):
                os.waitpid(child.pid, os.WNOHANG)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _name(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline()[:2]) or proc.name()
    except psutil.Error:
        return "?"


def run_until_signal(supervisor: Supervisor, on_ready: Callable[[], None] | None = None,
                     ready_check_s: float = 0.5, essential: set[str] | None = None) -> None:
    """Run ``supervisor`` until SIGINT or SIGTERM; ``on_ready`` once the ``essential`` components
    (default: all) are running, so a helper stuck in restarts does not hide the front door."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, supervisor.stop)
        runner = asyncio.create_task(supervisor.run())
        announced = False
        while not runner.done():
            if not announced and all(c.state == "running" for c in supervisor.components
                                     if essential is None or c.name in essential):
                announced = True
                supervisor.report_status()
                if on_ready is not None:
                    on_ready()
            await asyncio.wait({runner}, timeout=ready_check_s)
        await runner

    asyncio.run(main())
