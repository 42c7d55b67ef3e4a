"""Builder test helpers: an instrument with a real file store and queued sessions over it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tuned(settings: Settings, **build: Any) -> Settings:
    """``settings`` with build-section fields changed."""
    return dataclasses.replace(settings, build=dataclasses.replace(settings.build, **build))


def add_store(db, root: Path, name: str = "Titan") -> int:
    root.mkdir(parents=True, exist_ok=True)
    with db.session(write=True) as sess:
        inst = sess.query(Instrument).filter_by(name=name).one_or_none()
        if inst is None:
            inst = add_instrument(sess, name, filestore_root=str(root))
        if sess.query(Person).filter_by(username="alice").one_or_none() is None:
            add_person(sess, "alice", display_name="Alice Example")
        return inst.id


def add_sessions(db, inst_id: int, starts: list[dt.datetime], hours: float = 2.0, status: str = "TO_BE_BUILT") -> list[int]:
    """Queued sessions on one instrument, one per start time."""
    with db.session(write=True) as sess:
        alice = sess.query(Person).filter_by(username="alice").one()
        rows = [InstrumentSession(instrument_id=inst_id, person_id=alice.id, start=s, end=s + dt.timedelta(hours=hours),
                                  source="manual", status=status, reservation={"title": f"Session at {s:%H:%M}"})
                for s in starts]
        sess.add_all(rows)
        sess.flush()
        return [r.id for r in rows]


def place(src: Path, dest: Path, when: dt.datetime) -> Path:
    """Copy ``src`` to ``dest`` with its mtime set to ``when`` (as if acquired then)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return touch(dest, when)


def touch(path: Path, when: dt.datetime) -> Path:
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path
