"""NexusLIMS 2.8.0 metadata extraction + preview per file (runs INSIDE the bench venv).

Input (stdin): JSON ``{"paths": [...], "write_output": false, "warmup": null}`` or a
bare JSON list; or the paths as argv. Output (stdout): one JSON object; all the
tool's console noise goes to stderr.

For each file: ask NexusLIMS's extractor registry which extractor claims it. If
only the wildcard ``basic_file_info_extractor`` does, the file is *unsupported*
(NexusLIMS's default "exclusive" file strategy would not even put it in a
record) and is not timed. Otherwise time ``nexusLIMS.extractors.parse_metadata(
path, write_output=..., generate_preview=True, overwrite=True)`` — metadata plus
the preview PNG(s) its preview-generator plugins make — one file after the other
in this one process, as its record builder does. A file whose extraction raises,
returns None, or comes back with a "could not be read"-style warning or the
placeholder preview is *unreadable* (reported with the reason, not a failure of
the benchmark). Peak RSS: kernel ru_maxrss of this process and a 20 ms psutil
sampler (per-file window too).

``per_dataset_s`` = extraction wall time of readable files / their datasets
(signals), *excluding* the one-off import of nexusLIMS+hyperspy, which is
reported separately as ``import_s`` (so the comparison is generous to NexusLIMS).
"""

from __future__ import annotations

import sys
import time

T_PROCESS = time.perf_counter()

from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _nxenv

FAILED_MARKERS = ("could not be read", "could not be opened", "extraction failed", "could not find a corresponding",
                  "could not load", "not be loaded")


def _warnings_text(meta: dict) -> str:
    nx = meta.get("nx_meta", {}) if isinstance(meta, dict) else {}
    parts = [str(nx.get("warnings", "")), str(nx.get("Extractor Warnings", "")),
             str(nx.get("NexusLIMS Extraction", {}).get("Extractor Warnings", ""))]
    return " ".join(parts).lower()


