"""The Tk window's parts: large type, touch-sized buttons, and its dialogs (set-up, start, note, confirm the end).

The same dialogs as the Qt window's (``gui/dialogs.py``), with the same words (``view``).
Each is window-modal and does not block the Tk loop. Python 3.4 syntax: it ships in the zipapp.
"""

import tkinter as tk
from tkinter import font as tkfont
from tkinter import ttk

from nxhub_logger import view
from nxhub_logger.view import BG, BLUE, GREEN, INK, LINE, MUTED, PANEL, RED


def _family(root, *wanted):
    have = set(tkfont.families(root))
    for name in wanted:
        if name in have:
            return name
    return "TkDefaultFont"


class Fonts:
    """Large type, as in the Qt window: read from a step away, with gloves on."""

    def __init__(self, root):
        sans = _family(root, "Segoe UI", "Tahoma", "DejaVu Sans", "Helvetica")
        mono = _family(root, "Consolas", "DejaVu Sans Mono", "Menlo", "Courier New", "Courier")
        self.app = (sans, 10)
        self.instrument = (sans, 20, "bold")
        self.badge = (sans, 11, "bold")
        self.headline = (sans, 12, "bold")
        self.elapsed = (mono, 40)
        self.body = (sans, 14)
        self.small = (sans, 11)
        self.button = (sans, 15, "bold")
        self.small_button = (sans, 11, "bold")


# button kind -> (fill, text colour, fill when disabled)
BUTTONS = {"primary": (GREEN, "white", "#a7d7b5"), "danger": (RED, "white", "#eab3b3"), "plain": (PANEL, INK, "#eef2f6")}


def make_button(parent, text, command, fonts, kind="plain", small=False):
    fill, ink, _off = BUTTONS[kind]
    button = tk.Button(parent, text=text, command=command, font=fonts.small_button if small else fonts.button, bg=fill, fg=ink,
                       activebackground=fill, activeforeground=ink, disabledforeground="#9aa5b1", relief="flat",
                       highlightthickness=1, highlightbackground=LINE, padx=16 if small else 22, pady=6 if small else 16,
                       cursor="hand2")
    button.kind = kind
    return button


def set_enabled(button, on):
    fill, _ink, off = BUTTONS[button.kind]
    button.configure(state="normal" if on else "disabled", bg=fill if on else off)


class Dialog:
    """A window-modal dialog that does not block the loop (the clock and connection stay live behind it)."""

    def __init__(self, owner, title, heading, ok_text, ok_kind="primary", cancel_text="Cancel"):
        self.owner = owner
        self.top = tk.Toplevel(owner.root, bg=BG, padx=24, pady=20)
        self.top.title(title)
        self.top.transient(owner.root)
        self.top.protocol("WM_DELETE_WINDOW", self.reject)
        fonts = owner.fonts
        tk.Label(self.top, text=heading.upper(), font=fonts.headline, fg=MUTED, bg=BG).pack(anchor="w")
        self.body = tk.Frame(self.top, bg=BG)
        self.body.pack(fill="both", expand=True, pady=12)
        self.hint = tk.Label(self.top, text="", font=fonts.small, fg=RED, bg=BG)
        self.hint.pack(anchor="w")
        row = tk.Frame(self.top, bg=BG)
        row.pack(fill="x")
        self.ok = make_button(row, ok_text, self.accept, fonts, ok_kind)
        self.cancel = make_button(row, cancel_text, self.reject, fonts)
        self.ok.pack(side="right")
        self.cancel.pack(side="right", padx=(0, 12))
        self.on_accept = None
        self.result = None  # what the fields held when it was accepted (they are gone after)

    def place(self):
        root = self.owner.root
        root.update_idletasks()
        self.top.geometry("+{}+{}".format(root.winfo_rootx() + 60, root.winfo_rooty() + 60))
        self._grab(20)

    def _grab(self, tries):
        """Window-modal; under a window manager the dialog may not be viewable yet, so try again shortly."""
        try:
            self.top.grab_set()
        except tk.TclError:
            if tries > 0:
                self.top.after(50, self._grab, tries - 1)

    def field(self, row, label, widget):
        tk.Label(self.body, text=label, font=self.owner.fonts.body, fg=INK, bg=BG).grid(row=row, column=0, sticky="e", padx=(0, 12),
                                                                                          pady=6)
        widget.grid(row=row, column=1, sticky="we", pady=6, ipady=6)
        self.body.columnconfigure(1, weight=1)
        return widget

    def entry(self, text="", show=None):
        entry = tk.Entry(self.body, font=self.owner.fonts.body, width=34, relief="solid", bd=1, highlightcolor=BLUE,
                         **({"show": show} if show else {}))
        entry.insert(0, text)
        return entry

    def valid(self):
        return True

    def read(self):
        return None

    def values(self):
        return self.result if self.result is not None else self.read()

    def accept(self):
        if not self.valid():
            return
        self.result = self.read()
        callback, self.on_accept = self.on_accept, None
        try:
            if callback is not None:
                callback(self)  # reads the fields, so before they are destroyed
        finally:
            self.close()

    def reject(self):
        self.close()

    def close(self):
        try:
            self.top.grab_release()
            self.top.destroy()
        except tk.TclError:  # already gone with the main window
            pass
        if self.owner.dialog is self:
            self.owner.dialog = None


