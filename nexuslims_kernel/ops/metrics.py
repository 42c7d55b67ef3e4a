"""``/metrics`` in Prometheus text format: requests, the build queue, builds, fixity, disk.

Request counts and latencies are kept per API process (a registry per
application). Everything else is read from the database and the data dir's
disk at scrape time, so every API process answers the same and nothing is
lost when the worker restarts: builds done/failed are the append-only STATUS
events out of BUILDING, fixity checks the ``fixity_checks`` rows.

Access: the caller must send ``Authorization: Bearer <ops.metrics_token>``.
With no token set, ``/metrics`` is off (403): "loopback only" would not be a
protection here, since every request through the hub's proxy comes from
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import tornado.web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database

UNMATCHED = "(unmatched)"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_GROUP = re.compile(r"\((?:[^()]|\([^()]*\))*\)")


def route_label(pattern: str, prefix: str) -> str:
    """``/api/v1/records/([0-9]{1,18})/zip`` -> ``/api/v1/records/{id}/zip`` (few, stable label values)."""
    path = pattern.removeprefix(prefix.rstrip("/")).replace("\\", "").replace("/?", "/")
    path = path.replace("([0-9]{1,18})", "{id}").replace("([^/]{1,200})", "{name}")
    return _GROUP.sub("{param}", path).removesuffix("$") or "/"


class ApiMetrics:
    """The API's registry: request metrics plus :class:`HubCollector`."""

    def __init__(self, settings: Settings, db: Database, handlers: Iterable[tuple], prefix: str,
                 multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.hub = HubCollector(settings, db)
        # one process: this registry holds everything; forked processes: each writes its own file
        # in multiprocess_dir and a scrape of any of them adds up all (see :func:`use_shared_dir`)
        self.registry = CollectorRegistry(auto_describe=True)
        own = None if multiprocess_dir else self.registry
        self.routes = [(re.compile(spec[0] + "$"), route_label(spec[0], prefix)) for spec in handlers]
        self.requests = Counter("nxhub_http_requests", "API requests by route, method and status",
                                ("route", "method", "status"), registry=own)
        self.latency = Histogram("nxhub_http_request_duration_seconds", "API request latency by route and method",
                                 ("route", "method"), buckets=LATENCY_BUCKETS, registry=own)
        self.registry.register(self.hub)

    def route_of(self, path: str) -> str:
        for regex, label in self.routes:
            if regex.match(path):
                return label
        return UNMATCHED

    def observe(self, handler: Any) -> None:
        """tornado's log_function hook: one count and one latency per finished request."""
        request = handler.request
        route = self.route_of(request.path)
        self.requests.labels(route, request.method, str(handler.get_status())).inc()
        self.latency.labels(route, request.method).observe(request.request_time())

    def render(self) -> bytes:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))
        registry.register(self.hub)
        return generate_latest(registry)