def main() -> None:
    _nxenv.json_stdout()
    req = _nxenv.read_request(sys.argv)
    paths: list[str] = [str(p) for p in req.get("paths", [])]
    write_output = bool(req.get("write_output", False))
    root = _nxenv.make_env("nxbench-nexuslims-extract-")
    guard = _nxenv.NetworkGuard().install()
    sampler = _nxenv.RssSampler().start()
    rss_start = sampler.rss()

    t = time.perf_counter()
    db_init_s = _nxenv.init_db()
    import nexusLIMS.extractors as nx_extractors
    from nexusLIMS.extractors import PLACEHOLDER_PREVIEW, parse_metadata
    from nexusLIMS.extractors.base import ExtractionContext
    from nexusLIMS.extractors.registry import get_registry
    from nexusLIMS.instruments import get_instr_from_filepath

    registry = get_registry()
    if not getattr(registry, "_discovered", True):
        registry.discover_plugins()  # otherwise done lazily inside the first timed call
    import_s = time.perf_counter() - t - db_init_s
    rss_after_import = sampler.rss()
    placeholder = PLACEHOLDER_PREVIEW.read_bytes()

    mapped = _nxenv.mirror_dirs(paths, root / "instrument_data")
    files: list[dict] = []
    readable_s = 0.0
    loop_t = time.perf_counter()
    warm = req.get("warmup")
    if warm:  # optional untimed first call (lazy imports inside plugins); off by default
        try:
            wp = _nxenv.mirror_dirs([warm], root / "instrument_data", sub="warmup")[warm]
            parse_metadata(wp, write_output=False, generate_preview=True, overwrite=True)
        except Exception as exc:
            print(f"[nexuslims extract] warm-up failed: {exc}", file=sys.stderr)
        loop_t = time.perf_counter()
    for original in paths:
        p = mapped[original]
        entry: dict = {"path": original, "ext": p.suffix.lower().lstrip("."), "size": p.stat().st_size}
        try:
            ctx = ExtractionContext(file_path=p, instrument=get_instr_from_filepath(p))
            extractor = registry.get_extractor(ctx)
            entry["extractor"] = extractor.name
        except Exception as exc:
            entry.update(status="unsupported", reason=f"registry: {type(exc).__name__}: {exc}")
            files.append(entry)
            continue
        if extractor.name == "basic_file_info_extractor":
            entry.update(status="unsupported", reason="no specialised NexusLIMS extractor for this file")
            files.append(entry)
            continue
        rss0 = sampler.window_start()
        t0 = time.perf_counter()
        try:
            metas, previews = parse_metadata(p, write_output=write_output, generate_preview=True, overwrite=True)
            err = None
        except Exception as exc:
            metas, previews, err = None, None, f"{type(exc).__name__}: {str(exc)[:300]}"
        dt_s = time.perf_counter() - t0
        entry.update(seconds=round(dt_s, 4), rss_before_mb=round(rss0 / 1e6, 1),
                     rss_peak_mb=round(sampler.window_peak() / 1e6, 1))
        if err or metas is None:
            entry.update(status="unreadable", reason=err or "parse_metadata returned None", n_datasets=0)
            files.append(entry)
            continue
        previews = [Path(x) if x else None for x in (previews or [])]
        entry["n_datasets"] = len(metas)
        entry["dataset_types"] = [m.get("nx_meta", {}).get("DatasetType") for m in metas]
        entry["previews"] = [str(x) if x else None for x in previews]
        reasons = []
        for m in metas:
            w = _warnings_text(m)
            hit = next((mk for mk in FAILED_MARKERS if mk in w), None)
            if hit:
                reasons.append(f"warning: {w[:200]}")
        n_placeholder = sum(1 for x in previews if x and x.is_file() and x.read_bytes() == placeholder)
        n_missing = sum(1 for x in previews if not x or not x.is_file())
        if n_placeholder:
            reasons.append(f"{n_placeholder} placeholder preview(s)")
        if n_missing:
            reasons.append(f"{n_missing} missing preview(s)")
        if reasons:
            entry.update(status="unreadable", reason="; ".join(reasons))
        else:
            entry["status"] = "ok"
            readable_s += dt_s
        files.append(entry)
    loop_s = time.perf_counter() - loop_t
    sampler.stop()

    ok = [f for f in files if f["status"] == "ok"]
    n_ds = sum(f["n_datasets"] for f in ok)
    result = {
        "tool": "nexusLIMS",
        "versions": _nxenv.versions(),
        "n_files": len(files),
        "n_ok": len(ok),
        "n_unsupported": sum(1 for f in files if f["status"] == "unsupported"),
        "n_unreadable": sum(1 for f in files if f["status"] == "unreadable"),
        "n_datasets": n_ds,
        "readable": [f["path"] for f in ok],
        "readable_s": round(readable_s, 4),
        "per_dataset_s": round(readable_s / n_ds, 5) if n_ds else None,
        "per_file_s": round(readable_s / len(ok), 5) if ok else None,
        "loop_s": round(loop_s, 4),
        "import_s": round(import_s, 3),
        "db_init_s": round(db_init_s, 3),
        "process_s": round(time.perf_counter() - T_PROCESS, 3),
        "peak_rss_mb": round(sampler.peak / 1e6, 1),
        "rss_start_mb": round(rss_start / 1e6, 1),
        "rss_after_import_mb": round(rss_after_import / 1e6, 1),
        "max_file_rss_delta_mb": round(max((f["rss_peak_mb"] - f["rss_before_mb"] for f in ok), default=0.0), 1),
        "ru_maxrss": _nxenv.maxrss_mb(),
        "write_output": write_output,
        "network_attempts": guard.attempts,
        "files": files,
    }
    del nx_extractors
    if req.get("keep_tmp"):
        _nxenv.KEEP_TMP = True
        result["tmp"] = str(root)
    _nxenv.emit(result)


if __name__ == "__main__":
    main()
