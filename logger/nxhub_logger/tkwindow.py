"""The Logger window in Tk, for the zipapp on PCs without PySide6 (Tk ships with Python on Windows, XP included).

The same flows as the Qt window (``gui/window.py``) and the same words (``view``):
every action is journaled before the window shows it; the sender's thread
delivers and reports through a queue that the Tk loop drains (Tk is not
thread-safe). The window never waits for the network. Python 3.4 syntax.
"""

import datetime as dt
import hashlib
import json
import os
import queue
import socket
import sys
import threading
import tkinter as tk

from nxhub_logger import settings as config
from nxhub_logger import view
from nxhub_logger.faults import crash_point
from nxhub_logger.hubclient import HubClient
from nxhub_logger.journal import UTC, Journal
from nxhub_logger.sender import CONNECTING, OFFLINE, UNAUTHORIZED, Backoff, Link, Sender
from nxhub_logger.tkdialogs import ConfirmDialog, Fonts, NoteDialog, SetupDialog, StartDialog, make_button, set_enabled
from nxhub_logger.view import BG, BLUE, INK, LINE, MUTED, PANEL

TITLE = "NexusLIMS Hub Logger"
DRAIN_MS = 100  # how often the Tk loop takes the sender's reports
SHOW = "show"  # on the reports queue: another start asked this window to come forward


