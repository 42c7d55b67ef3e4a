"""Calendar harvest: 10,000 NEMO usage events from a real NEMO 8.1.5 on loopback (issue 14).

Reports events/s and HTTP requests of the first harvest, and checks that a
repeated harvest with nothing new costs one request per server and endpoint
(usage_events, reservations). Requests are counted twice: by our client and
from NEMO's own access log. The NEMO venv is the tests' (``.venv-nemo/``).

    python benchmarks/bench_calendars.py [--events 10000] [--reservations 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "calendars"), str(Path(__file__).resolve().parent)]

import nemo_server  # noqa: E402
from common import report, summary, write_results  # noqa: E402

from nexuslims_kernel.calendars import harvest  # noqa: E402
from nexuslims_kernel.db import Database, upgrade  # noqa: E402
from nexuslims_kernel.db.directory import add_instrument  # noqa: E402


def _server_requests(server: nemo_server.NemoServer) -> int:
    log = server.db.with_suffix(".log")
    return sum(1 for line in log.read_text(errors="replace").splitlines() if '"GET /api/' in line) if log.exists() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--reservations", type=int, default=500)
    args = parser.parse_args(argv)
    venv = nemo_server.ensure_nemo()
    with tempfile.TemporaryDirectory(prefix="nxbench-cal-") as tmp_name:
        tmp = Path(tmp_name)
        server = nemo_server.new_server(venv, tmp / "nemo", tz="America/New_York")
        tool, user, project = server.seed({"op": "tool", "name": "Titan"},
                                          {"op": "user", "username": "alice", "email": "alice@example.org"},
                                          {"op": "project", "name": "Bench"})
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5 * args.events + 60)
        t0 = time.perf_counter()
        server.seed({"op": "usage_bulk", "n": args.events, "minutes": 5, "start": start.isoformat(), "tool": tool,
                     "user": user, "project": project, "run_data": {"data_consent": {"type": "radio", "user_input": "Agree"}}},
                    *({"op": "reservation", "tool": tool, "user": user, "project": project,
                       "start": (start + dt.timedelta(minutes=5 * args.events * i // args.reservations)).isoformat(),
                       "end": (start + dt.timedelta(minutes=5 * args.events * i // args.reservations + 4)).isoformat(),
                       "question_data": {"experiment_title": {"type": "textbox", "user_input": f"Booking {i}"}}}
                      for i in range(args.reservations)))
        print(f"seeded {args.events} usage events and {args.reservations} reservations in {time.perf_counter() - t0:.1f} s")
        server.start()
        os.environ["NXHUB_BENCH_NEMO_TOKEN"] = server.token
        db = Database(f"sqlite:///{tmp / 'nxhub.db'}")
        upgrade(db)
        with db.session(write=True) as sess:
            add_instrument(sess, "TEM-1", timezone="America/New_York", harvester="nemo", harvester_settings={
                "url": server.api_url, "tool_id": tool, "token_env": "NXHUB_BENCH_NEMO_TOKEN"})
        try:
            t0 = time.perf_counter()
            first = harvest(db=db, since=start - dt.timedelta(hours=1), echo=print)
            first_s = time.perf_counter() - t0
            created = first.sources[0].counts.created if first.sources[0].ok else 0
            logged_first = _server_requests(server)
            t0 = time.perf_counter()
            again = harvest(db=db, echo=print)
            again_s = time.perf_counter() - t0
            logged_again = _server_requests(server) - logged_first
            t0 = time.perf_counter()
            full = harvest(db=db, since=start - dt.timedelta(hours=1), echo=print)  # the hourly complete pass
            full_s = time.perf_counter() - t0
        finally:
            server.stop()
        report("NEMO harvest: sessions created", value=created, unit="sessions", goal=f">= {args.events}")
        report("NEMO harvest: usage events per second (first harvest, SQLite)", value=args.events / first_s, unit="events/s",
               note=f"{first_s:.1f} s for {args.events} events + {args.reservations} reservations")
        report("NEMO harvest: HTTP requests, first harvest (client count)", value=first.requests, unit="requests",
               note=f"NEMO's access log: {logged_first}")
        report("NEMO harvest: HTTP requests, repeat with nothing new (per server, 2 endpoints)", value=again.requests,
               unit="requests", goal="<= 2", note=f"NEMO's access log: {logged_again}; {again_s * 1000:.0f} ms")
        report("NEMO harvest: repeat requests in NEMO's own access log", value=logged_again, unit="requests", goal="<= 2")
        report("NEMO harvest: complete pass with nothing new (edits/deletions check)", value=args.events / full_s,
               unit="events/s", note=f"{full_s:.1f} s, {full.requests} requests, "
                                     f"{full.sources[0].counts.updated if full.sources[0].ok else '?'} updated")
        db.dispose()
    write_results("calendars")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
