"""Records over real files for catalog and page tests, written straight into the database.

Each record gets one activity per entry of ``activities`` (lists of dataset
specs: relpath, type, companions, signal index) and real PNG thumbnails; the
file index holds each file's size and sha256, as the build worker leaves it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

from nexuslims_kernel.db import record_facets
from nexuslims_kernel.db.models import Activity, Dataset, IndexedFile, InstrumentSession, Record

UTC = dt.UTC
STEM = "rosettasciio/dm/test_STEM_image.dm3"
EELS = "rosettasciio/dm/test-EELS_spectrum.dm3"
EMI, SER = "rosettasciio/tia/old/64x64_TEM_images_acquire.emi", "rosettasciio/tia/old/64x64_TEM_images_acquire_1.ser"
SECRET = "rosettasciio/dm/test_diffraction_pattern.dm3"


@dataclasses.dataclass
class Spec:
    relpath: str
    dataset_type: str = "Image"
    fmt: str = "dm3"
    companions: tuple[str, ...] = ()
    signal_index: int = 0
    shape: tuple[int, ...] = (64, 64)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


def png(seed: int, size: int = 96) -> bytes:
    """A small, visibly different PNG per seed (particles on a dark field, like a HAADF image)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    img = np.zeros((size, size))
    for _ in range(12):
        cy, cx, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(3, 10)]
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    img = (255 * img / img.max()).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def index_file(sess: Any, inst: Any, store: Path, relpath: str) -> None:
    path = store / relpath
    if sess.query(IndexedFile).filter_by(instrument_id=inst.id, relpath=relpath).first() is None:
        sess.add(IndexedFile(instrument_id=inst.id, relpath=relpath, size=path.stat().st_size, mtime=path.stat().st_mtime,
                             sha256=hashlib.sha256(path.read_bytes()).hexdigest()))


def add_record(sess: Any, inst: Any, owner: Any, store: Path, previews: Path, activities: list[list[Spec]], *, title: str,
               start: dt.datetime, group: Any = None, public: bool = False, search_text: str = "", index: bool = True) -> Record:
    n = sum(len(a) for a in activities)
    session = InstrumentSession(instrument_id=inst.id, source="logger", start=start, end=start + dt.timedelta(hours=3), status="COMPLETED")
    sess.add(session)
    sess.flush()
    record = Record(session_id=session.id, instrument_id=inst.id, title=title, start=start, end=start + dt.timedelta(hours=3),
                    owner_id=owner.id, group_id=group.id if group else None, is_public=public, n_datasets=n,
                    header={"title": title, "experimenters": [{"username": owner.username, "name": owner.display_name or owner.username}],
                            "motivation": "Locate single Pt atoms on CeO2 before and after reduction.",
                            "project": {"name": "cat-2026", "title": "Single-atom catalysts", "group": None, "ref": None},
                            "samples": [{"id": "s1", "name": "Pt/CeO2 lamella", "description": "FIB lamella, 60 nm",
                                         "elements": ["Pt", "Ce", "O"]}],
                            "note": "Tilt series at 300 kV; drift corrected."},
                    search_text=f"{title} {inst.name} {owner.username} {search_text}")
    sess.add(record)
    sess.flush()
    k = 0
    for seq, specs in enumerate(activities, 1):
        act = Activity(record_id=record.id, seq=seq, start=start + dt.timedelta(minutes=20 * seq),
                       end=start + dt.timedelta(minutes=20 * seq + 15), setup={"beam_energy": {"value": 300, "units": "kV"}})
        sess.add(act)
        sess.flush()
        for spec in specs:
            k += 1
            preview = f"{record.id}/{k}.png"
            (previews / preview).parent.mkdir(parents=True, exist_ok=True)
            (previews / preview).write_bytes(png(record.id * 10007 + k % 40))
            if index:
                for rel in (spec.relpath, *spec.companions):
                    index_file(sess, inst, store, rel)
            sess.add(Dataset(
                record_id=record.id, activity_id=act.id, relpath=spec.relpath, signal_index=spec.signal_index,
                name=Path(spec.relpath).stem, dataset_type=spec.dataset_type, format=spec.fmt,
                acquired_at=act.start + dt.timedelta(seconds=k), file_size=(store / spec.relpath).stat().st_size,
                shape=list(spec.shape), dtype="float32", meta={"beam_energy": {"value": 300, "units": "kV"}, **spec.meta},
                raw_metadata={"Microscope": {"Name": "Titan", "Voltage": 300000}}, preview_path=preview,
                companions=list(spec.companions),
            ))
        sess.flush()
    record_facets.refresh(sess, [record.id])
    return record
