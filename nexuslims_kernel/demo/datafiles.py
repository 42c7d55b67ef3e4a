"""Demo data files, written with rosettasciio's writers through HyperSpy.

Each recipe is a list of acquisitions (minutes after the session start, file
name, signal maker). Signals are small synthetic images, spectra, spectrum
images and diffraction patterns carrying realistic metadata (acquisition
date/time in the instrument's zone, beam energy, magnification, detector,
operator). File mtimes are set to the acquisition time, so the files fall in
their session's window. The example spectra that exspy ships are copied in
as real data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Maker = Callable[[np.random.Generator], Any]


def _particles(rng: np.random.Generator, size: int, n: int = 25) -> np.ndarray:
    """An image of bright round particles on a noisy background (looks like HAADF)."""
    yy, xx = np.mgrid[:size, :size]
    img = rng.normal(100, 8, (size, size))
    for _ in range(n):
        cy, cx, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(2, size / 16)
        img += 400 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
    return img.astype("float32")


def _spectrum(rng: np.random.Generator, n: int, peaks: list[tuple[float, float]], scale: float) -> np.ndarray:
    energy = np.arange(n) * scale
    counts = 200 * np.exp(-energy / (n * scale / 4)) + sum(a * np.exp(-((energy - e) ** 2) / (2 * (0.06) ** 2)) for e, a in peaks)
    return rng.poisson(np.maximum(counts, 0)).astype("float32")


def _axes(sig: Any, scales: list[tuple[float, str, str]]) -> Any:
    for axis, (scale, units, name) in zip(sig.axes_manager._axes, scales):
        axis.scale, axis.units, axis.name = scale, units, name
    return sig


def haadf(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    return _axes(hs.signals.Signal2D(_particles(rng, 128)), [(0.2, "nm", "y"), (0.2, "nm", "x")])


def sem_image(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    return _axes(hs.signals.Signal2D((_particles(rng, 256, 60) / 4).astype("uint16")), [(5.0, "nm", "y"), (5.0, "nm", "x")])


def eds_spectrum(rng: np.random.Generator) -> Any:
    import exspy

    sig = exspy.signals.EDSTEMSpectrum(_spectrum(rng, 1024, [(6.40, 900), (9.44, 600), (2.05, 500)], 0.01))
    return _axes(sig, [(0.01, "keV", "Energy")])


def eds_map(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    cube = np.stack([np.stack([_spectrum(rng, 256, [(2.05, 300 * rng.random())], 0.04) for _ in range(16)]) for _ in range(16)])
    return _axes(hs.signals.Signal1D(cube), [(50.0, "nm", "y"), (50.0, "nm", "x"), (0.04, "keV", "Energy")])


def eels(rng: np.random.Generator) -> Any:
    import exspy

    energy = np.arange(1024) * 0.25 + 250
    counts = 1e5 * (energy / 250) ** -3 + 2e3 * (energy > 284) * np.exp(-(energy - 284) / 80)
    return _axes(exspy.signals.EELSSpectrum(rng.poisson(counts).astype("float32")), [(0.25, "eV", "Energy loss")])


def diffraction(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    size = 128
    yy, xx = np.mgrid[:size, :size] - size / 2
    img = rng.normal(5, 1, (size, size))
    for gy in range(-3, 4):
        for gx in range(-3, 4):
            img += (300 if (gx + gy) % 2 == 0 else 60) * np.exp(-((yy - 16 * gy) ** 2 + (xx - 16 * gx) ** 2) / 4)
    return _axes(hs.signals.Signal2D(img.astype("float32")), [(0.05, "1/nm", "ky"), (0.05, "1/nm", "kx")])


def scan_diffraction(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    data = np.stack([np.stack([diffraction(rng).data[::4, ::4] for _ in range(4)]) for _ in range(4)]).astype("uint8")
    return _axes(hs.signals.Signal2D(data), [(2.0, "nm", "y"), (2.0, "nm", "x"), (0.2, "1/nm", "ky"), (0.2, "1/nm", "kx")])


def tilt_stack(rng: np.random.Generator) -> Any:
    import hyperspy.api as hs

    data = np.stack([_particles(np.random.default_rng(7), 64, 6) for _ in range(5)])
    return _axes(hs.signals.Signal2D(data), [(15.0, "deg", "tilt"), (0.5, "nm", "y"), (0.5, "nm", "x")])


#: recipe -> [(minutes after start, file name, maker, {metadata overrides})]
RECIPES: dict[str, list[tuple[int, str, Maker, dict[str, Any]]]] = {
    "tem_imaging": [
        (10, "survey_001.hspy", haadf, {"magnification": 80000}),
        (14, "survey_002.hspy", haadf, {"magnification": 80000}),
        (18, "survey_003.tif", haadf, {"magnification": 160000}),
        (95, "eds_particle_01.hspy", eds_spectrum, {"magnification": 320000, "detector": "Super-X"}),
        (99, "eds_particle_02.hspy", eds_spectrum, {"magnification": 320000, "detector": "Super-X"}),
    ],
    "sem_eds": [
        (8, "overview.tif", sem_image, {"magnification": 5000}),
        (40, "map_area1.rpl", eds_map, {"magnification": 20000, "detector": "X-max 80"}),
    ],
    "tem_diffraction": [
        (20, "saed_zone001.emd", diffraction, {"camera_length": 300}),
        (24, "saed_zone011.emd", diffraction, {"camera_length": 300}),
        (130, "4dstem_scan.blo", scan_diffraction, {"camera_length": 150}),
    ],
    "sem_imaging": [
        (5, "lamella_top.tif", sem_image, {"magnification": 2000}),
        (9, "lamella_side.tif", sem_image, {"magnification": 10000}),
        (12, "lamella_thickness.tif", sem_image, {"magnification": 35000}),
    ],
    "tem_eels": [
        (30, "ck_edge_support.hspy", eels, {"magnification": 40000, "detector": "GIF Quantum"}),
        (36, "ck_edge_reference.hspy", eels, {"magnification": 40000, "detector": "GIF Quantum"}),
    ],
    "tem_stack": [
        (15, "tilt_series.mrcz", tilt_stack, {"magnification": 100000}),
        (60, "tilt_series_check.hspy", haadf, {"magnification": 100000}),
    ],
}

#: The example files that exspy ships, copied into the first session of each kind.
EXSPY_EXAMPLES = {"tem_imaging": "EDS_TEM_FePt_nanoparticles.hspy", "sem_eds": "EDS_SEM_TM002.hspy"}


def _set_metadata(sig: Any, kind: str, when: dt.datetime, operator: str, microscope: str, extra: dict[str, Any]) -> None:
    md = sig.metadata
    md.General.title = extra.get("title", "")
    md.General.date = when.date().isoformat()
    md.General.time = when.time().replace(microsecond=0).isoformat()
    md.General.time_zone = str(when.tzinfo)
    md.General.authors = operator
    section = f"Acquisition_instrument.{kind}"
    md.set_item(f"{section}.microscope", microscope)
    md.set_item(f"{section}.beam_energy", 300.0 if kind == "TEM" else 15.0)
    for key in ("magnification", "camera_length"):
        if key in extra:
            md.set_item(f"{section}.{key}", float(extra[key]))
    if "detector" in extra:
        md.set_item(f"{section}.Detector.detector_name", extra["detector"])
    if kind == "TEM" and "camera_length" in extra:
        md.set_item(f"{section}.acquisition_mode", "Diffraction")


def _touch(path: Path, when: dt.datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def _save_atomically(sig: Any, path: Path) -> None:
    """Write under a hidden temporary name, then rename: a killed demo never leaves half a file."""
    import warnings

    tmp = path.with_name(f".partial-{path.name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writers' notes about units and deprecations are not the user's concern
        sig.save(tmp, overwrite=True)
    if path.suffix == ".rpl":  # the Ripple writer puts its data beside the header
        tmp.with_suffix(".raw").replace(path.with_suffix(".raw"))
    tmp.replace(path)


def write_session_files(
    folder: Path,
    recipe: str,
    start: dt.datetime,
    *,
    kind: str,
    operator: str,
    microscope: str,
    seed: int,
    with_examples: bool = False,
) -> list[Path]:
    """Write (once) the files of one session into ``folder``; returns the paths written or found."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for minutes, name, maker, extra in RECIPES[recipe]:
        when = start + dt.timedelta(minutes=minutes)
        path = folder / name
        sig = maker(rng)  # always drawn, so the random stream is the same whether or not files exist
        if not path.exists():
            _set_metadata(sig, kind, when, operator, microscope, {"title": Path(name).stem.replace("_", " "), **extra})
            if path.suffix == ".blo":  # the blockfile writer takes its time stamp from a vendor header only
                from rsciio.utils._date_time import datetime_to_serial_date

                sig.original_metadata.set_item("blockfile_header.Acquisition_time", datetime_to_serial_date(when))
                sig.original_metadata.set_item("blockfile_header.Note", "")
            _save_atomically(sig, path)
        written = [path] + ([path.with_suffix(".raw")] if path.suffix == ".rpl" else [])
        for item in written:
            _touch(item, when)
        paths += written
    if with_examples and recipe in EXSPY_EXAMPLES:
        import exspy

        source = Path(exspy.__file__).parent / "data" / EXSPY_EXAMPLES[recipe]
        if source.is_file():
            target = folder / f"exspy_{source.name}"
            if not target.exists():
                shutil.copyfile(source, target)
            _touch(target, start + dt.timedelta(minutes=RECIPES[recipe][-1][0] + 5))
            paths.append(target)
    return paths