class TkLoggerWindow:
    """The main window; the attributes mirror the Qt window's, so the same tests and habits apply."""

    def __init__(self, settings, root=None, journal=None, run_sender=True):
        self.root = root or tk.Tk()
        self.settings = settings
        self.journal = journal or Journal(settings.journal)
        self.recovery = self.journal.interrupted_session()
        alive = self.journal.last_alive()
        # The last sign of life after the interrupted session began (None: it died right after its START).
        self.recovery_alive = alive if self.recovery and alive and alive > self.recovery.started_at else None
        self.journal.mark_alive()
        self.link = Link(CONNECTING, "not contacted yet")
        self.hub_info = json.loads(self.journal.get_meta("hub_info", "{}") or "{}")
        self.session = None
        self.dialog = None
        self.closed = False
        self._ticks = 0
        self.reports = queue.Queue()
        self.fonts = Fonts(self.root)
        self.root.title(TITLE)
        self.root.configure(bg=BG)
        self.root.geometry("880x600")
        self.root.minsize(720, 520)
        self._build()
        self.sender_thread = Sender(
            str(settings.journal), self._client, self.reports.put, idle_s=settings.poll_s,
            backoff=Backoff(first=min(1.0, settings.retry_cap_s), cap=settings.retry_cap_s), poll=view.poll_hub)
        self.root.protocol("WM_DELETE_WINDOW", self.close)
        self._after = [self.root.after(1000, self._tick), self.root.after(DRAIN_MS, self._drain)]
        self.refresh()
        if run_sender:  # once the window is up: the operator sees it first
            self.root.after(0, self.sender_thread.start)

    # -- layout --

    def _build(self):
        f = self.fonts
        header = tk.Frame(self.root, bg=INK, padx=24, pady=14)
        header.pack(fill="x")
        titles = tk.Frame(header, bg=INK)
        titles.pack(side="left")
        tk.Label(titles, text="NEXUSLIMS HUB LOGGER", font=f.app, fg="#9fb3c8", bg=INK).pack(anchor="w")
        self.instrument_label = tk.Label(titles, text="", font=f.instrument, fg="white", bg=INK)
        self.instrument_label.pack(anchor="w")
        self.badge = tk.Label(header, text="", font=f.badge, fg="white", bg=MUTED, padx=14, pady=4)
        self.badge.pack(side="right")

        self.body = tk.Frame(self.root, bg=BG, padx=24, pady=18)
        self.body.pack(fill="both", expand=True)
        self.banner = tk.Frame(self.body, bg=BG, padx=16, pady=10, highlightthickness=1)
        self.banner_text = tk.Label(self.banner, text="", font=f.small, fg=INK, justify="left", wraplength=560, anchor="w")
        self.banner_text.pack(side="left", fill="x", expand=True)
        self.banner_actions = [None, None]
        self.banner_buttons = []
        for index in (0, 1):
            button = make_button(self.banner, "", lambda i=index: self.banner_actions[i] and self.banner_actions[i](), f, small=True)
            self.banner_buttons.append(button)
        self.banner_shown = False

        self.card = tk.Frame(self.body, bg=PANEL, padx=24, pady=18, highlightthickness=1, highlightbackground=LINE)
        self.card.pack(fill="both", expand=True, pady=(0, 14))
        self.headline = tk.Label(self.card, font=f.headline, fg=MUTED, bg=PANEL)
        self.elapsed = tk.Label(self.card, font=f.elapsed, fg=INK, bg=PANEL)
        self.who = tk.Label(self.card, font=f.body, fg=INK, bg=PANEL)
        self.files = tk.Label(self.card, font=f.body, fg=BLUE, bg=PANEL)
        for label in (self.headline, self.elapsed, self.who, self.files):
            label.pack(anchor="w")

        row = tk.Frame(self.body, bg=BG)
        row.pack(fill="x")
        self.start_button = make_button(row, "Start session", self.ask_start, f, "primary")
        self.note_button = make_button(row, "Add note", self.ask_note, f)
        self.end_button = make_button(row, "End session", self.ask_end, f, "danger")
        for column, button in enumerate((self.start_button, self.note_button, self.end_button)):
            button.grid(row=0, column=column, sticky="we", padx=(0 if column == 0 else 14, 0))
            row.columnconfigure(column, weight=1, uniform="buttons")
        self.footer = tk.Label(self.body, text="", font=f.small, fg=MUTED, bg=BG)
        self.footer.pack(anchor="w", pady=(10, 0))

    # -- hub and sender --

    def _client(self):
        s = self.settings
        return HubClient(s.hub_url, s.token, s.timeout_s, s.ca_bundle) if s.complete else None

    def _drain(self):
        latest = None
        while True:
            try:
                report = self.reports.get_nowait()
            except queue.Empty:
                break
            if report == SHOW:
                self.bring_forward()
            else:
                latest = report
        if latest is not None:
            self._on_link(latest)
        if not self.closed:
            self._after[1] = self.root.after(DRAIN_MS, self._drain)

    def _on_link(self, link):
        self.link = link
        hub = link.info.get("hub")
        if hub:
            self.hub_info = hub
            self.journal.set_meta("hub_info", json.dumps(hub))
        self.refresh()

    # -- rendering --

    def refresh(self):
        self.session = self.journal.open_session()
        self.instrument_label.configure(text=self.hub_info.get("instrument") or self.link.info.get("instrument")
                                        or "Instrument not known yet")
        counts = self.journal.counts()
        label, tone = view.badge(self.link, self.settings.complete, counts["queued"])
        self.badge.configure(text="●  " + label, bg=view.BADGE_COLOURS.get(tone, MUTED))
        busy = self.recovery is not None
        set_enabled(self.start_button, self.session is None and not busy)
        set_enabled(self.note_button, self.session is not None and not busy)
        set_enabled(self.end_button, self.session is not None and not busy)
        texts = view.session_texts(self.session, busy, self.link.info, dt.datetime.now(UTC))
        for name in ("headline", "elapsed", "who", "files"):
            getattr(self, name).configure(text=texts[name].upper() if name == "headline" else texts[name])
        self.headline_text = texts["headline"]
        self._render_banner(counts)
        self.footer.configure(text=view.footer(counts, self.settings.hub_url))

    def _render_banner(self, counts):
        shown = view.banner(self.link, counts, view.unseen_refused(self.journal), self.recovery, self.recovery_alive,
                            self.settings.complete, dt.datetime.now(UTC))
        if shown is None:
            if self.banner_shown:
                self.banner.pack_forget()
            self.banner_shown = False
            return
        tone, text, actions = shown
        fill, edge = view.BANNER_COLOURS[tone]
        self.banner.configure(bg=fill, highlightbackground=edge, highlightcolor=edge)
        self.banner_text.configure(text=text, bg=fill)
        for index, button in enumerate(self.banner_buttons):
            button.pack_forget()
            action = actions[index] if index < len(actions) else None
            self.banner_actions[index] = getattr(self, action[1]) if action else None
            if action is not None:
                button.configure(text=action[0])
                button.pack(side="left", padx=(10, 0))
        if not self.banner_shown:
            self.banner.pack(fill="x", pady=(0, 14), before=self.card)
        self.banner_shown = True

    def _tick(self):
        if self.closed:
            return
        self._ticks += 1
        if self.session is not None:
            self.elapsed.configure(text=view.elapsed_text((dt.datetime.now(UTC) - self.session.started_at).total_seconds()))
        if self._ticks % view.ALIVE_EVERY_S == 0 and self.recovery is None:
            self.journal.mark_alive()
        self._after[0] = self.root.after(1000, self._tick)

    # -- actions: journal first, then show, then wake the sender --

    def _after_journal(self):
        crash_point("after-journal")
        self.refresh()
        self.sender_thread.wake()

    def _open(self, dialog, on_accept):
        if self.dialog is not None:  # never two stacked
            self.dialog.close()
        self.dialog = dialog
        dialog.on_accept = on_accept
        dialog.place()

    def ask_start(self):
        self._open(StartDialog(self, self.hub_info, dt.datetime.now(UTC)), self._start)

    def _start(self, dialog):
        if self.journal.open_session() is None:
            values = dialog.values()
            self.journal.start(values["user"], values["project"], values["text"], values["reservation"])
        self._after_journal()

    def ask_note(self):
        self._open(NoteDialog(self), lambda d: self._note(d.value()))

    def _note(self, text):
        if self.session is not None and text:
            self.journal.note(self.session.uuid, text)
        self._after_journal()

    def ask_end(self):
        if self.session is None:
            return
        text = view.end_question(self.session, dt.datetime.now(UTC))
        self._open(ConfirmDialog(self, "End this session?", text, "End session", "Keep running"), lambda d: self._end())

    def _end(self, at=None):
        session = self.journal.open_session()
        if session is not None:
            self.journal.end(session.uuid, at=at)
        self._after_journal()

    def continue_recovered(self):
        self.recovery = None
        self.journal.mark_alive()
        self.refresh()

    def end_recovered(self):
        at = self.recovery_alive  # None: now
        self.recovery = None
        self._end(at)
        self.journal.mark_alive()

    def dismiss_refused(self):
        refused = self.journal.refused()
        if refused:
            self.journal.set_meta("refused_seen", str(refused[-1].seq))
        self.refresh()

    def retry_now(self):
        self.sender_thread.wake()

    def ask_setup(self):
        message = view.TOKEN_REFUSED_HINT if self.link.state == UNAUTHORIZED else ""
        self._open(SetupDialog(self, self.settings.hub_url, message), self._setup)

    def _setup(self, dialog):
        self.settings.hub_url, token = dialog.values()
        config.save(self.settings, token)
        self.link = Link(OFFLINE, "reconnecting")
        self.refresh()
        self.sender_thread.wake()

    def bring_forward(self):
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()

    def close(self):
        """Quit in order: the sender stops, the journal notes a clean exit (no recovery question next time)."""
        if self.closed:
            return
        self.closed = True
        for job in self._after:
            self.root.after_cancel(job)
        if self.dialog is not None:
            self.dialog.close()
        self.sender_thread.stop()
        self.journal.mark_alive(clean_exit=self.recovery is None)
        self.journal.close()
        self.root.destroy()


