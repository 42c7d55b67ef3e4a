"""Facility rows and dataset inputs for record tests (real DB rows, real result objects)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nexuslims_kernel.db.models import Group, Instrument, InstrumentSession, Person, Project
from nexuslims_kernel.extract.results import DatasetResult
from nexuslims_kernel.records import DatasetInput

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def add_session(
    db, *, reservation: dict[str, Any] | None = None, with_project: bool = True, note: str | None = None, name: str = "Test-TEM"
) -> int:
    """An instrument, a person in two groups, a project and one ended session; returns the session id."""
    with db.session(write=True) as sess:
        inst = sess.query(Instrument).filter_by(name=name).one_or_none()
        if inst is None:
            inst = Instrument(name=name, display_name=f"{name} (Titan)", location="Bldg 1 / Room 2", timezone="Europe/Berlin")
            sess.add(inst)
        alice = sess.query(Person).filter_by(username="alice").one_or_none()
        if alice is None:
            g1, g2 = Group(name="first-group"), Group(name="second-group")
            alice = Person(username="alice", display_name="Alice Ångström", groups=[g1, g2])
            sess.add_all([g1, g2, alice, Project(name="p-1", title="Project One", group=g2)])
            sess.flush()
        project = sess.query(Project).filter_by(name="p-1").one() if with_project else None
        session = InstrumentSession(
            instrument=inst,
            person=alice,
            project=project,
            start=T0,
            end=T0 + dt.timedelta(hours=3),
            source="logger",
            status="BUILDING",
            reservation=reservation or {},
            note=note,
        )
        sess.add(session)
        sess.flush()
        return session.id


def result(index: int = 0, *, dataset_type: str = "Image", when: dt.datetime = T0, **meta: Any) -> DatasetResult:
    metadata = {
        "acquisition_time": when.isoformat(),
        "acquisition_time_source": "file",
        "microscope": "Titan",
        "acceleration_voltage": {"value": 300, "unit": "kV"},
        **meta,
    }
    return DatasetResult(
        index=index,
        name=f"signal {index}",
        dataset_type=dataset_type,
        metadata=metadata,
        raw_metadata={"vendor": {"x": 1}},
        shape=[8, 8],
        dtype="uint16",
    )


def synthetic_activities(n_activities: int = 2, per: int = 3, **meta: Any) -> list[list[DatasetInput]]:
    """``n_activities`` bursts of ``per`` images each, with a magnification that varies within a burst."""
    out = []
    for a in range(n_activities):
        items = []
        for i in range(per):
            when = T0 + dt.timedelta(hours=a, minutes=i)
            items.append(
                DatasetInput(
                    relpath=f"2026/03/act{a}/img_{i}.tif",
                    file_id=None,
                    size=1000 + i,
                    mtime=when.timestamp(),
                    format="tiff",
                    companions=[],
                    result=result(when=when, magnification=1000 * (i + 1), **meta),
                )
            )
        out.append(items)
    return out


@pytest.fixture
def session_id(db) -> int:
    return add_session(db, reservation={"title": "Grain boundaries in FePt", "motivation": "Why not", "samples": ["FePt-01"]})


def extract(path, preview_dir=None):
    """The extraction interface (engineer E): ``extract_file`` run in this process."""
    from nexuslims_kernel.extract import extract_file

    return extract_file(path, preview_dir=preview_dir)


def inputs_from_files(paths, root, preview_dir=None) -> list[DatasetInput]:
    """One DatasetInput per signal of each file, as the builder makes them."""
    from pathlib import Path

    out = []
    for path in paths:
        res = extract(path, preview_dir)
        common = dict(
            relpath=Path(path).relative_to(root).as_posix(),
            size=res.size,
            mtime=res.mtime,
            format=res.format,
            companions=[Path(c).relative_to(root).as_posix() if Path(c).is_absolute() else c for c in res.companions],
        )
        if not res.datasets:
            out.append(DatasetInput(**common, result=None, file_error=res.error))
        for ds in res.datasets:
            out.append(DatasetInput(**common, result=ds, file_error=res.error))
    return out


def write_em_files(root) -> list:
    """Small files written by rosettasciio through HyperSpy: image, spectrum, spectrum image, diffraction."""
    import hyperspy.api as hs
    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []

    def setmd(sig, title, when):
        sig.metadata.General.title = title
        sig.metadata.General.date = when.date().isoformat()
        sig.metadata.General.time = when.time().isoformat()
        sig.metadata.General.time_zone = "UTC"
        sig.metadata.set_item("Acquisition_instrument.TEM.beam_energy", 300.0)
        sig.metadata.set_item("Acquisition_instrument.TEM.magnification", 50000.0)
        sig.metadata.set_item("Acquisition_instrument.TEM.microscope", "Titan <b>&amp;</b> ]]>")
        return sig

    img = setmd(hs.signals.Signal2D(rng.random((32, 32)).astype("float32")), "HAADF image", T0)
    img.axes_manager[0].scale = img.axes_manager[1].scale = 0.5
    img.axes_manager[0].units = img.axes_manager[1].units = "nm"
    for ext in ("hspy", "tif"):
        img.save(root / f"image.{ext}", overwrite=True)
        paths.append(root / f"image.{ext}")
    stack = setmd(hs.signals.Signal2D(rng.random((2, 16, 16)).astype("float32")), "image stack", T0 + dt.timedelta(minutes=2))
    stack.save(root / "stack.mrcz", overwrite=True)
    paths.append(root / "stack.mrcz")
    spec = setmd(hs.signals.Signal1D(rng.random(256).astype("float32")), "EDS spectrum", T0 + dt.timedelta(minutes=5))
    spec.save(root / "spectrum.msa", overwrite=True, format="Y")
    paths.append(root / "spectrum.msa")
    si = setmd(hs.signals.Signal1D(rng.random((4, 4, 64)).astype("float32")), "spectrum image", T0 + dt.timedelta(hours=1))
    si.save(root / "si.hspy", overwrite=True)
    paths.append(root / "si.hspy")
    dp = setmd(hs.signals.Signal2D(rng.random((16, 16)).astype("float32")), "diffraction", T0 + dt.timedelta(hours=1, minutes=2))
    dp.save(root / "diff.emd", overwrite=True)
    paths.append(root / "diff.emd")
    (root / "broken.dm3").write_bytes(b"\x00\x00\x00\x03 not a dm3 file")
    paths.append(root / "broken.dm3")
    return paths
