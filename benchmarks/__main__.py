"""``make bench``: run every benchmark, each in its own process, and summarise.

Each script prints its figures and goal verdicts (ratios against NexusLIMS
2.8.0 or a fixed goal, measured in the same run). Sizes follow the issues;
``NXHUB_BENCH_QUICK=1`` runs smaller sizes for a fast look.

    make bench                     # full sizes (about 15-25 minutes on 2 cores)
    NXHUB_BENCH_QUICK=1 make bench # a few minutes
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK = os.environ.get("NXHUB_BENCH_QUICK", "").lower() in ("1", "true", "yes")

RUNS: list[tuple[str, list[str], list[str]]] = [
    # (script, full-size args, quick args)
    ("bench_extract.py", [], []),
    ("bench_vs_nexuslims.py", [], []),
    ("bench_build.py", [], ["--files", "200000", "--tree", "20000"]),
    ("bench_api.py", ["--sessions", "50000", "--datasets", "1000000", "--zip-gb", "2", "--processes", "2"],
     ["--sessions", "5000", "--datasets", "100000", "--zip-gb", "0.5", "--processes", "2"]),
    ("bench_pages.py", ["--datasets", "1000000", "--pg"], ["--datasets", "100000", "--rounds", "3"]),
    ("bench_hub.py", ["--make-run"], []),
    ("bench_logger.py", [], ["--events", "2000", "--appends", "500", "--starts", "3"]),
    ("bench_calendars.py", [], ["--events", "2000", "--reservations", "100"]),
]


FAIL_LINE = re.compile(r"\bFAIL\b")


def describe(runs: list[tuple[str, list[str], list[str]]] = RUNS) -> str:
    """The commands ``make bench`` runs, full size then quick (benchmarks/README.md quotes this)."""
    lines = []
    for label, pick in (("make bench", 1), ("NXHUB_BENCH_QUICK=1 make bench", 2)):
        lines.append(f"{label}:")
        lines += [f"  .venv/bin/python benchmarks/{run[0]} {' '.join(run[pick])}".rstrip() for run in runs]
    return "\n".join(lines)


def run_one(path: Path, args: list[str]) -> tuple[int, list[str]]:
    """Run one script, passing its output through; (exit code, its lines that report a FAIL)."""
    fails = []
    with subprocess.Popen([sys.executable, str(path), *args], cwd=HERE.parent, stdout=subprocess.PIPE,
                          text=True, bufsize=1) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if FAIL_LINE.search(line):
                fails.append(line.strip())
    return proc.returncode, fails


def main(runs: list[tuple[str, list[str], list[str]]] = RUNS, here: Path = HERE, quick: bool = QUICK) -> int:
    """Run every benchmark; exit 1 when a script failed or printed any FAIL line (every one is listed)."""
    failed: list[str] = []
    fail_lines: list[str] = []
    for script, full, quick_args in runs:
        path = here / script
        if not path.exists():
            print(f"== {script}: not present, skipped")
            continue
        args = quick_args if quick else full
        print(f"\n== {script} {' '.join(args)}", flush=True)
        started = time.perf_counter()
        code, fails = run_one(path, args)
        print(f"== {script}: exit {code}, {len(fails)} FAIL line(s), after {time.perf_counter() - started:.0f} s",
              flush=True)
        fail_lines += [f"{script}: {line}" for line in fails]
        if code != 0 or fails:
            failed.append(f"{script} (exit {code}, {len(fails)} FAIL)")
    print(f"\nFAIL lines: {len(fail_lines)}")
    for line in fail_lines:
        print(f"  {line}")
    print("benchmarks with failures or unmet goals:", ", ".join(failed) if failed else "none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
