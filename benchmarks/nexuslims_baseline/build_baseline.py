"""NexusLIMS 2.8.0 ``build_record`` on a session of files (runs INSIDE the bench venv).

Input (stdin) JSON::

    {"paths": [...],                  # files for the session (companions included)
     "mtimes": "schedule" | "preserve" | {path: epoch},   # default "schedule"
     "start": iso, "end": iso,         # session window (default: derived)
     "generate_previews": true,
     "cluster_sizes": [50, 100],       # also time cluster_filelist_mtimes alone on N synthetic files
     "cluster_budget_s": 120}          # skip larger sizes once one took longer than this

Output (stdout): one JSON object; logs go to stderr.

Set-up (not timed): a temp folder with dummy NX_* settings (see ``_nxenv``), the
DB initialised like ``nexuslims db init``, an ``instruments`` row whose
``filestore_path`` is the session folder, the files *copied* there (never
symlinked: NexusLIMS finds files with GNU ``find -newermt`` on their own mtime)
with their mtimes set inside the session window:

* ``schedule``: file i at T0 + 5 min + 2 min * i, with a 30 min break after the
  first half (so two acquisition activities), session T0 .. last + 10 min;
* ``preserve``: the source files' own mtimes (``shutil.copy2``), window = their
  span +- 5 min (use this when the caller already laid files out in a window).

Timed: ``nexusLIMS.builder.record_builder.build_record(session, generate_previews=True)``
end to end (file finding + KDE activity clustering + parse_metadata/previews per
file + setup params + XML), with a per-stage breakdown from wrappers around
``get_files``, ``cluster_filelist_mtimes``, ``parse_metadata``,
``store_setup_params``/``store_unique_metadata``. Its NEMO lookup
(``get_reservation_event``) is replaced by a locally built ``ReservationEvent``;
a socket guard refuses any non-loopback connection and reports attempts. No
export/upload step is called (that is ``process_new_records``, not ``build_record``).
"""

from __future__ import annotations

import sys
import time

T_PROCESS = time.perf_counter()

import datetime as dt
import os
import shutil
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _nxenv

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INSTRUMENT_FOLDER = "BenchInstrument"


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
                self.calls[name] = self.calls.get(name, 0) + 1

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


def _relative_names(paths: list[str]) -> dict[str, str]:
    """Unique relative names that keep companions (same source folder) together."""
    folders: dict[Path, str] = {}
    out = {}
    for p in paths:
        src = Path(p)
        key = src.resolve().parent
        if key not in folders:
            folders[key] = f"{len(folders):03d}_{key.name}"[:60]
        out[p] = f"{folders[key]}/{src.name}"
    return out


def lay_out(paths: list[str], store: Path, mode: object) -> tuple[dict[str, float], dt.datetime, dt.datetime]:
    names = _relative_names(paths)
    mtimes: dict[str, float] = {}
    if mode == "preserve":
        for p in paths:
            mtimes[p] = Path(p).stat().st_mtime
    elif isinstance(mode, dict):
        mtimes = {p: float(mode[p]) for p in paths}
    else:
        half = (len(paths) + 1) // 2
        for i, p in enumerate(paths):
            gap = 30 * 60 if i >= half else 0
            mtimes[p] = (T0 + dt.timedelta(minutes=5 + 2 * i)).timestamp() + gap
    for p in paths:
        dest = store / names[p]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
        os.utime(dest, (mtimes[p], mtimes[p]))
    lo, hi = min(mtimes.values()), max(mtimes.values())
    if mode == "schedule" or mode is None:
        start, end = T0, dt.datetime.fromtimestamp(hi, UTC) + dt.timedelta(minutes=10)
    else:
        start = dt.datetime.fromtimestamp(lo, UTC) - dt.timedelta(minutes=5)
        end = dt.datetime.fromtimestamp(hi, UTC) + dt.timedelta(minutes=5)
    return {str(store / names[p]): m for p, m in mtimes.items()}, start, end


def bench_clustering(root: Path, sizes: list[int], budget_s: float) -> list[dict]:
    """cluster_filelist_mtimes alone on N empty files with bursty mtimes (its n_jobs=-1 uses all cores)."""
    import random

    from nexusLIMS.schemas.activity import cluster_filelist_mtimes

    out = []
    for n in sizes:
        folder = root / f"cluster_{n}"
        folder.mkdir()
        rng = random.Random(3)
        t = T0.timestamp()
        files = []
        for i in range(n):
            t += rng.uniform(5, 40) if rng.random() > 0.05 else rng.uniform(1800, 3600)
            f = folder / f"f{i:05d}.dm3"
            f.touch()
            os.utime(f, (t, t))
            files.append(f)
        t0 = time.perf_counter()
        bounds = cluster_filelist_mtimes(files)
        secs = time.perf_counter() - t0
        out.append({"n_files": n, "seconds": round(secs, 3), "n_activities": len(bounds) + 1})
        print(f"[nexuslims cluster] {n} files: {secs:.2f} s", file=sys.stderr)
        if secs > budget_s:
            break
    return out


