"""Turning queued sessions into records: activities, the build pipeline and the work queue.

Public API::

    build_session(db, session_id, settings=None, pool=None, progress=None) -> BuildResult
    run_worker(db, once=False, stop_event=None, settings=None, worker_id=None) -> int
    drain(db, settings=None) -> list[BuildResult]          # build all that is ready, then return
    claim_next(db, worker_id) / reclaim_stale(db, settings) # the queue
    split_times(times, sensitivity) / cluster(items, time_of, sensitivity)
"""

from nexuslims_kernel.builder.activities import cluster, split_times
from nexuslims_kernel.builder.pipeline import BuildResult, build_claimed, build_session, default_worker_id
from nexuslims_kernel.builder.queue import claim_next, reclaim_stale
from nexuslims_kernel.builder.worker import drain, run_worker

__all__ = ["BuildResult", "build_claimed", "build_session", "claim_next", "cluster", "default_worker_id", "drain",
           "reclaim_stale", "run_worker", "split_times"]
