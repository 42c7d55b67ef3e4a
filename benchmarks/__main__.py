"""``make bench``: run every benchmark, each in its own process, and summarise.

Each script prints its figures and goal verdicts (ratios against NexusLIMS
2.8.0 or a fixed goal, measured in the same run). Sizes follow the issues;
``NXHUB_BENCH_QUICK=1`` runs smaller sizes for a fast look.

    make bench                     # full sizes (about 15-25 minutes on 2 cores)
    NXHUB_BENCH_QUICK=1 make bench # a few minutes
"""

from __future__ import annotations

import os
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
    ("bench_hub.py", [], []),
]


def main() -> int:
    failed: list[str] = []
    for script, full, quick in RUNS:
        path = HERE / script
        if not path.exists():
            print(f"== {script}: not present, skipped")
            continue
        args = quick if QUICK else full
        print(f"\n== {script} {' '.join(args)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(path), *args], cwd=HERE.parent)
        print(f"== {script}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(script)
    print("\nbenchmarks with failures or unmet goals:", ", ".join(failed) if failed else "none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
