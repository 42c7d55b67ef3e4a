"""Interop fixtures: a record whose data files really exist in an instrument store (real rows, real files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nexuslims_kernel.db import Database, upgrade
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person
from nexuslims_kernel.extract.results import DatasetResult
from nexuslims_kernel.records import DatasetInput, write_record

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FILES = {"2026/03/act0/img_0.tif": b"TIFF-ish bytes 0" * 50, "2026/03/act0/img_1.tif": b"TIFF-ish bytes 1" * 70,
         "2026/03/act1/spectrum.msa": b"#FORMAT : EMSA/MAS Spectral Data File\n" * 20}


def record_with_files(db_url: str, store: Path, previews: Path, title: str = "Grain boundaries in FePt",
                      instrument: str = "Titan-TEM", user: str = "alice") -> int:
    """One instrument whose store holds :data:`FILES`, one session and its record of two activities; the record id."""
    db = Database(db_url)
    upgrade(db)
    for rel, body in FILES.items():
        (store / rel).parent.mkdir(parents=True, exist_ok=True)
        (store / rel).write_bytes(body)
    try:
        with db.session(write=True) as sess:
            inst = Instrument(name=instrument, display_name="FEI Titan", location="Bldg 1", filestore_root=str(store))
            alice = Person(username=user, display_name="Alice Ångström")
            session = InstrumentSession(instrument=inst, person=alice, start=T0, end=T0 + dt.timedelta(hours=2),
                                        source="manual", status="BUILDING", reservation={"title": title})
            sess.add_all([inst, alice, session])
            sess.flush()
            activities = []
            for act, rels in enumerate((list(FILES)[:2], list(FILES)[2:])):
                items = []
                for i, rel in enumerate(rels):
                    when = T0 + dt.timedelta(minutes=30 * act + i)
                    res = DatasetResult(index=0, name=Path(rel).name, dataset_type="Spectrum" if rel.endswith("msa") else "Image",
                                        metadata={"acquisition_time": when.isoformat(), "acquisition_time_source": "file"},
                                        raw_metadata={}, shape=[8, 8], dtype="uint16")
                    items.append(DatasetInput(relpath=rel, size=len(FILES[rel]), mtime=when.timestamp(), format="tiff",
                                              result=res))
                activities.append(items)
            return write_record(sess, session, activities, [], previews_root=previews).id
    finally:
        db.dispose()
