"""The session state machine: every legal and illegal move, and racing processes."""

from __future__ import annotations

import itertools
import multiprocessing as mp

import pytest
from sqlalchemy import func, select

from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import InstrumentSession, SessionEvent
from nexuslims_kernel.errors import ConcurrentUpdateError, IllegalTransitionError, NotFoundError
from nexuslims_kernel.sessions import TRANSITIONS, SessionStatus
from nexuslims_kernel.sessions.machine import move, transition

ALL_MOVES = list(itertools.product(SessionStatus, SessionStatus))


def _new_session(db: Database, status: SessionStatus) -> int:
    with db.session(write=True) as sess:
        inst = add_instrument(sess, f"inst-{status.lower()}-{sess.scalar(select(func.count(InstrumentSession.id)))}")
        s = InstrumentSession(instrument=inst, source="logger", status=status)
        sess.add(s)
        sess.flush()
        return s.id


def test_every_move_is_allowed_or_refused_per_the_table(db: Database) -> None:
    for src, dst in ALL_MOVES:
        sid = _new_session(db, src)
        if dst in TRANSITIONS[src]:
            assert move(db, sid, dst, actor="test", reason="why") == dst
            with db.session() as sess:
                s = sess.get(InstrumentSession, sid)
                assert (s.status, s.status_reason) == (dst, "why")
                event = sess.scalars(select(SessionEvent).where(SessionEvent.session_id == sid)).one()
                assert (event.kind, event.from_status, event.to_status, event.actor) == ("STATUS", src, dst, "test")
        else:
            with pytest.raises(IllegalTransitionError, match=f"cannot move from {src} to {dst}"):
                move(db, sid, dst, actor="test")
            with db.session() as sess:
                assert sess.get(InstrumentSession, sid).status == src  # untouched
                assert sess.scalar(select(func.count()).where(SessionEvent.session_id == sid)) == 0


def test_missing_session_and_stale_expectation(db: Database) -> None:
    with pytest.raises(NotFoundError, match="session 999 does not exist"):
        move(db, 999, SessionStatus.TO_BE_BUILT, actor="t")
    sid = _new_session(db, SessionStatus.TO_BE_BUILT)
    with db.session(write=True) as sess, pytest.raises(ConcurrentUpdateError, match="someone else moved it"):
        transition(sess, sid, SessionStatus.COMPLETED, actor="t", expect=SessionStatus.BUILDING)


def _racer(url: str, sid: int, barrier, results) -> None:
    db = Database(url)
    barrier.wait()
    try:
        move(db, sid, SessionStatus.BUILDING, actor=mp.current_process().name)
        results.put("won")
    except ConcurrentUpdateError:
        results.put("lost")
    except IllegalTransitionError:
        results.put("lost")  # read after the winner committed: BUILDING -> BUILDING is illegal
    finally:
        db.dispose()


def test_two_processes_racing_for_one_session_only_one_wins(db: Database, db_url: str) -> None:
    ctx = mp.get_context("spawn")
    for _ in range(5):
        sid = _new_session(db, SessionStatus.TO_BE_BUILT)
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_racer, args=(db_url, sid, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        outcome = sorted(results.get(timeout=5) for _ in procs)
        assert outcome == ["lost", "won"]
        with db.session() as sess:
            moves = sess.scalar(select(func.count()).where(SessionEvent.session_id == sid, SessionEvent.to_status == "BUILDING"))
            assert moves == 1


def test_a_move_that_read_a_stale_status_matches_no_row_and_is_refused(db: Database) -> None:
    """The guarded UPDATE itself, on both backends: another writer moves the session after our read.

    The other writer's change is made on our own connection just before our UPDATE runs (as if it had
    committed in between), so the interleaving is exact on SQLite too, where the write lock would
    otherwise serialise the two racers before either reads.
    """
    from sqlalchemy import event, text

    sid = _new_session(db, SessionStatus.TO_BE_BUILT)
    with db.session(write=True) as sess:
        conn = sess.connection()
        fired = []

        def other_writer_first(connection, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith("UPDATE SESSIONS") and not fired:
                fired.append(statement)
                cursor.execute(f"UPDATE sessions SET status = 'BUILDING' WHERE id = {int(sid)}")

        event.listen(conn, "before_cursor_execute", other_writer_first)
        try:
            with pytest.raises(ConcurrentUpdateError, match="changed status while it was being moved"):
                transition(sess, sid, SessionStatus.BUILDING, actor="late")
        finally:
            event.remove(conn, "before_cursor_execute", other_writer_first)
        assert fired, "the interleaving hook never ran"
        assert sess.execute(text("SELECT status FROM sessions WHERE id = :i"), {"i": sid}).scalar() == "BUILDING"
        late = sess.scalar(select(func.count()).where(SessionEvent.session_id == sid, SessionEvent.actor == "late"))
        assert late == 0  # the losing move left no audit event