def main() -> None:
    _nxenv.json_stdout()
    req = _nxenv.read_request(sys.argv)
    paths = [str(p) for p in req.get("paths", [])]
    generate_previews = bool(req.get("generate_previews", True))
    root = _nxenv.make_env("nxbench-nexuslims-build-")
    guard = _nxenv.NetworkGuard().install()
    sampler = _nxenv.RssSampler().start()

    store = root / "instrument_data" / INSTRUMENT_FOLDER
    placed, start, end = lay_out(paths, store, req.get("mtimes", "schedule"))
    if req.get("start"):
        start = dt.datetime.fromisoformat(req["start"])
    if req.get("end"):
        end = dt.datetime.fromisoformat(req["end"])

    t = time.perf_counter()
    db_init_s = _nxenv.init_db()
    from nexusLIMS.builder import record_builder
    from nexusLIMS.db.engine import get_engine
    from nexusLIMS.db.models import Instrument
    from nexusLIMS.db.session_handler import Session
    from nexusLIMS.harvesters.reservation_event import ReservationEvent
    from nexusLIMS.schemas import activity as nx_activity
    from sqlmodel import Session as DBSession

    import_s = time.perf_counter() - t - db_init_s

    inst = Instrument(
        instrument_pid="Bench-Instrument-1", api_url="https://nemo.invalid/api/tools/?id=1",
        calendar_url="https://nemo.invalid/calendar/", location="bench", display_name="Bench Instrument",
        property_tag="BENCH1", filestore_path=INSTRUMENT_FOLDER, harvester="nemo", timezone_str="UTC",
    )
    with DBSession(get_engine()) as s:
        s.add(inst)
        s.commit()
        s.refresh(inst)
        s.expunge(inst)

    def local_reservation(session):  # type: ignore[no-untyped-def]
        return ReservationEvent(
            experiment_title="Benchmark session", instrument=session.instrument, last_updated=session.dt_to,
            username="bench", user_full_name="Bench User", created_by="bench", created_by_full_name="Bench User",
            start_time=session.dt_from, end_time=session.dt_to, reservation_type="User session",
            experiment_purpose="Timing NexusLIMS build_record", sample_details=["corpus files"],
            sample_pid=["sample-1"], sample_name=["Corpus"], project_name=["Benchmarks"], project_id=["bench"],
            project_ref=[None], internal_id="1", division="bench", group="bench",
        )

    timer = Timer()
    record_builder.get_reservation_event = timer.wrap("reservation_event", local_reservation)  # no NEMO call
    record_builder.get_files = timer.wrap("find_files", record_builder.get_files)
    record_builder.cluster_filelist_mtimes = timer.wrap("clustering", record_builder.cluster_filelist_mtimes)
    nx_activity.parse_metadata = timer.wrap("parse_metadata", nx_activity.parse_metadata)
    AA = nx_activity.AcquisitionActivity
    AA.store_setup_params = timer.wrap("setup_params", AA.store_setup_params)
    AA.store_unique_metadata = timer.wrap("unique_metadata", AA.store_unique_metadata)

    session = Session(session_identifier="bench-session-1", instrument=inst, dt_range=(start, end), user="bench")
    rss0 = sampler.rss()
    t = time.perf_counter()
    error = None
    try:
        result = record_builder.build_record(session, generate_previews=generate_previews)
    except Exception as exc:
        result, error = None, f"{type(exc).__name__}: {str(exc)[:500]}"
    build_s = time.perf_counter() - t
    build_peak = sampler.peak

    out: dict = {
        "tool": "nexusLIMS",
        "versions": _nxenv.versions(),
        "n_files_in_folder": len(placed),
        "session": {"start": start.isoformat(), "end": end.isoformat()},
        "build_s": round(build_s, 3),
        "stages_s": {k: round(v, 3) for k, v in timer.seconds.items()},
        "stage_calls": timer.calls,
        "import_s": round(import_s, 3),
        "db_init_s": round(db_init_s, 3),
        "peak_rss_mb": round(build_peak / 1e6, 1),
        "rss_before_build_mb": round(rss0 / 1e6, 1),
        "error": error,
    }
    if result is not None:
        from lxml import etree

        xml = result.xml_text.encode()
        doc = etree.fromstring(xml)
        ns = {"nx": "https://data.nist.gov/od/dm/nexus/experiment/v1.0"}
        out.update(
            n_activities=len(result.activities),
            n_files_found=sum(len(set(a.files)) for a in result.activities),
            n_datasets=len(doc.findall(".//nx:dataset", ns)),
            xml_bytes=len(xml),
        )
        try:
            from io import BytesIO

            out["xml_valid"] = bool(record_builder.validate_record(BytesIO(xml)))
        except Exception as exc:
            out["xml_valid"] = f"validation error: {exc}"
        if req.get("return_xml"):
            out["xml"] = result.xml_text
    sizes = [int(n) for n in req.get("cluster_sizes", [])]
    if sizes:
        out["clustering"] = bench_clustering(root, sizes, float(req.get("cluster_budget_s", 120)))
    sampler.stop()
    out["process_s"] = round(time.perf_counter() - T_PROCESS, 3)
    out["ru_maxrss"] = _nxenv.maxrss_mb()
    out["network_attempts"] = guard.attempts
    if req.get("keep_tmp"):
        _nxenv.KEEP_TMP = True
        out["tmp"] = str(root)
    _nxenv.emit(out)


if __name__ == "__main__":
    main()
