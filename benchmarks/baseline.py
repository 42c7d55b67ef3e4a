"""The NexusLIMS 2.8.0 side of our benchmarks, called from our ``.venv`` python.

NexusLIMS runs in its own venv (``benchmarks/_venv.py``, created on first use)
through the scripts in ``benchmarks/nexuslims_baseline/``, each a subprocess that
prints one JSON document on stdout (its logs go to stderr; set
``NXHUB_BENCH_QUIET=1`` to drop them).

* ``nexuslims_extract(paths)``: ``parse_metadata`` + preview per file, per-file
  and per-dataset wall time, peak RSS; which files it supports/reads.
* ``nexuslims_build(paths)``: ``build_record`` for one session over copies of
  ``paths`` (NEMO replaced by a local ``ReservationEvent``, no network).
* ``cat_floor(paths)``: reading every file's bytes once (the floor).
* ``common_readable(paths)``: the files both NexusLIMS and our extractor read.

Importable as ``benchmarks.baseline`` (repo root on sys.path) or as ``baseline``
(``benchmarks/`` on sys.path).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _venv import ensure_bench_venv, run_in_bench_venv
from common import corpus_files

__all__ = [
    "BaselineError",
    "cat_floor",
    "common_readable",
    "ensure_bench_venv",
    "nexuslims_build",
    "nexuslims_extract",
]

_EXTRACT_CACHE: dict[tuple[str, ...], dict[str, Any]] = {}


class BaselineError(RuntimeError):
    """The NexusLIMS subprocess failed or printed no JSON."""


def _run(script: str, request: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
    t = time.perf_counter()
    proc = run_in_bench_venv(script, json.dumps(request), timeout_s=timeout_s)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise BaselineError(f"{script} exited {proc.returncode} with no result (stderr shown above)")
    result = json.loads(lines[-1])
    result["subprocess_wall_s"] = round(wall, 3)  # includes interpreter start, imports, set-up
    return result


def nexuslims_extract(paths: Iterable[str | os.PathLike[str]], *, write_output: bool = False,
                      warmup: str | None = None, timeout_s: float | None = 3600, cache: bool = True) -> dict[str, Any]:
    """NexusLIMS 2.8.0 metadata extraction + previews, one file after another in one process.

    Returns: ``per_dataset_s`` (readable files' extraction time / their datasets,
    imports excluded), ``per_dataset_warm_s`` (same without the first timed file,
    which pays NexusLIMS's lazy plugin imports), ``peak_rss_mb`` (whole process,
    20 ms sampling), ``import_s``, ``readable`` (paths), ``n_unsupported``,
    ``n_unreadable`` and ``files`` (per file: status ok|unsupported|unreadable,
    extractor, seconds, n_datasets, reason, rss).
    """
    items = tuple(str(p) for p in paths)
    key = (*items, f"w={write_output}", f"warm={warmup}")
    if cache and key in _EXTRACT_CACHE:
        return _EXTRACT_CACHE[key]
    result = _run("extract_baseline.py", {"paths": list(items), "write_output": write_output, "warmup": warmup},
                  timeout_s)
    ok = [f for f in result["files"] if f["status"] == "ok"]
    if len(ok) > 1:
        rest = ok[1:]
        n = sum(f["n_datasets"] for f in rest)
        result["per_dataset_warm_s"] = round(sum(f["seconds"] for f in rest) / n, 5) if n else None
    else:
        result["per_dataset_warm_s"] = result.get("per_dataset_s")
    if cache:
        _EXTRACT_CACHE[key] = result
    return result


def nexuslims_build(paths: Iterable[str | os.PathLike[str]], *, mtimes: str | dict[str, float] = "schedule",
                    start: str | None = None, end: str | None = None, generate_previews: bool = True,
                    cluster_sizes: Iterable[int] = (), cluster_budget_s: float = 120, return_xml: bool = False,
                    timeout_s: float | None = 3600) -> dict[str, Any]:
    """NexusLIMS 2.8.0 ``build_record`` for one session over copies of ``paths`` in a temp folder.

    ``mtimes``: "schedule" (2 min apart, a 30 min break halfway), "preserve" (the
    source files' mtimes — pass this when the files were already laid out in a
    session window) or ``{path: epoch}``. Returns ``build_s`` (end to end),
    ``stages_s`` (find_files, clustering, parse_metadata, setup_params, ...),
    ``peak_rss_mb``, ``n_activities``, ``n_datasets``, ``xml_valid`` (its own XSD),
    ``network_attempts`` (must be empty) and, with ``cluster_sizes``, the time of
    its KDE clustering alone on N synthetic files (``clustering``).
    """
    request: dict[str, Any] = {"paths": [str(p) for p in paths], "mtimes": mtimes, "generate_previews": generate_previews,
                               "cluster_sizes": list(cluster_sizes), "cluster_budget_s": cluster_budget_s,
                               "return_xml": return_xml}
    if start:
        request["start"] = start
    if end:
        request["end"] = end
    return _run("build_baseline.py", request, timeout_s)


def cat_floor(paths: Iterable[str | os.PathLike[str]], *, cold: bool = False, repeat: int = 3) -> dict[str, Any]:
    """Time to read every file's bytes once (1 MiB reads) — the least any harvester must do.

    Best of ``repeat`` passes over a warm page cache (both tools read warm files in
    the same run). ``cold=True`` asks the kernel to drop each file's cached pages
    first (``posix_fadvise(DONTNEED)``, no root needed; best effort) and makes a
    single pass.
    """
    items = [str(p) for p in paths]
    total_bytes = sum(os.path.getsize(p) for p in items)
    best = float("inf")
    for _ in range(1 if cold else max(1, repeat)):
        if cold:
            for p in items:
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
        t = time.perf_counter()
        for p in items:
            with open(p, "rb", buffering=0) as fh:
                while fh.read(1 << 20):
                    pass
        best = min(best, time.perf_counter() - t)
    return {"seconds": best, "n_files": len(items), "bytes": total_bytes, "cold": cold,
            "mb_per_s": total_bytes / 1e6 / best if best > 0 else float("inf"),
            "per_file_s": best / len(items) if items else 0.0}


def _main_of(path: str) -> str | None:
    try:
        from nexuslims_kernel.extract.companions import main_of
    except ImportError:
        import re

        m = re.match(r"^(?P<stem>.+)_\d+\.ser$", Path(path).name, re.IGNORECASE)
        return str(Path(path).with_name(m["stem"] + ".emi")) if m else None
    main = main_of(path)
    return str(main) if main is not None else None


def _ours_readable(mains: list[str], workers: int = 2) -> set[str]:
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=workers) as pool:
        results = pool.map(mains)
    return {r.path for r in results if not r.error and r.datasets and not any(d.error for d in r.datasets)}


def common_readable(paths: Iterable[str | os.PathLike[str]] | None = None, *,
                    ours: Callable[[str], bool] | Iterable[str] | None = None) -> list[str]:
    """Corpus files both tools read, companions included, in input order.

    A file is in when NexusLIMS reads it (status ok) — plus the main file it is a
    companion of for us (TIA: NexusLIMS reads each ``X_1.ser``; we read ``X.emi``
    with its ``.ser`` files) — and our extractor reads that main file without
    error. ``ours``: a predicate or a set of paths our side read; by default our
    ``ExtractionPool`` (2 workers) is run on the candidate main files. If our
    package cannot be imported, only the NexusLIMS side filters (a note goes to
    stderr). Give the same list to ``run_ours`` and ``nexuslims_extract``.
    """
    items = [str(p) for p in (paths if paths is not None else corpus_files())]
    base = nexuslims_extract(items)
    nx_ok = set(base["readable"])
    keep: set[str] = set()
    main_for: dict[str, str] = {}
    for p in items:
        if p in nx_ok:
            keep.add(p)
            main = _main_of(p)
            if main is not None and main in items:
                keep.add(main)
                main_for[p] = main
    mains = [p for p in items if p in keep and p not in main_for]
    if ours is None:
        try:
            ours_ok = _ours_readable(mains)
        except ImportError as exc:
            print(f"[bench] our extractor unavailable ({exc}); common set = NexusLIMS-readable files", file=sys.stderr)
            ours_ok = set(mains)
        ok = ours_ok.__contains__
    elif callable(ours):
        ok = ours
    else:
        ok = set(map(str, ours)).__contains__
    good_mains = {m for m in mains if ok(m)}
    return [p for p in items if p in keep and (main_for.get(p, p) in good_mains)]


if __name__ == "__main__":  # quick look: python benchmarks/baseline.py [extract|build|cat] [files...]
    what = sys.argv[1] if len(sys.argv) > 1 else "extract"
    files = sys.argv[2:] or corpus_files()
    fn = {"extract": nexuslims_extract, "build": nexuslims_build, "cat": cat_floor}[what]
    res = fn(files)
    print(json.dumps({k: v for k, v in res.items() if k not in ("files", "xml")}, indent=1, default=str))
