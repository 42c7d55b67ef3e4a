"""``nxhub doctor``: check what the local hub needs, and say how to fix each failure.

Each check returns :class:`Check` rows (name, ok, detail, fix). Checks never
change anything; they only read files, run ``--version`` and make HTTP GETs on
loopback. The hub is "running" when its own API port answers; then the ports
it holds count as fine, and the proxy and the API must answer too.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass

import httpx

from nexuslims_kernel.config import Settings
from nexuslims_kernel.hub.components import REPO, local_url, proxy_binary
from nexuslims_kernel.hub.ports import hub_ports, port_problem

NODE_MIN = 18  # configurable-http-proxy 4.6 needs Node 18+


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _get(url: str, timeout: float = 3) -> int | None:
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def hub_running(settings: Settings) -> bool:
    return _get(f"http://127.0.0.1:{settings.hub.api_port}/hub/api/") == 200


def check_ports(settings: Settings, running: bool) -> list[Check]:
    if running:
        return [Check("ports", True, "in use by the running hub")]
    out = []
    for name, (host, port, knob) in hub_ports(settings).items():
        problem = port_problem(host, port)
        out.append(Check(f"port {name}", problem is None, f"{host}:{port} " + (problem or "is free"),
                         "" if problem is None else f"stop what uses it (ss -ltnp 'sport = :{port}') or move the hub with {knob}"))
    return out


def check_node() -> list[Check]:
    node = shutil.which("node")
    if node is None:
        return [Check("node", False, "Node.js is not installed", "apt-get install nodejs npm (Node 18 or newer)")]
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Check("node", False, f"{node} does not run: {exc}", "reinstall Node.js (apt-get install --reinstall nodejs)")]
    major = int(m.group(1)) if (m := re.match(r"v(\d+)", version)) else 0
    ok = major >= NODE_MIN
    return [Check("node", ok, f"{node} {version}", "" if ok else f"install Node.js {NODE_MIN} or newer")]


def check_proxy_binary() -> list[Check]:
    chp = proxy_binary()
    fix = f"cd {REPO} && npm ci   (installs configurable-http-proxy pinned in package.json)"
    if chp is None:
        return [Check("proxy binary", False, "configurable-http-proxy not found", fix)]
    try:
        run = subprocess.run([chp, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Check("proxy binary", False, f"{chp} does not run: {exc}", fix)]
    ok = run.returncode == 0
    return [Check("proxy binary", ok, f"{chp} {run.stdout.strip() or run.stderr.strip()[:120]}", "" if ok else fix)]


def check_data_dir(settings: Settings) -> list[Check]:
    path = settings.data_dir
    if not path.is_dir():
        return [Check("data dir", False, f"{path} does not exist", "nxhub init   (or nxhub up, which creates it)")]
    mode = stat.S_IMODE(path.stat().st_mode)
    if not os.access(path, os.W_OK | os.X_OK):
        return [Check("data dir", False, f"{path} is not writable by this user",
                      f"chown -R {os.getuid()} {path}  (or run as its owner)")]
    if mode & 0o007:
        return [Check("data dir", False, f"{path} is open to every user (mode {mode:o}); it holds the database and sign-ins",
                      f"chmod o-rwx {path}")]
    out = [Check("data dir", True, f"{path} (mode {mode:o})")]
    logins = path / "demo-logins.txt"
    if logins.exists() and stat.S_IMODE(logins.stat().st_mode) & 0o077:
        out.append(Check("demo sign-ins file", False, f"{logins} is readable by others", f"chmod 600 {logins}"))
    return out


def check_schema(settings: Settings) -> tuple[list[Check], object | None]:
    from nexuslims_kernel.db import get_database
    from nexuslims_kernel.db.migrate import current_revision, head_revision

    try:
        db = get_database(settings.db_url)
        current = current_revision(db)
    except Exception as exc:
        return [Check("database", False, f"cannot open {settings.db_url.split('://')[0]} database: {str(exc)[:160]}",
                      "check database_url (nxhub config) and that the server runs")], None
    head = head_revision()
    if current == head:
        return [Check("schema revision", True, f"{current} (newest)")], db
    fix = "nxhub db upgrade" if current is not None else "nxhub init"
    return [Check("schema revision", False, f"database is at {current or 'no schema'}, this nxhub needs {head}", fix)], db


def check_stores(db) -> list[Check]:
    from sqlalchemy import select

    from nexuslims_kernel.db.models import Instrument
    from nexuslims_kernel.stores import StoreError, is_store_url, open_store, parse_store_url

    with db.session() as sess:
        stores = sess.execute(select(Instrument.name, Instrument.filestore_root).order_by(Instrument.name)).all()
    out = []
    for name, root in stores:
        if not root:
            continue
        fix = f"mount or create {root} and let this user read it, or: nxhub instruments edit {name} --filestore PATH"
        if is_store_url(root) and parse_store_url(root).is_object:
            try:
                open_store(root).check()
            except StoreError as exc:
                out.append(Check(f"store {name}", False, str(exc), "give the hub's identity read and list rights on it, "
                                 f"or: nxhub instruments edit {name} --filestore URL"))
                continue
            out.append(Check(f"store {name}", True, f"{root} can be listed"))
            continue
        try:
            next(os.scandir(root), None)
        except OSError as exc:
            out.append(Check(f"store {name}", False, f"{root}: {exc.strerror or exc}", fix))
            continue
        out.append(Check(f"store {name}", True, f"{root} is readable"))
    return out or [Check("file stores", True, "no instrument has a file store yet")]


def check_isolation(settings: Settings, db) -> list[Check]:
    """Which isolation keeps people's servers apart; a failure when none does and more than one person exists."""
    from nexuslims_kernel.db.directory import count
    from nexuslims_kernel.db.models import Person
    from nexuslims_kernel.hub.isolation import IsolationError, resolve

    fix = "run the hub as root (one OS account per person) or install bubblewrap (apt-get install bubblewrap)"
    try:
        iso = resolve(settings)
    except IsolationError as exc:
        return [Check("isolation", False, str(exc), fix)]
    if iso.mode != "none":
        return [Check("isolation", True, iso.detail)]
    with db.session() as sess:
        people = count(sess, Person)
    if people > 1:
        return [Check("isolation", False, f"{iso.detail}; {people} people could read each other's files", fix)]
    return [Check("isolation", True, iso.detail)]


