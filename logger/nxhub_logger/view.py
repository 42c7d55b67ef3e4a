"""What the Logger window says, whichever toolkit draws it (Qt, or Tk in the zipapp): one set of texts and rules.

Pure functions of the journal's state and the sender's ``Link``; both windows
render their results, so the operator reads the same words on every PC.
Python 3.4 syntax: it ships in the zipapp.
"""

from nxhub_logger.hubclient import Refused
from nxhub_logger.journal import REFUSED, parse_time
from nxhub_logger.sender import OFFLINE, ONLINE, UNAUTHORIZED

ALIVE_EVERY_S = 10  # how often (in one-second ticks) a running window marks itself alive in the journal

# The palette both windows paint with (gui/style.py for Qt, tkwindow.py for Tk).
INK, MUTED, LINE, PANEL, BG = "#1f2933", "#52606d", "#d9e2ec", "#ffffff", "#f0f4f8"
GREEN, AMBER, RED, BLUE = "#1e8e3e", "#b7791f", "#c53030", "#1d4ed8"
BADGE_COLOURS = {"online": GREEN, "offline": AMBER, "unauthorized": RED, "connecting": MUTED}
BANNER_COLOURS = {"warn": ("#fff8e1", "#f6c86b"), "error": ("#fdecec", "#f5a3a3"), "info": ("#e8f0fe", "#a9c1f5")}  # fill, edge

#: connection state -> the badge's words
BADGE_LABELS = {
    "online": "Connected",
    "offline": "Offline — events are queued",
    "unauthorized": "Token refused",
    "connecting": "Connecting…",
}


def poll_hub(journal, client):
    """Runs on the sender's thread once the queue is empty: files landed this session, today's reservations."""
    out = {}
    session = journal.open_session()
    try:
        if session is not None:
            out["files"] = client.files_since(session.started_at.isoformat())
        out["hub"] = client.reservations()
    except Refused:  # an older hub without these endpoints: the window just shows less
        pass
    return out


def clock_warning(server_time, now, tolerance_s=120):
    """A sentence when this PC's clock is off the hub's by more than ``tolerance_s`` (events carry the PC's time)."""
    if not server_time:
        return None
    skew = (now - parse_time(server_time)).total_seconds()
    if abs(skew) <= tolerance_s:
        return None
    minutes = int(round(abs(skew) / 60))
    return ("This PC's clock is {} min {} the hub's. Events are stamped with this PC's time: ask IT to set the clock "
            "right.".format(minutes, "ahead of" if skew > 0 else "behind"))


