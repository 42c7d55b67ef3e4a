"""``nxhub-logger start|end|note|status|send|setup|gui``: the headless Logger on the same journal as the window.

Every command journals first and only then tries the hub, so it succeeds
offline: the event is queued and goes out with the next command or the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from nxhub_logger import __version__
from nxhub_logger import settings as config
from nxhub_logger.faults import crash_point
from nxhub_logger.hubclient import HubClient, HubError
from nxhub_logger.journal import Event, Journal
from nxhub_logger.sender import deliver


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nxhub-logger", description="Start and end microscope sessions for NexusLIMS Hub.")
    p.add_argument("--version", action="version", version=f"nxhub-logger {__version__}")
    p.add_argument("--config", metavar="FILE", help="a JSON config file (hub_url, token, journal) for fleet roll-out")
    sub = p.add_subparsers(dest="command")  # none: the window
    s = sub.add_parser("start", help="start a session")
    s.add_argument("--user", help="who is using the instrument (hub username)")
    s.add_argument("--project", help="the project the session is for")
    s.add_argument("--note", help="a first note")
    e = sub.add_parser("end", help="end the running session")
    e.add_argument("--at-last-alive", action="store_true", help="end at the time the Logger was last seen running (after a crash)")
    n = sub.add_parser("note", help="add a note to the running session")
    n.add_argument("text")
    st = sub.add_parser("status", help="the running session, the queue and refused events")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("send", help="deliver queued events now")
    su = sub.add_parser("setup", help="store the hub URL and the instrument token (read from stdin)")
    su.add_argument("--hub", required=True, help="the hub's API address, e.g. https://hub.example.org/services/api")
    sub.add_parser("gui", help="open the Logger window")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config.load(args.config)
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command in (None, "gui"):
        try:
            from nxhub_logger.gui.app import main as gui_main  # PySide6 only here
        except ImportError as exc:
            print(f"error: the window needs PySide6 ({exc}); this copy has only the headless commands", file=sys.stderr)
            return 2

        return gui_main(["--config", args.config] if args.config else [])
    if args.command == "setup":
        cfg.hub_url = args.hub.strip()
        token = sys.stdin.readline().strip()
        if not token:
            print("error: give the instrument token on stdin", file=sys.stderr)
            return 2
        print(f"hub saved; token kept in {config.save(cfg, token)}")
        return 0
    journal = Journal(cfg.journal)
    try:
        return COMMANDS[args.command](args, cfg, journal)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        journal.close()


class UsageError(Exception):
    """The command does not fit the journal's state (e.g. end without a running session)."""


def _running(journal: Journal) -> str:
    session = journal.open_session()
    if session is None:
        raise UsageError("no session is running; start one with `nxhub-logger start`")
    return session.uuid


def _journaled(ev: Event, cfg: config.Settings, journal: Journal) -> int:
    print(f"{ev.kind} journaled at {ev.at} (event {ev.uuid})")
    crash_point("after-journal")
    return _send(cfg, journal, watch=ev.uuid)


def _send(cfg: config.Settings, journal: Journal, watch: str | None = None) -> int:
    if not cfg.complete:
        print("queued: no hub configured yet (run `nxhub-logger setup`)")
        return 0
    try:
        deliver(journal, HubClient(cfg.hub_url, cfg.token, cfg.timeout_s))
    except HubError as exc:
        print(f"queued ({journal.counts()['queued']} waiting): {exc}")
        return 0
    refused = [ev for ev in journal.refused() if ev.uuid == watch] if watch else []
    if refused:
        print(f"REFUSED by the hub: {refused[0].last_error}")
        return 3
    print("delivered to the hub")
    return 0


def cmd_start(args: argparse.Namespace, cfg: config.Settings, journal: Journal) -> int:
    running = journal.open_session()
    if running is not None:
        raise UsageError(f"a session is already running since {running.started_at:%Y-%m-%d %H:%M} UTC; end it first")
    return _journaled(journal.start(args.user, args.project, args.note), cfg, journal)


def cmd_end(args: argparse.Namespace, cfg: config.Settings, journal: Journal) -> int:
    session_uuid = _running(journal)
    alive, started = journal.last_alive(), journal.open_session().started_at
    at = alive if args.at_last_alive and alive and alive > started else None  # never at or before its own start
    return _journaled(journal.end(session_uuid, at=at), cfg, journal)


def cmd_note(args: argparse.Namespace, cfg: config.Settings, journal: Journal) -> int:
    return _journaled(journal.note(_running(journal), args.text), cfg, journal)


def cmd_send(args: argparse.Namespace, cfg: config.Settings, journal: Journal) -> int:
    return _send(cfg, journal)


def status(cfg: config.Settings, journal: Journal) -> dict[str, Any]:
    session = journal.open_session()
    alive = journal.last_alive()
    return {
        "hub_url": cfg.hub_url or None, "configured": cfg.complete, "journal": str(cfg.journal),
        "queue": journal.counts(), "last_alive": alive.isoformat() if alive else None,
        "session": None if session is None else {
            "uuid": session.uuid, "started_at": session.started_at.isoformat(), "user": session.user,
            "project": session.project, "start_state": session.start_state,
        },
        "refused": [{"kind": ev.kind, "at": ev.at, "uuid": ev.uuid, "reason": ev.last_error} for ev in journal.refused()],
    }


def cmd_status(args: argparse.Namespace, cfg: config.Settings, journal: Journal) -> int:
    info = status(cfg, journal)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"hub:      {info['hub_url'] or '(not configured)'}")
    print(f"journal:  {info['journal']}")
    q = info["queue"]
    print(f"events:   {q['sent']} delivered, {q['queued']} queued, {q['refused']} refused")
    s = info["session"]
    if s:
        started = dt.datetime.fromisoformat(s["started_at"])
        print(f"session:  running since {started:%Y-%m-%d %H:%M:%S} UTC, user {s['user'] or '-'}, project {s['project'] or '-'}")
    else:
        print("session:  none running")
    for ev in info["refused"]:
        print(f"REFUSED   {ev['kind']} at {ev['at']}: {ev['reason']}")
    return 0


COMMANDS = {"start": cmd_start, "end": cmd_end, "note": cmd_note, "status": cmd_status, "send": cmd_send}


def _zipapp_main() -> None:
    """The zipapp's entry point: an exit code, not a return value."""
    sys.exit(main())