def reset_shared_dir(folder: Path) -> None:
    """The parent of forked API processes empties their metrics folder once: counters start at zero with the service."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def use_shared_dir(folder: Path) -> None:
    """Make this (forked) process's request metrics land in ``folder``, where any process's scrape adds them up.

    prometheus_client picks its value storage from PROMETHEUS_MULTIPROC_DIR when it is
    imported; the API imports it before forking, so each forked process sets the
    variable and swaps the storage class itself, before its app creates any metric.
    """
    import os

    from prometheus_client import values

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    values.ValueClass = values.MultiProcessValue()


class HubCollector:
    """Gauges and counters read from the database and the disks at scrape time."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db

    def describe(self) -> list:
        return []  # collected lazily: no database query when the collector is registered

    def collect(self) -> Iterator[Any]:
        from nexuslims_kernel.builder.queue import ready_clause
        from nexuslims_kernel.db.base import utcnow
        from nexuslims_kernel.db.models import FixityCheck, Instrument, InstrumentSession, SessionEvent
        from nexuslims_kernel.ops.fixity import failure_count

        started = time.monotonic()
        with self.db.session() as sess:
            depth, oldest = sess.execute(select(func.count(), func.min(InstrumentSession.updated_at))
                                         .where(*ready_clause())).one()
            builds = dict(sess.execute(select(SessionEvent.to_status, func.count())
                                       .where(SessionEvent.kind == "STATUS", SessionEvent.from_status == "BUILDING")
                                       .group_by(SessionEvent.to_status)).all())
            events = dict(sess.execute(select(SessionEvent.kind, func.count())
                                       .where(SessionEvent.kind.in_(("START", "END", "NOTE")))
                                       .group_by(SessionEvent.kind)).all())
            checks = dict(sess.execute(select(FixityCheck.outcome, func.count()).group_by(FixityCheck.outcome)).all())
            stores = sess.execute(select(Instrument.name, Instrument.filestore_root)
                                  .where(Instrument.filestore_root.is_not(None)).order_by(Instrument.name)).all()
        yield GaugeMetricFamily("nxhub_build_queue_depth", "Sessions queued and ready to build", value=depth)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("nxhub_build_queue_oldest_age_seconds", "How long the oldest ready session has waited", value=age)
        done = CounterMetricFamily("nxhub_builds", "Builds finished, by outcome (COMPLETED, NO_FILES, ERROR, ...)", labels=("outcome",))
        for outcome in sorted({"COMPLETED", "ERROR", "NO_FILES", *builds}, key=str):
            done.add_metric((str(outcome),), builds.get(outcome, 0))
        yield done
        logger = CounterMetricFamily("nxhub_logger_events", "Logger events received, by kind", labels=("kind",))
        for kind in ("START", "END", "NOTE"):
            logger.add_metric((kind,), events.get(kind, 0))
        yield logger
        fixity = CounterMetricFamily("nxhub_fixity_checks", "Fixity checks made, by outcome", labels=("outcome",))
        for outcome in sorted({"ok", "mismatch", "missing", "unreadable", "changed", *checks}):
            fixity.add_metric((outcome,), checks.get(outcome, 0))
        yield fixity
        yield GaugeMetricFamily("nxhub_fixity_failures", "Stored files whose latest fixity check failed", value=failure_count(self.db))
        disk = GaugeMetricFamily("nxhub_disk_free_bytes", "Free bytes on the disk of each hub folder", labels=("folder",))
        total = GaugeMetricFamily("nxhub_disk_total_bytes", "Size of the disk of each hub folder", labels=("folder",))
        for name, path in (("data_dir", self.settings.data_dir), ("previews", self.settings.previews_path)):
            try:
                usage = shutil.disk_usage(path)
            except OSError:
                continue
            disk.add_metric((name,), usage.free)
            total.add_metric((name,), usage.total)
        from nexuslims_kernel.ops.disk import low_disk

        yield GaugeMetricFamily("nxhub_builds_paused", "1 while build workers wait for free disk space (ops.build_min_free_mb)",
                                value=1 if low_disk(self.settings) else 0)
        yield from self._stores(stores)
        yield disk
        yield total
        yield GaugeMetricFamily("nxhub_metrics_scrape_seconds", "Time spent reading the database for this scrape",
                                value=time.monotonic() - started)


    @staticmethod
    def _stores(stores: list) -> Iterator[Any]:
        """Per instrument store: can it be listed, and the free bytes of its disk."""
        up = GaugeMetricFamily("nxhub_store_up", "1 when the instrument's file store can be listed", labels=("store",))
        free = GaugeMetricFamily("nxhub_store_disk_free_bytes", "Free bytes on the disk of each file store", labels=("store",))
        for name, root in stores:
            try:
                next(os.scandir(root), None)
                free.add_metric((name,), shutil.disk_usage(root).free)
                up.add_metric((name,), 1)
            except OSError:
                up.add_metric((name,), 0)
        yield up
        yield free


class MetricsHandler(tornado.web.RequestHandler):
    """GET /metrics with the metrics token; 401 without credentials, 403 with wrong ones or when off."""

    def initialize(self, metrics: ApiMetrics, token: str) -> None:
        self.metrics, self.token = metrics, token

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="nxhub-metrics"')
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(message + "\n")

    async def get(self) -> None:
        if not self.token:
            return self._refuse(403, "metrics are off: set ops.metrics_token (NXHUB_OPS_METRICS_TOKEN)")
        scheme, _, given = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return self._refuse(401, "send Authorization: Bearer <metrics token>")
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return self._refuse(403, "wrong metrics token")
        body = await asyncio.get_running_loop().run_in_executor(self.application.settings["nx"].executor, self.metrics.render)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)
