"""Helpers shared by the calendar tests: a NEMO facility, instruments on our side, session look-ups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import InstrumentSession, Reservation


def nemo_facility(server, tool: str = "Titan") -> dict:
    """A tool, two users and a project in NEMO; returns their ids."""
    tool_id, alice, bob, project = server.seed(
        {"op": "tool", "name": tool},
        {"op": "user", "username": "alice", "first_name": "Alice", "last_name": "Ng", "email": "alice@example.org"},
        {"op": "user", "username": "bob", "first_name": "Bob", "last_name": "Roe", "email": "bob@example.org"},
        {"op": "project", "name": "Grain boundaries"},
    )
    return {"tool": tool_id, "alice": alice, "bob": bob, "project": project}


def add_nemo_instrument(db, monkeypatch, name: str, server, tool_id: int | None, tz: str = "UTC", **settings) -> None:
    env = f"NXHUB_TEST_NEMO_TOKEN_{server.port}"
    monkeypatch.setenv(env, server.token)
    with db.session(write=True) as sess:
        add_instrument(sess, name, timezone=tz, harvester="nemo",
                       harvester_settings={"url": server.api_url, "token_env": env, "timezone": server.tz, **settings,
                                           **({"tool_id": tool_id} if tool_id is not None else {})})


def sessions(db, source: str | None = None) -> list[InstrumentSession]:
    with db.session() as sess:
        stmt = select(InstrumentSession).options(selectinload(InstrumentSession.person), selectinload(InstrumentSession.project)).order_by(InstrumentSession.start, InstrumentSession.id)
        if source:
            stmt = stmt.where(InstrumentSession.source == source)
        return list(sess.scalars(stmt))


def reservations(db) -> list[Reservation]:
    with db.session() as sess:
        return list(sess.scalars(select(Reservation).order_by(Reservation.start)))


def answers(**values) -> dict:
    """NEMO dynamic-form answers: ``{name: {"type", "title", "user_input"}}``."""
    return {k: {"type": "textbox", "title": k.replace("_", " "), "user_input": v} for k, v in values.items()}
