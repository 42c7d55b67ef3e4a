"""What ``nxhub up`` runs and prepares: components, the harvest hook, and no demo inside a real facility."""

from __future__ import annotations

from sqlalchemy import select

from nexuslims_kernel.cli import main as cli_main
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import add_person
from nexuslims_kernel.db.models import Instrument, Person
from nexuslims_kernel.hub.components import components, first_start
from nexuslims_kernel.hub.logins import logins_path


def test_up_runs_the_hub_a_worker_the_watcher_and_the_harvest_loop_when_present(settings, monkeypatch) -> None:
    monkeypatch.delitem(cli_main.COMMANDS, "harvest", raising=False)
    parts = {c.name: c for c in components(settings)}
    assert list(parts) == ["hub", "worker", "watcher"]
    assert parts["hub"].argv[-1].endswith("hub_config/jupyterhub_config.py") and parts["hub"].ready is not None
    assert parts["watcher"].argv[-2:] == ["index", "--watch"]
    env = parts["worker"].env
    assert env["NXHUB_DATA_DIR"] == str(settings.data_dir) and env["NXHUB_HUB_PORT"] == str(settings.hub.port)
    monkeypatch.setitem(cli_main.COMMANDS, "harvest", "nexuslims_kernel.cli.main:cli")
    harvest = components(settings)[-1]
    assert harvest.name == "harvest" and harvest.argv[-3:] == ["harvest", "--every", "300"]


def test_first_start_never_puts_the_demo_into_a_real_facility(settings, db: Database) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "curator")
    said: list[str] = []
    assert first_start(settings, said.append) == {}
    with db.session() as sess:
        assert sess.scalars(select(Person.username)).all() == ["curator"]
        assert sess.scalars(select(Instrument.name)).all() == []
    assert not logins_path(settings.data_dir).exists() and said == []


def test_a_real_facility_named_like_the_demo_gets_no_demo_sign_ins(settings, db: Database) -> None:
    """The demo's sign-ins follow the demo's mark in the database, not its instruments' or people's names."""
    from nexuslims_kernel.db.directory import add_instrument

    with db.session(write=True) as sess:
        add_person(sess, "alice")
        for name in ("Demo-TEM", "Demo-SEM"):
            add_instrument(sess, name)
    assert first_start(settings, [].append) == {}
    with db.session() as sess:
        assert sess.scalars(select(Person.username)).all() == ["alice"]  # no demo admin added either
    assert not logins_path(settings.data_dir).exists()
