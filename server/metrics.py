"""Prometheus metrics at `/metrics`, for the people who run Vitrina.

Counted in each process as things happen: requests by route (the URL rule, never the
path, so a stream of unknown URLs cannot grow the label set) and status, request latency,
manifest polls by how they were answered, photos the pipeline refused by reason. Under
gunicorn every worker writes them to a shared folder (prometheus_client's multiprocess
mode; `vitrina serve` and `server.gunicorn_conf` set it up) so a scrape sees the whole
node. Read from the database at scrape time: displays online/stale/offline/never, sync
runs by outcome, the last backup's age, and each background job's last outcome.

Only addresses in METRICS_ALLOW_FROM (loopback by default) or a request with the bearer
token METRICS_TOKEN get an answer; anyone else gets 404, as if there were no such page.
prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, so it is
imported here only when the first app is set up.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from sqlalchemy import func, select

from server.access import internal
from server.extensions import db

bp = Blueprint("metrics", __name__)

#: Latency buckets (seconds): unchanged polls take milliseconds, long polls up to 55 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_metrics: dict[str, Any] = {}


def _setup() -> dict[str, Any]:
    """The process's metric objects (made once, on first use)."""
    if not _metrics:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry(auto_describe=True)
        _metrics.update(
            registry=registry,
            requests=Counter("vitrina_http_requests", "HTTP requests answered.",
                             ["route", "method", "status"], registry=registry),
            latency=Histogram("vitrina_http_request_duration_seconds",
                              "Time to answer a request.", ["route"], buckets=BUCKETS,
                              registry=registry),
            polls=Counter("vitrina_manifest_polls", "Display manifest polls, by answer: "
                          "fast (304 without the app), unchanged (304), changed (200).",
                          ["answer"], registry=registry),
            rejected=Counter("vitrina_photo_rejections", "Photos the pipeline refused.",
                             ["reason"], registry=registry),
        )
    return _metrics


def multiprocess_dir() -> str | None:
    """The folder gunicorn's workers share their counts through, if set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


#: The shared folder this process made (removed when the server stops).
_made_folder: list[str] = []


def prepare_multiprocess() -> str | None:
    """Make a fresh shared folder for this server's workers, unless one is set; call it in
    the gunicorn master before any worker starts (gunicorn's on_starting hook). Returns the
    folder, or None when this process has imported prometheus_client already (an embedding
    process, tests): then each worker counts on its own."""
    import sys
    import tempfile

    folder = multiprocess_dir()
    if folder is None:
        if "prometheus_client" in sys.modules:
            logging.getLogger(__name__).warning(
                "metrics: prometheus_client was imported before the server started; each "
                "worker's /metrics shows its own counts only")
            return None
        folder = tempfile.mkdtemp(prefix="vitrina-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        _made_folder.append(folder)
        maker = os.getpid()
        # Removed when this process ends (not when a forked worker does).
        atexit.register(lambda: server_stopped() if os.getpid() == maker else None)
    return folder


def server_stopped() -> None:
    """Remove the shared folder this process made (gunicorn's on_exit hook)."""
    import shutil

    for folder in _made_folder:
        shutil.rmtree(folder, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """Forget a dead worker's live values (gunicorn's child_exit hook)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def count_poll(answer: str) -> None:
    """A manifest poll answered: "fast", "unchanged" or "changed"."""
    _setup()["polls"].labels(answer).inc()


def count_fast_poll(route: str, seconds: float) -> None:
    """An unchanged poll answered 304 by the fast path (the hottest path there is: its
    labelled series are looked up once per process, not on every poll)."""
    m = _setup()
    series = m.get("fast_series")
    if series is None:
        series = m["fast_series"] = (m["polls"].labels("fast"),
                                     m["requests"].labels(route, "GET", "304"),
                                     m["latency"].labels(route))
    polls, requests_, latency = series
    polls.inc()
    requests_.inc()
    latency.observe(seconds)


def count_request(route: str, method: str, status: int, seconds: float) -> None:
    """A request answered (also by the poll fast path, which bypasses Flask)."""
    m = _setup()
    m["requests"].labels(route, method, str(status)).inc()
    m["latency"].labels(route).observe(seconds)


def photo_rejected(reason: str) -> None:
    """The photo pipeline refused a photo for reason (sync.imaging.Rejected code)."""
    _setup()["rejected"].labels(reason or "unreadable").inc()


def init_app(app: Flask) -> None:
    """Count every request, and serve /metrics (prometheus_client is imported on the first
    count, so a gunicorn master that only builds the app never imports it). The request's
    start is the one server.requestlog notes (its init_app comes first)."""

    @app.after_request
    def answered(response: Response) -> Response:
        began = g.get("request_started")
        if began is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            count_request(route, request.method, response.status_code,
                          time.perf_counter() - began)
        return response

    app.register_blueprint(bp)


class _FromDatabase:
    """Gauges read at scrape time: the fleet, sync runs, backups, background jobs."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from server.models.audit import AuditEvent
        from server.models.base import utcnow
        from server.models.displays import Display
        from server.models.jobs import JobState
        from server.models.pupils import SyncRun
        from server.services.displays import health_of

        session = db.session
        now = utcnow()
        fleet = GaugeMetricFamily("vitrina_displays", "Active displays by health.",
                                  labels=["health"])
        counts = {"online": 0, "stale": 0, "offline": 0, "never": 0}
        for seen in session.scalars(select(Display.last_seen_at).where(
                Display.status == "active")):
            counts[health_of(seen, now)] += 1
        for health, n in counts.items():
            fleet.add_metric([health], n)
        yield fleet

        runs = CounterMetricFamily("vitrina_sync_runs", "Pupil-card sync runs by outcome.",
                                   labels=["status"])
        for status, n in session.execute(select(SyncRun.status, func.count())
                                         .group_by(SyncRun.status)):
            runs.add_metric([status], n)
        yield runs

        last = session.scalar(select(func.max(AuditEvent.at)).where(
            AuditEvent.action == "backup.made"))
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        age = GaugeMetricFamily("vitrina_backup_age_seconds",
                                "Seconds since the last backup (+Inf: none yet).")
        age.add_metric([], (now - last).total_seconds() if last else float("inf"))
        yield age

        jobs_ok = GaugeMetricFamily("vitrina_job_last_run_ok",
                                    "1 if the job's last run went well, 0 if it failed.",
                                    labels=["job"])
        jobs_at = GaugeMetricFamily("vitrina_job_last_run_timestamp_seconds",
                                    "When the job last started (Unix time).", labels=["job"])
        for state in session.scalars(select(JobState)):
            if state.last_started_at is None:
                continue
            jobs_ok.add_metric([state.name], 0 if state.last_status == "failed" else 1)
            jobs_at.add_metric([state.name], state.last_started_at.timestamp())
        yield jobs_ok
        yield jobs_at


class _ThisProcess:
    def collect(self) -> Iterator[Any]:
        yield from _setup()["registry"].collect()


@bp.get("/metrics")
@internal
def metrics() -> Any:
    """The metrics in Prometheus's text format (to monitoring only)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    registry.register(_FromDatabase())  # type: ignore[arg-type]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
