"""Delivery: the journal's queued events go to the hub in order, in batches, with back-off; nothing is ever dropped.

The sender only moves an event out of ``queued`` when the hub has answered for
it: acknowledged (``sent``) or rejected for good (``refused``, with the hub's
reason). A rejected batch is resent one event at a time to find the culprit;
the events already stored by the hub come back as duplicates, which is fine.
Python 3.4 syntax: it ships in the zipapp for old microscope PCs.
"""

import random
import threading

from nxhub_logger.faults import crash_point
from nxhub_logger.hubclient import HubError, Refused, Unauthorized, Unreachable
from nxhub_logger.journal import Journal

ONLINE, OFFLINE, UNAUTHORIZED, CONNECTING = "online", "offline", "unauthorized", "connecting"
BATCH = 200


class Link:
    """What the operator sees of the connection: state, the last problem, queued events, and what the hub told us."""

    def __init__(self, state=OFFLINE, detail="not contacted yet", queued=0, refused=0, info=None):
        self.state, self.detail, self.queued, self.refused = state, detail, queued, refused
        self.info = {} if info is None else info

    def __repr__(self):
        return "Link({!r}, {!r}, queued={}, refused={})".format(self.state, self.detail, self.queued, self.refused)


class Backoff:
    """Exponential back-off with jitter, capped, reset on success."""

    def __init__(self, first=1.0, cap=60.0):
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self):
        self.failures += 1
        delay = min(self.cap, self.first * 2 ** (self.failures - 1))
        return delay * random.uniform(0.8, 1.2)

    def reset(self):
        self.failures = 0


def deliver(journal, client, batch=BATCH):
    """Send queued events until none is left; returns how many left the queue. Raises Unreachable/Unauthorized."""
    moved = 0
    while True:
        events = _next_batch(journal, batch)
        if not events:
            break
        try:
            results = client.post_events([ev.wire() for ev in events])
        except Refused:  # a hub that refuses a whole batch for one bad event: find it
            moved += _one_by_one(journal, client, events)
            continue
        except HubError as exc:
            journal.mark_failed_attempt([ev.uuid for ev in events], str(exc))
            raise
        crash_point("after-send")
        moved += _record(journal, events, results)
    journal.checkpoint()  # fold the WAL into the database here, off the path of the next event
    return moved


def _next_batch(journal, size):
    """The next events to send, in order. A batch ends at a START, so the hub's answer to a session's
    START is known before its NOTEs and END go out; those of a session whose START was refused are
    kept here, marked refused, and never sent (they would open a session the hub never accepted)."""
    while True:
        events = journal.pending(size)
        if not events:
            return []
        orphans = journal.refused_starts({ev.session_uuid for ev in events if ev.kind != "START"})
        held = [ev for ev in events if ev.kind != "START" and ev.session_uuid in orphans]
        for ev in held:
            journal.mark_refused(ev.uuid, "not sent: the hub refused this session's START ({})".format(orphans[ev.session_uuid]))
        if held:
            continue
        starts = [i for i, ev in enumerate(events) if ev.kind == "START"]
        return events[:starts[0] + 1] if starts else events


def _record(journal, events, results):
    """Apply a batch's per-event answers: stored, refused for good, or (transient) stop and retry from there."""
    acks = []
    for ev, result in zip(events, results):
        error = result.get("error")
        if error is None:
            acks.append((ev.uuid, result.get("session_id")))
            continue
        status, message = int(error.get("status") or 500), str(error.get("message") or "")
        if status >= 500 or status in (408, 425, 429) or (status == 409 and "resend" in message):
            journal.mark_sent(acks)
            journal.mark_failed_attempt([ev.uuid], "{}: {}".format(status, message))
            raise Unreachable("hub error {} on one event: {}".format(status, message))
        journal.mark_sent(acks)
        acks = []
        journal.mark_refused(ev.uuid, "{}: {}".format(status, message))
    journal.mark_sent(acks)
    return len(results)


def _one_by_one(journal, client, events):
    for ev in events:
        try:
            result = client.post_events([ev.wire()])[0]
        except Refused as exc:
            journal.mark_refused(ev.uuid, str(exc))
            continue
        _record(journal, [ev], [result])
    return len(events)


class Sender:
    """A background thread that keeps delivering; ``wake()`` after journaling sends at once."""

    def __init__(self, journal_path, client_factory, on_change=None, idle_s=15.0, backoff=None, poll=None):
        """``client_factory()`` gives a HubClient or None (not set up); ``on_change(link)`` runs on this thread;
        ``poll(journal, client)`` returns a dict of what else to show once the queue is empty."""
        self.journal_path = journal_path
        self.client_factory = client_factory
        self.on_change = on_change or (lambda link: None)
        self.poll = poll  # what else to ask the hub once the queue is empty (the window: files landed, reservations)
        self.idle_s = idle_s
        self.backoff = backoff or Backoff()
        self.link = Link()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="nxhub-logger-sender", daemon=True)

    def start(self):
        self.thread.start()

    def wake(self):
        self.backoff.reset()
        self._wake.set()

    def stop(self, timeout=5.0):
        self._stop.set()
        self._wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _publish(self, journal, state, detail, info=None):
        counts = journal.counts()
        self.link = Link(state, detail, counts["queued"], counts["refused"], info if info is not None else self.link.info)
        self.on_change(self.link)

    def _run(self):
        journal = Journal(self.journal_path)  # this thread's own connection
        try:
            while not self._stop.is_set():
                delay = self._step(journal)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            journal.close()

    def _step(self, journal):
        client = self.client_factory()
        if client is None:
            self._publish(journal, OFFLINE, "no hub configured")
            return self.idle_s
        info = None
        try:
            deliver(journal, client)
            info = client.heartbeat()  # also proves the token when nothing was queued
            if self.poll is not None:
                info.update(self.poll(journal, client))
        except Unauthorized as exc:
            self._publish(journal, UNAUTHORIZED, str(exc))
            return max(self.idle_s, self.backoff.next_delay())
        except Unreachable as exc:
            self._publish(journal, OFFLINE, str(exc))
            return self.backoff.next_delay()
        self.backoff.reset()
        self._publish(journal, ONLINE, "connected", info)
        return self.idle_s
