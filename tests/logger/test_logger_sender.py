"""The sender's reading of per-event batch answers (the hub with session rules answers each event of a batch)."""

from __future__ import annotations

import pytest
from nxhub_logger.hubclient import Unreachable
from nxhub_logger.journal import Journal
from nxhub_logger.sender import Backoff, deliver


class CannedAnswersHub:
    """Stand-in for a hub whose batch answers carry per-event errors (``{"uuid", "error": {...}}``)."""

    def __init__(self, errors: dict[str, tuple[int, str]]) -> None:
        self.errors, self.posts = errors, []  # event uuid -> the error it gets the first time it is posted

    def post_events(self, events):
        self.posts.append([e["uuid"] for e in events])
        out = []
        for ev in events:
            if ev["uuid"] in self.errors:
                status, message = self.errors.pop(ev["uuid"])
                out.append({"uuid": ev["uuid"], "error": {"status": status, "message": message}})
            else:
                out.append({"uuid": ev["uuid"], "session_id": 1, "duplicate": False})
        return out


def test_a_refused_event_in_a_batch_is_kept_refused_and_the_rest_delivered(tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    start = journal.start("alice")
    overlapping = journal.note(start.uuid, "n1")
    journal.end(start.uuid)
    hub = CannedAnswersHub({overlapping.uuid: (409, "overlaps session 12 on this instrument")})
    assert deliver(journal, hub) == 3
    assert journal.counts() == {"queued": 0, "sent": 2, "refused": 1}
    assert [(e.uuid, e.last_error) for e in journal.refused()] == [(overlapping.uuid, "409: overlaps session 12 on this instrument")]
    assert hub.posts == [[start.uuid], [overlapping.uuid, journal.events()[2].uuid]]  # a batch ends at a START; no resend


@pytest.mark.parametrize("status,message", [(500, "internal server error"), (409, "conflicts with a concurrent update; resend it")])
def test_a_transient_error_in_a_batch_stops_there_and_is_retried(tmp_path, status, message) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    start = journal.start("alice")
    note = journal.note(start.uuid, "n1")
    end = journal.end(start.uuid)
    hub = CannedAnswersHub({note.uuid: (status, message)})
    with pytest.raises(Unreachable):
        deliver(journal, hub)
    assert journal.counts() == {"queued": 2, "sent": 1, "refused": 0}
    assert deliver(journal, hub) == 2 and journal.counts()["sent"] == 3
    assert hub.posts == [[start.uuid], [note.uuid, end.uuid], [note.uuid, end.uuid]]  # resumed in order from the failure


def test_backoff_grows_and_is_capped() -> None:
    backoff = Backoff(first=1, cap=8)
    delays = [backoff.next_delay() for _ in range(6)]
    assert 0.8 <= delays[0] <= 1.2 and delays[3] >= 6.4 and max(delays) <= 8 * 1.2
    backoff.reset()
    assert backoff.next_delay() <= 1.2