class SetupDialog(Dialog):
    """First run (or a revoked token): the hub's address and this instrument's token."""

    def __init__(self, owner, hub_url="", message=""):
        Dialog.__init__(self, owner, "Connect the Logger to the hub", "Connect to NexusLIMS Hub", "Save")
        tk.Label(self.body, text=message or view.SETUP_HINT, font=owner.fonts.small, fg=MUTED, bg=BG, wraplength=560,
                 justify="left").grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 8))
        self.hub = self.field(1, "Hub address", self.entry(hub_url))
        self.token = self.field(2, "Instrument token", self.entry(show="•"))

    def valid(self):
        hub, token = self.values()
        if hub.startswith(("http://", "https://")) and token:
            return True
        self.hint.configure(text="Give the hub's http:// or https:// address and the instrument token.")
        return False

    def read(self):
        return self.hub.get().strip(), self.token.get().strip()


class StartDialog(Dialog):
    """Who is at the microscope and for which project, pre-filled from today's reservation."""

    def __init__(self, owner, hub_info, now):
        Dialog.__init__(self, owner, "Start a session", "Start a session", "Start session")
        self.reservation = view.pick_reservation(hub_info.get("reservations") or [], now)
        tk.Label(self.body, text=view.reservation_text(self.reservation), font=owner.fonts.small, fg=MUTED, bg=BG,
                 wraplength=560, justify="left").grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 8))
        users = hub_info.get("users") or []
        self.labels = {}  # shown text -> username
        for person in users:
            shown = person["username"] + (" — " + person["display_name"] if person.get("display_name") else "")
            self.labels[shown] = person["username"]
        self.all_projects = list(hub_info.get("projects") or [])
        self.projects_of = dict((p["username"], p["projects"]) for p in users if "projects" in p)
        self.user = self.field(1, "User", ttk.Combobox(self.body, values=list(self.labels), font=owner.fonts.body, width=32))
        self.project = self.field(2, "Project", ttk.Combobox(self.body, values=self.all_projects, font=owner.fonts.body, width=32))
        self.note = self.field(3, "Note", self.entry())
        self.user.bind("<<ComboboxSelected>>", lambda _e: self.fill_projects())
        res = self.reservation or {}
        if res.get("user"):
            shown = [label for label, name in self.labels.items() if name == res["user"]]
            self.user.set(shown[0] if shown else res["user"])
        if res.get("project"):
            self.project.set(res["project"])
        self.fill_projects()

    def fill_projects(self):
        """A hub with session rules lists, per user, the projects they may pick."""
        user = self._user()
        self.project["values"] = self.projects_of.get(user, self.all_projects) if user else self.all_projects

    def _user(self):
        text = self.user.get().strip()
        return self.labels.get(text) or text.split(" — ")[0].strip() or None

    def read(self):
        res = self.reservation or {}
        reservation = dict((k, res[k]) for k in ("title", "id") if res.get(k))
        return {"user": self._user(), "project": self.project.get().strip() or None,
                "text": self.note.get().strip() or None, "reservation": reservation or None}


class NoteDialog(Dialog):
    """A free-text note for the running session."""

    def __init__(self, owner):
        Dialog.__init__(self, owner, "Add a note", "Add a note", "Save note")
        self.text = tk.Text(self.body, font=owner.fonts.body, width=46, height=6, relief="solid", bd=1, wrap="word")
        self.text.pack(fill="both", expand=True)

    def read(self):
        return self.text.get("1.0", "end").strip()

    value = Dialog.values

    def valid(self):
        if self.read():
            return True
        self.hint.configure(text="Write the note first (sample, holder, alignment, a problem …).")
        return False


class ConfirmDialog(Dialog):
    """A plain yes/no with large buttons; Enter keeps the session running (a stray tap must not end it)."""

    def __init__(self, owner, title, text, ok_text, cancel_text="Cancel"):
        Dialog.__init__(self, owner, title, title, ok_text, "danger", cancel_text)
        tk.Label(self.body, text=text, font=owner.fonts.body, fg=INK, bg=BG, wraplength=520, justify="left").pack(anchor="w")
        self.top.bind("<Return>", lambda _e: self.reject())