def check_services(settings: Settings, running: bool) -> list[Check]:
    hub = settings.hub
    if not running:
        return [Check("hub", False, f"the hub does not answer on 127.0.0.1:{hub.api_port}", "start it: nxhub up")]
    public = local_url(settings)
    out = [Check("hub", True, f"hub API answers on 127.0.0.1:{hub.api_port}")]
    proxied = _get(f"{public}/hub/api/")
    out.append(Check("proxy", proxied == 200, f"{public}/ " + ("routes to the hub" if proxied == 200 else "does not answer"),
                     "" if proxied == 200 else "the proxy is not running: the hub restarts it within seconds; if not, "
                     "restart nxhub up (Ctrl-C, then nxhub up) and read its 'hub' lines"))
    api = _get(f"http://127.0.0.1:{hub.service_port}/services/nxhub-api/api/v1/openapi.json")
    out.append(Check("API service", api == 200, f"nxhub-api on 127.0.0.1:{hub.service_port} " + ("answers" if api == 200 else "does not answer"),
                     "" if api == 200 else "see the 'hub' lines of nxhub up's log for the service's error; restart nxhub up"))
    return out


def check_fixity(db) -> list[Check]:
    from nexuslims_kernel.ops.fixity import failures

    try:
        failed = failures(db)
    except Exception as exc:  # an older schema: the schema check already says what to do
        return [Check("fixity", False, f"cannot read fixity checks: {str(exc)[:120]}", "nxhub db upgrade")]
    if not failed:
        return [Check("fixity", True, "no stored file failed its last fixity check")]
    first = failed[0]
    return [Check("fixity", False, f"{len(failed)} stored file(s) failed their last check, e.g. {first.instrument}:"
                  f"{first.relpath} ({first.outcome}, record {', '.join(map(str, first.record))})",
                  "restore those files from the facility's copy, then: nxhub fixity --all; list them: nxhub fixity --failures")]


def check_disk(settings: Settings) -> list[Check]:
    path = settings.data_dir
    if not path.is_dir():
        return []
    usage = shutil.disk_usage(path)
    share = usage.free / usage.total if usage.total else 1.0
    ok = share >= settings.ops.disk_warn_share
    return [Check("disk", ok, f"{usage.free / 1e9:.1f} GB free ({share:.0%}) on the data dir's disk",
                  "" if ok else f"free space on {path}'s disk or move previews_dir elsewhere (warns below "
                                f"{settings.ops.disk_warn_share:.0%}, ops.disk_warn_share)")]


def offline_checks(settings: Settings) -> list[Check]:
    """The checks that need no running hub (after a restore): data dir, disk, schema, stores, fixity."""
    schema, db = check_schema(settings)
    checks = check_data_dir(settings) + check_disk(settings) + schema
    if db is not None and schema[0].ok:
        checks += check_stores(db) + check_fixity(db)
    return checks


def run_checks(settings: Settings) -> list[Check]:
    running = hub_running(settings)
    schema, db = check_schema(settings)
    steps: list[Callable[[], list[Check]]] = [
        lambda: check_ports(settings, running), check_proxy_binary, check_node, lambda: check_data_dir(settings),
        lambda: check_disk(settings), lambda: schema, lambda: check_stores(db) if db is not None else [],
        lambda: check_fixity(db) if db is not None and schema[0].ok else [],
        lambda: check_isolation(settings, db) if db is not None and schema[0].ok else [],
        lambda: check_services(settings, running),
    ]
    return [check for step in steps for check in step()]
