"""Migration 0010 (facility_meta): a data dir the demo made before it is recognised once; a real facility never is."""

from __future__ import annotations

from nexuslims_kernel.db import downgrade, upgrade
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.demo.facility import is_demo_facility


def _upgraded_from_0007(db, instruments: dict[str, str], people: tuple[str, ...] = ()) -> bool:
    downgrade(db, "0007")
    with db.session(write=True) as sess:
        for name, root in instruments.items():
            add_instrument(sess, name, filestore_root=root)
        for username in people:
            add_person(sess, username)
    upgrade(db)
    with db.session() as sess:
        return is_demo_facility(sess)


def test_an_older_demo_data_dir_is_marked_as_the_demo(db, tmp_path) -> None:
    store = tmp_path / "data" / "demo-store"
    assert _upgraded_from_0007(db, {"Demo-TEM": str(store / "Demo-TEM"), "Demo-SEM": str(store / "Demo-SEM")}, ("alice", "bob"))


def test_a_real_facility_with_the_demos_names_is_not(db, tmp_path) -> None:
    # people called like the demo's, one instrument called like the demo's: still not the demo
    assert not _upgraded_from_0007(db, {"Demo-TEM": "/srv/titan", "Krios": "/srv/krios"}, ("alice",))


def test_an_empty_database_is_not_marked(db) -> None:
    assert not _upgraded_from_0007(db, {})
