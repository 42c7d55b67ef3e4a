"""Shared helpers for the benchmarks: corpus discovery and one way to print a verdict.

``report(name, ours, baseline, goal_ratio)`` prints, for a comparison measured in
the same run::

    extract per dataset: ours 0.050 s, baseline 1.117 s, ratio 22.3x (goal >= 5x) PASS

(ratio = baseline / ours, so "faster" and "less memory" are both ratios > 1).
``report(name=..., value=..., unit=..., goal="< 50 ms")`` prints an absolute
figure against a fixed goal. Every call is also appended to ``RESULTS``;
``summary()`` prints the PASS/FAIL count and returns a process exit code, and
``write_results()`` saves them as JSON under ``benchmarks/results/`` (gitignored).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS: list[dict[str, Any]] = []
_GOAL = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([0-9][0-9,_.]*)")


# ---------------------------------------------------------------- corpus

def corpus_root() -> Path:
    """``$NXHUB_EM_CORPUS`` or ``<repo>/../shared/em-corpus``."""
    return Path(os.environ.get("NXHUB_EM_CORPUS") or REPO.parent / "shared" / "em-corpus")


def corpus_manifest(root: Path | None = None) -> list[dict[str, str]]:
    """Rows of the corpus MANIFEST.tsv (relpath, format, role, ...), or [] when absent."""
    manifest = (root or corpus_root()) / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def corpus_files(root: Path | None = None, role: str | None = None, formats: set[str] | None = None) -> list[str]:
    """Absolute paths of corpus files (MANIFEST order); ``role`` = "primary" | "companion"."""
    root = root or corpus_root()
    rows = corpus_manifest(root)
    if not rows:
        return sorted(str(p) for p in root.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")
                      and "LICENSES" not in p.parts)
    out = []
    for row in rows:
        if role and row.get("role") != role:
            continue
        if formats and row.get("format") not in formats:
            continue
        path = root / row["relpath"]
        if path.is_file():
            out.append(str(path))
    return out


def have_corpus(root: Path | None = None) -> bool:
    return (root or corpus_root()).is_dir()


# ---------------------------------------------------------------- reporting

def _fmt(x: float | None, unit: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if unit == "s" and x < 0.1:
        return f"{x * 1000:.1f} ms"
    return f"{x:,.3f} {unit}" if abs(x) < 100 else f"{x:,.0f} {unit}"


def _check_goal(value: float, goal: str) -> bool | None:
    m = _GOAL.match(goal or "")
    if not m or value is None or math.isnan(value):
        return None
    op, limit = m[1], float(m[2].replace(",", "").replace("_", ""))
    return {"<": value < limit, "<=": value <= limit, "≤": value <= limit,
            ">": value > limit, ">=": value >= limit, "≥": value >= limit}[op]


def report(name: str, ours: float | None = None, baseline: float | None = None, goal_ratio: float | None = None, *,
           unit: str = "s", strict: bool = False, value: float | None = None, goal: str = "", note: str = "",
           stream: Any = None) -> dict[str, Any]:
    """Print one line and record it.

    Comparison: ``report("extract per dataset", ours_s, baseline_s, 5)`` → ratio
    baseline/ours, PASS when ratio >= goal_ratio (> when ``strict``; use
    ``goal_ratio=1, strict=True, unit="MB"`` for "lower peak memory").
    Absolute: ``report(name=..., value=12.3, unit="ms", goal="< 50 ms")``.
    """
    stream = stream or sys.stdout
    row: dict[str, Any] = {"name": name, "unit": unit, "note": note, "time": time.time()}
    if value is not None:
        verdict = _check_goal(value, goal)
        row.update(kind="absolute", value=value, goal=goal, passed=verdict)
        line = f"{name}: {_fmt(value, unit)}"
        if goal:
            line += f" (goal {goal.strip()}) {'PASS' if verdict else 'FAIL' if verdict is not None else ''}".rstrip()
    else:
        ratio = None
        if ours is not None and baseline is not None and ours > 0 and not math.isnan(ours) and not math.isnan(baseline):
            ratio = baseline / ours
        verdict = None
        if goal_ratio is not None and ratio is not None:
            verdict = ratio > goal_ratio if strict else ratio >= goal_ratio
        row.update(kind="ratio", ours=ours, baseline=baseline, ratio=ratio, goal_ratio=goal_ratio, passed=verdict)
        line = f"{name}: ours {_fmt(ours, unit)}, baseline {_fmt(baseline, unit)}, ratio "
        line += f"{ratio:.1f}x" if ratio is not None else "n/a"
        if goal_ratio is not None:
            line += f" (goal {'>' if strict else '>='} {goal_ratio:g}x) {'PASS' if verdict else 'FAIL'}"
    if note:
        line += f"  [{note}]"
    print(line, file=stream, flush=True)
    RESULTS.append(row)
    return row


def summary(stream: Any = None) -> int:
    """Print the PASS/FAIL tally; 0 when no goal failed."""
    stream = stream or sys.stdout
    checked = [r for r in RESULTS if r.get("passed") is not None]
    failed = [r["name"] for r in checked if not r["passed"]]
    print(f"goals: {len(checked) - len(failed)}/{len(checked)} PASS" + (f"; FAIL: {', '.join(failed)}" if failed else ""),
          file=stream, flush=True)
    return 1 if failed else 0


def write_results(name: str = "bench", extra: dict[str, Any] | None = None) -> Path:
    out_dir = REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"results": RESULTS, **(extra or {})}, indent=1, default=str))
    return path