def elapsed_text(seconds):
    seconds = max(0, int(seconds))
    return "{}:{:02d}:{:02d}".format(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def plural(n, word):
    return "{} {}{}".format(n, word, "" if n == 1 else "s")


def local(at):
    """An aware time as this PC's wall clock (``astimezone()`` with no zone: 3.3+ on an aware time)."""
    return at.astimezone().strftime("%H:%M")


def pick_reservation(reservations, now):
    """Today's reservation covering ``now``, else the next one to begin, else None."""
    ahead = []
    for res in reservations:
        start = parse_time(res["start"]) if res.get("start") else None
        end = parse_time(res["end"]) if res.get("end") else None
        if start is None:
            continue
        if start <= now and (end is None or now < end):
            return res
        if start > now:
            ahead.append((start, res))
    return min(ahead, key=lambda pair: pair[0])[1] if ahead else None


def reservation_text(res):
    if not res:
        return "No reservation found for now; pick the user and project."
    start = parse_time(res["start"]).astimezone()
    title = " “{}”".format(res["title"]) if res.get("title") else ""
    return "Pre-filled from the reservation{} at {:%H:%M}.".format(title, start)


def badge(link, complete, queued):
    """(words, tone) of the connection badge; the tone is a ``BADGE_LABELS`` key (the colour)."""
    label = BADGE_LABELS.get(link.state, BADGE_LABELS[OFFLINE])
    if not complete:
        return "Not set up", "connecting"
    if link.state == OFFLINE and not queued:
        label = "Offline"
    return label, link.state


def session_texts(session, recovering, link_info, now):
    """The card: headline, elapsed time, who and for what, files landed."""
    if session is None:
        return {"headline": "No session running", "elapsed": "Ready",
                "who": "Press Start when you begin working at the microscope.", "files": ""}
    if session.start_state == REFUSED:
        headline = "Session refused by the hub"
    else:
        headline = "Session interrupted" if recovering else "Session running"
    who = "{}  ·  {}  ·  started {}".format(session.user or "unknown user", session.project or "no project", local(session.started_at))
    files = link_info.get("files") or {}
    if files and files.get("since") and parse_time(files["since"]) == session.started_at:
        newest = files.get("newest") or {}
        latest = "  —  newest: {}".format(newest["relpath"]) if newest.get("relpath") else ""
        files_text = "{} landed since the start{}".format(plural(files["count"], "file"), latest)
    else:
        files_text = "Files landed: waiting for the hub"
    return {"headline": headline, "elapsed": elapsed_text((now - session.started_at).total_seconds()), "who": who,
            "files": files_text}


def banner(link, counts, refused_unseen, recovery, recovery_alive, complete, now):
    """The one message that matters most now, or None: (tone, text, [(button text, action name), ...]).

    Action names are the windows' methods: continue_recovered, end_recovered, ask_setup, dismiss_refused, retry_now.
    """
    clock = clock_warning(link.info.get("server_time"), now) if link.state == ONLINE else None
    if recovery is not None:
        alive = "last seen running at {}".format(local(recovery_alive)) if recovery_alive else "no sign of life after that"
        return ("warn", "The Logger stopped unexpectedly during a session started at {} ({}). Continue it, or end it {}?".format(
            local(recovery.started_at), alive, "at that time" if recovery_alive else "now"),
            [("Continue", "continue_recovered"), ("End it", "end_recovered")])
    if not complete:
        return ("info", "This Logger is not connected to a hub yet. Events are kept until it is.", [("Set up…", "ask_setup")])
    if link.state == UNAUTHORIZED:
        return ("error", "The hub refused this PC's instrument token. {} kept safely here; enter a new token from a facility "
                "admin.".format(plural(counts["queued"], "event")), [("New token…", "ask_setup")])
    if clock:
        return ("warn", clock, [])
    if refused_unseen:
        ev = refused_unseen[-1]
        return ("error", "The hub refused the {} of {}: {}. It stays in this PC's journal; tell a facility admin.".format(
            ev.kind, local(parse_time(ev.at)), ev.last_error), [("OK", "dismiss_refused")])
    if link.state == OFFLINE and counts["queued"]:
        return ("warn", "The hub cannot be reached. {} saved on this PC will be sent when it is back.".format(
            plural(counts["queued"], "event")), [("Retry now", "retry_now")])
    return None


def unseen_refused(journal):
    """Refused events the operator has not dismissed yet."""
    seen = int(journal.get_meta("refused_seen", "0") or 0)
    return [ev for ev in journal.refused() if ev.seq > seen]


def footer(counts, hub_url):
    return "{} delivered · {} waiting · {} refused   —   {}".format(
        plural(counts["sent"], "event"), counts["queued"], counts["refused"], hub_url or "no hub set")


def end_question(session, now):
    mins = int((now - session.started_at).total_seconds() // 60)
    return "End the session of {} started at {} ({} h {:02d} min)?".format(
        session.user or "unknown user", local(session.started_at), mins // 60, mins % 60)


SETUP_HINT = ("Ask a facility admin for the hub address and this microscope's instrument token "
              "(`nxhub instruments token NAME`).")
TOKEN_REFUSED_HINT = "The hub refused the current token. Enter a new one."
