"""Session statuses and the legal moves between them, in one table.

Logger, calendar and inferred sessions all follow this machine; workers move
sessions through it with :func:`nexuslims_kernel.sessions.machine.transition`.
"""

from __future__ import annotations

import enum


class SessionStatus(enum.StrEnum):
    WAITING_FOR_END = "WAITING_FOR_END"  # started, not ended yet
    TO_BE_BUILT = "TO_BE_BUILT"  # ended (or rebuild asked): queued for a worker
    BUILDING = "BUILDING"  # claimed by a worker, heartbeating
    COMPLETED = "COMPLETED"  # record written
    NO_FILES = "NO_FILES"  # no files found after the late-upload grace period
    NO_CONSENT = "NO_CONSENT"  # the user declined record keeping
    ERROR = "ERROR"  # build failed max_attempts times (reason kept)
    NEEDS_REVIEW = "NEEDS_REVIEW"  # longer than sessions.max_length_s, or never ended: an admin approves
    CANCELLED = "CANCELLED"  # entered by mistake: never built, ignored by overlap checks


class SessionSource(enum.StrEnum):
    LOGGER = "logger"
    NEMO = "nemo"
    ICAL = "ical"
    INFERRED = "inferred"
    MANUAL = "manual"  # entered by an admin with `nxhub sessions add`
    NEXUSLIMS = "nexuslims"  # brought over from a NexusLIMS database by `nxhub import nexuslims`


S = SessionStatus

#: from-status -> statuses it may move to. Every queueing move (to TO_BE_BUILT
#: from anything but BUILDING) is checked by the machine: the session must have
#: an end, and one longer than ``sessions.max_length_s`` goes to NEEDS_REVIEW
#: instead unless an admin approved it.
_REQUEUE = frozenset({S.TO_BE_BUILT, S.NEEDS_REVIEW, S.CANCELLED})
TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    S.WAITING_FOR_END: frozenset({S.TO_BE_BUILT, S.NO_CONSENT, S.NEEDS_REVIEW, S.CANCELLED}),
    S.TO_BE_BUILT: frozenset({S.BUILDING, S.NO_CONSENT, S.NEEDS_REVIEW, S.CANCELLED}),
    # Back to TO_BE_BUILT: a failed attempt to retry, a stale claim reclaimed,
    # or no files yet while the late-upload grace period runs.
    S.BUILDING: frozenset({S.COMPLETED, S.NO_FILES, S.ERROR, S.TO_BE_BUILT}),
    S.COMPLETED: _REQUEUE,  # rebuild
    S.NO_FILES: _REQUEUE,  # late files arrived / rebuild
    S.ERROR: _REQUEUE,  # retry after a fix
    S.NO_CONSENT: _REQUEUE,  # consent given later
    S.NEEDS_REVIEW: frozenset({S.TO_BE_BUILT, S.CANCELLED}),  # approved (or ended in time) / a mistake
    S.CANCELLED: frozenset(),
}

TERMINAL = frozenset({S.COMPLETED, S.NO_FILES, S.NO_CONSENT, S.ERROR, S.CANCELLED})


def can_move(src: SessionStatus | str, dst: SessionStatus | str) -> bool:
    return SessionStatus(dst) in TRANSITIONS[SessionStatus(src)]
