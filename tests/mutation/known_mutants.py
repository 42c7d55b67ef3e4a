"""``make mutate``: break the code the way a careless change would, and check the suite notices.

Each mutant below is a one-line change that once left the whole suite green (issue 16's review) or
guards a rule the README promises. For each, the package is copied to a temporary folder, the line is
changed there, and the tests named beside it run with that copy first on ``PYTHONPATH`` (so the
``nxhub`` subprocesses the tests start run the mutant too). A mutant the tests do not kill is a
survivor: the run prints it and exits 1.

    python tests/mutation/known_mutants.py            # all, SQLite only (a few minutes)
    python tests/mutation/known_mutants.py --list     # what would run
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # inside nexuslims_kernel/
    before: str
    after: str
    tests: tuple[str, ...]


MUTANTS = [
    Mutant("heartbeat never writes", "builder/queue.py",
           "    def beat(self) -> bool:\n", "    def beat(self) -> bool:\n        return True\n",
           ("tests/builder/test_builder_claims.py::test_a_live_worker_keeps_its_claim_through_a_build_longer_than_the_reclaim_time",)),
    Mutant("no claim check before the record is written", "builder/pipeline.py",
           "        lock_claim(sess, sid, worker)\n", "        pass\n",
           ("tests/builder/test_builder_claims.py::test_a_worker_that_lost_its_claim_while_paused_does_not_write_its_record",)),
    Mutant("extraction cache ignores size and mtime", "builder/extraction.py",
           "if (row.size, row.mtime, row.extractor_version) != (main.row.size, main.row.mtime, version):",
           "if row.extractor_version != version:",
           ("tests/builder/test_builder_cache.py",)),
    Mutant("status update not guarded by the status read", "sessions/machine.py",
           ".where(InstrumentSession.id == session_id, InstrumentSession.status == current)",
           ".where(InstrumentSession.id == session_id)",
           ("tests/sessions/test_state_machine.py",)),
    Mutant("tracebacks logged unscrubbed", "logs.py",
           "        return scrub(super().format(record))", "        return super().format(record)",
           ("tests/test_logs.py",)),
    Mutant("embargo ignored for public records", "db/acl.py",
           "return and_(Record.is_public.is_(True), or_(Record.embargo_until.is_(None), Record.embargo_until <= now))",
           "return Record.is_public.is_(True)",
           ("tests/api/test_api_acl.py",)),
    Mutant("group members see nothing of their group", "db/acl.py",
           "        mine.append(Record.group_id.in_(sorted(principal.group_ids)))", "        pass",
           ("tests/api/test_api_acl.py",)),
    Mutant("Logger tokens see records", "db/acl.py",
           '    if principal.kind == "instrument":\n        return false()\n', "",
           ("tests/db/test_db_acl.py",)),
]


def run(mutant: Mutant, backend: str) -> tuple[bool, float, str]:
    """(killed, seconds, last lines of the test output) for one mutant."""
    with tempfile.TemporaryDirectory(prefix="nxhub-mutant-") as tmp:
        pkg = Path(tmp) / "nexuslims_kernel"
        shutil.copytree(REPO / "nexuslims_kernel", pkg, ignore=shutil.ignore_patterns("__pycache__"))
        target = pkg / mutant.path
        source = target.read_text()
        if source.count(mutant.before) != 1:
            raise SystemExit(f"mutant {mutant.name!r}: the line to change is not in {mutant.path} exactly once; update it")
        target.write_text(source.replace(mutant.before, mutant.after))
        env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (tmp, os.environ.get("PYTHONPATH", "")) if p)}
        started = time.perf_counter()
        # Run from the copy's folder: `python -m nexuslims_kernel...` subprocesses put their cwd first on sys.path.
        tests = [str(REPO / t) for t in mutant.tests]
        out = subprocess.run([sys.executable, "-P", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
                              "--rootdir", str(REPO), "-k", backend, *tests], cwd=tmp, env=env, capture_output=True, text=True)
        tail = "\n".join(out.stdout.strip().splitlines()[-3:])
        return out.returncode != 0, time.perf_counter() - started, tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.list:
        for m in MUTANTS:
            print(f"{m.name}: nexuslims_kernel/{m.path} -> {' '.join(m.tests)}")
        return 0
    survivors = []
    for mutant in MUTANTS:
        killed, seconds, tail = run(mutant, args.backend)
        print(f"{'killed  ' if killed else 'SURVIVED'} {mutant.name} ({seconds:.0f} s)", flush=True)
        if not killed:
            survivors.append(mutant.name)
            print("   " + tail.replace("\n", "\n   "))
    print(f"\n{len(MUTANTS) - len(survivors)} killed, {len(survivors)} survived")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
