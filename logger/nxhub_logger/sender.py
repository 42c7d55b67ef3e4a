"""Delivery: the journal's queued events go to the hub in order, in batches, with back-off; nothing is ever dropped.

The sender only moves an event out of ``queued`` when the hub has answered for
it: acknowledged (``sent``) or rejected for good (``refused``, with the hub's
reason). A rejected batch is resent one event at a time to find the culprit;
the events already stored by the hub come back as duplicates, which is fine.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from typing import Any

from nxhub_logger.faults import crash_point
from nxhub_logger.hubclient import HubClient, HubError, Refused, Unauthorized, Unreachable
from nxhub_logger.journal import Event, Journal

ONLINE, OFFLINE, UNAUTHORIZED, CONNECTING = "online", "offline", "unauthorized", "connecting"
BATCH = 200


@dataclasses.dataclass
class Link:
    """What the operator sees of the connection: state, the last problem, queued events, and what the hub told us."""

    state: str = OFFLINE
    detail: str = "not contacted yet"
    queued: int = 0
    refused: int = 0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


class Backoff:
    """Exponential back-off with jitter, capped, reset on success."""

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self) -> float:
        self.failures += 1
        delay = min(self.cap, self.first * 2 ** (self.failures - 1))
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.failures = 0


def deliver(journal: Journal, client: HubClient, batch: int = BATCH) -> int:
    """Send queued events until none is left; returns how many left the queue. Raises Unreachable/Unauthorized."""
    moved = 0
    while events := _next_batch(journal, batch):
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


def _next_batch(journal: Journal, size: int) -> list[Event]:
    """The next events to send, in order. A batch ends at a START, so the hub's answer to a session's
    START is known before its NOTEs and END go out; those of a session whose START was refused are
    kept here, marked refused, and never sent (they would open a session the hub never accepted)."""
    while events := journal.pending(size):
        orphans = journal.refused_starts({ev.session_uuid for ev in events if ev.kind != "START"})
        held = [ev for ev in events if ev.kind != "START" and ev.session_uuid in orphans]
        for ev in held:
            journal.mark_refused(ev.uuid, f"not sent: the hub refused this session's START ({orphans[ev.session_uuid]})")
        if held:
            continue
        starts = [i for i, ev in enumerate(events) if ev.kind == "START"]
        return events[:starts[0] + 1] if starts else events
    return []


def _record(journal: Journal, events: list[Event], results: list[dict[str, Any]]) -> int:
    """Apply a batch's per-event answers: stored, refused for good, or (transient) stop and retry from there."""
    acks: list[tuple[str, int | None]] = []
    for ev, result in zip(events, results):
        error = result.get("error")
        if error is None:
            acks.append((ev.uuid, result.get("session_id")))
            continue
        status, message = int(error.get("status") or 500), str(error.get("message") or "")
        if status >= 500 or status in (408, 425, 429) or (status == 409 and "resend" in message):
            journal.mark_sent(acks)
            journal.mark_failed_attempt([ev.uuid], f"{status}: {message}")
            raise Unreachable(f"hub error {status} on one event: {message}")
        journal.mark_sent(acks)
        acks = []
        journal.mark_refused(ev.uuid, f"{status}: {message}")
    journal.mark_sent(acks)
    return len(results)


def _one_by_one(journal: Journal, client: HubClient, events: list[Event]) -> int:
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

    def __init__(self, journal_path: str, client_factory: Callable[[], HubClient | None],
                 on_change: Callable[[Link], None] | None = None, idle_s: float = 15.0, backoff: Backoff | None = None,
                 poll: Callable[[Journal, HubClient], dict[str, Any]] | None = None) -> None:
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

    def start(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        self.backoff.reset()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _publish(self, journal: Journal, state: str, detail: str, info: dict[str, Any] | None = None) -> None:
        counts = journal.counts()
        self.link = Link(state, detail, counts["queued"], counts["refused"], info if info is not None else self.link.info)
        self.on_change(self.link)

    def _run(self) -> None:
        journal = Journal(self.journal_path)  # this thread's own connection
        try:
            while not self._stop.is_set():
                delay = self._step(journal)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            journal.close()

    def _step(self, journal: Journal) -> float:
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
