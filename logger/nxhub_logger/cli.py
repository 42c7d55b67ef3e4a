"""``nxhub-logger start|end|note|status|send|setup|gui``: the headless Logger on the same journal as the window.

Every command journals first and only then tries the hub, so it succeeds
offline: the event is queued and goes out with the next command or the window.
The window is the Qt one when PySide6 is installed, else the Tk one (the zipapp's).
Python 3.4 syntax: this is the zipapp's entry point on old microscope PCs.
"""

import argparse
import json
import sys

from nxhub_logger import __version__
from nxhub_logger import settings as config
from nxhub_logger.faults import crash_point
from nxhub_logger.hubclient import HubClient, HubError
from nxhub_logger.journal import Journal, parse_time
from nxhub_logger.sender import deliver


def build_parser():
    p = argparse.ArgumentParser(prog="nxhub-logger", description="Start and end microscope sessions for NexusLIMS Hub.")
    p.add_argument("--version", action="version", version="nxhub-logger " + __version__)
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
    g = sub.add_parser("gui", help="open the Logger window (Qt when PySide6 is installed, else Tk)")
    g.add_argument("--tk", action="store_true", help="the Tk window even when PySide6 is installed")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        cfg = config.load(args.config)
    except config.ConfigError as exc:
        print("error: {}".format(exc), file=sys.stderr)
        return 2
    if args.command in (None, "gui"):
        return open_window(cfg, args.config, getattr(args, "tk", False))
    if args.command == "setup":
        cfg.hub_url = args.hub.strip()
        token = sys.stdin.readline().strip()
        if not token:
            print("error: give the instrument token on stdin", file=sys.stderr)
            return 2
        print("hub saved; token kept in {}".format(config.save(cfg, token)))
        return 0
    journal = Journal(cfg.journal)
    try:
        return COMMANDS[args.command](args, cfg, journal)
    except UsageError as exc:
        print("error: {}".format(exc), file=sys.stderr)
        return 2
    finally:
        journal.close()


def open_window(cfg, config_file=None, force_tk=False):
    """The Qt window if PySide6 imports, else the Tk one; a one-line error when neither can open."""
    if not force_tk:
        try:
            from nxhub_logger.gui.app import main as qt_main  # PySide6 only here (not in the zipapp)
        except ImportError:
            qt_main = None
        if qt_main is not None:
            return qt_main(["--config", config_file] if config_file else [])
    try:
        from nxhub_logger.tkwindow import main as tk_main
    except ImportError as exc:  # a Linux Python without python3-tk
        print("error: the window needs Tk (tkinter) or PySide6 ({}); this Python has only the commands "
              "(nxhub-logger start|note|end|status)".format(exc), file=sys.stderr)
        return 2
    return tk_main(cfg)


class UsageError(Exception):
    """The command does not fit the journal's state (e.g. end without a running session)."""


def _running(journal):
    session = journal.open_session()
    if session is None:
        raise UsageError("no session is running; start one with `nxhub-logger start`")
    return session.uuid


def _journaled(ev, cfg, journal):
    print("{} journaled at {} (event {})".format(ev.kind, ev.at, ev.uuid))
    crash_point("after-journal")
    return _send(cfg, journal, watch=ev.uuid)


def _send(cfg, journal, watch=None):
    if not cfg.complete:
        print("queued: no hub configured yet (run `nxhub-logger setup`)")
        return 0
    try:
        deliver(journal, HubClient(cfg.hub_url, cfg.token, cfg.timeout_s, cfg.ca_bundle))
    except HubError as exc:
        print("queued ({} waiting): {}".format(journal.counts()["queued"], exc))
        return 0
    refused = [ev for ev in journal.refused() if ev.uuid == watch] if watch else []
    if refused:
        print("REFUSED by the hub: {}".format(refused[0].last_error))
        return 3
    print("delivered to the hub")
    return 0


def cmd_start(args, cfg, journal):
    running = journal.open_session()
    if running is not None:
        raise UsageError("a session is already running since {:%Y-%m-%d %H:%M} UTC; end it first".format(running.started_at))
    return _journaled(journal.start(args.user, args.project, args.note), cfg, journal)


def cmd_end(args, cfg, journal):
    session_uuid = _running(journal)
    alive, started = journal.last_alive(), journal.open_session().started_at
    at = alive if args.at_last_alive and alive and alive > started else None  # never at or before its own start
    return _journaled(journal.end(session_uuid, at=at), cfg, journal)


def cmd_note(args, cfg, journal):
    return _journaled(journal.note(_running(journal), args.text), cfg, journal)


def cmd_send(args, cfg, journal):
    return _send(cfg, journal)


def status(cfg, journal):
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


def cmd_status(args, cfg, journal):
    info = status(cfg, journal)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print("hub:      {}".format(info["hub_url"] or "(not configured)"))
    print("journal:  {}".format(info["journal"]))
    q = info["queue"]
    print("events:   {} delivered, {} queued, {} refused".format(q["sent"], q["queued"], q["refused"]))
    s = info["session"]
    if s:
        print("session:  running since {:%Y-%m-%d %H:%M:%S} UTC, user {}, project {}".format(
            parse_time(s["started_at"]), s["user"] or "-", s["project"] or "-"))
    else:
        print("session:  none running")
    for ev in info["refused"]:
        print("REFUSED   {} at {}: {}".format(ev["kind"], ev["at"], ev["reason"]))
    return 0


COMMANDS = {"start": cmd_start, "end": cmd_end, "note": cmd_note, "status": cmd_status, "send": cmd_send}


def _zipapp_main():
    """The zipapp's entry point: an exit code, not a return value."""
    sys.exit(main())