class SingleInstance:
    """One window per journal: the first listens on a loopback port named after the journal, a later start knocks there.

    Only on 127.0.0.1, and a knock can only raise the window. A port taken by something
    else just means no guard (two windows on one journal still deliver each event once).
    """

    GREETING, ANSWER = b"nxhub-logger show ", b"nxhub-logger ok\n"

    def __init__(self, settings):
        self.key = hashlib.sha256(os.path.abspath(str(settings.journal)).encode("utf-8")).hexdigest()[:16]
        self.port = 20000 + int(self.key, 16) % 20000
        self.server = None
        self.on_knock = None

    def knock(self, timeout=1.0):
        """True when a Logger window already runs on this journal (and was asked to come forward)."""
        try:
            conn = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        except OSError:
            return False
        try:
            conn.sendall(self.GREETING + self.key.encode("ascii") + b"\n")
            return conn.recv(64) == self.ANSWER
        except OSError:
            return False
        finally:
            conn.close()

    def listen(self, on_knock):
        self.on_knock = on_knock
        try:
            self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.server.bind(("127.0.0.1", self.port))
            self.server.listen(4)
        except OSError:
            self.server = None
            return False
        thread = threading.Thread(target=self._serve, name="nxhub-logger-single-instance")
        thread.daemon = True
        thread.start()
        return True

    def _serve(self):
        while True:
            try:
                conn, _addr = self.server.accept()
            except OSError:  # closed
                return
            try:
                conn.settimeout(2)
                if conn.recv(128).strip() == self.GREETING.strip() + b" " + self.key.encode("ascii"):
                    conn.sendall(self.ANSWER)
                    self.on_knock()
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        if self.server is not None:
            self.server.close()


def main(settings):
    """The zipapp's window: ``python nxhub-logger.pyz`` (or ``nxhub-logger gui --tk``); one per journal."""
    guard = SingleInstance(settings)
    if guard.knock():
        print("the Logger is already running; brought it to the front")
        return 0
    try:
        root = tk.Tk()
    except tk.TclError as exc:  # no display (a service session, ssh without X)
        print("error: cannot open the Logger window ({}); the commands work without one "
              "(nxhub-logger start|note|end|status)".format(exc), file=sys.stderr)
        return 2
    window = TkLoggerWindow(settings, root)
    guard.listen(lambda: window.reports.put(SHOW))
    root.protocol("WM_DELETE_WINDOW", lambda: (guard.close(), window.close()))
    if not settings.complete:
        root.after(0, window.ask_setup)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        window.close()
    return 0
