"""Background jobs, run once across the cluster however many nodes run `vitrina jobs run`.

Each job has an interval. A node runs a job only after taking its lease: one conditional
UPDATE of the job's row in `job_states` that succeeds only if nobody holds an unexpired
lease and the job is due. The database decides, so of two nodes that try at the same
moment exactly one wins (SQLite serialises writers; PostgreSQL re-checks the condition on
the row the first node just changed). The winner runs the job, then records the outcome
and when it is next due (sooner after a failure). A node that dies mid-job leaves a lease
that runs out, after which another node runs the job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models.base import utcnow
from server.models.jobs import JobState

log = logging.getLogger("vitrina.jobs")

#: A failed job is tried again after this long (or its own interval, if shorter).
RETRY_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    """A background job: what it does and how often."""

    name: str
    title: Any                                   # lazy translated text for the UI
    every: Callable[[Flask], timedelta | None]   # None: switched off by configuration
    lease: timedelta                             # longer than one run can take
    run: Callable[[Flask], str]                  # does the work; a one-line summary


def _committed(app: Flask, work: Callable[[Any], str], actor: str = "jobs") -> str:
    """Run work(ctx) as the system in an app and request context (for translations),
    commit, and return its summary; the session closes with the contexts."""
    from server.services.context import system_ctx

    with app.app_context(), app.test_request_context():
        summary = work(system_ctx(db.session, actor))
        db.session.commit()
        return summary


def _displays_check(app: Flask) -> str:
    from server.services import displays

    return _committed(app, lambda ctx: f"{len(displays.mark_dark(ctx.session, utcnow()))} "
                                       "displays went dark")


def _signins_forget(app: Flask) -> str:
    from server.services import auth

    return _committed(app, lambda ctx: f"{auth.forget_old_attempts(ctx)} old failed "
                                       "sign-ins forgotten")


def _pupils_purge(app: Flask) -> str:
    from server.services import pupil_sync

    def work(ctx: Any) -> str:
        totals = pupil_sync.purge_expired(ctx)
        return (f"{totals['pupils']} pupils past retention removed, "
                f"{totals['run_files']} old sync files")
    return _committed(app, work, "retention")


def _backup(app: Flask) -> str:
    from server.backup import back_up

    to = Path(app.config["BACKUP_DIR"]) if app.config["BACKUP_DIR"] else None
    path, removed = back_up(app, to, prune_old=True)
    return f"{path} ({path.stat().st_size / 2**20:.1f} MB), {len(removed)} old removed"


def _drop(kind: str) -> Callable[[Flask], str]:
    def run(app: Flask) -> str:
        if kind == "content":
            from server.dropfolder import drop_folder, prepare_folders
            prepare_folders(app)
            folder = drop_folder(app)
        else:
            from server.sync_drop import prepare_folders as prepare_sync
            from server.sync_drop import sync_drop_folder
            prepare_sync(app)
            folder = sync_drop_folder(app)
        folder.process()          # the first look notes sizes; the second takes what settled
        if folder.candidates():
            time.sleep(folder.settle)
        outcomes = folder.process()
        return f"{len(outcomes)} files taken" if outcomes else "nothing new"
    return run


def _fixed(delta: timedelta) -> Callable[[Flask], timedelta | None]:
    return lambda _app: delta


def _backup_every(app: Flask) -> timedelta | None:
    hours = float(app.config["BACKUP_EVERY_HOURS"])
    return timedelta(hours=hours) if hours > 0 else None


JOBS: tuple[Job, ...] = (
    Job("displays.check", _l("Note displays that went dark"), _fixed(timedelta(minutes=5)),
        timedelta(minutes=10), _displays_check),
    Job("content.drop", _l("Take files from the display media drop folders"),
        _fixed(timedelta(minutes=1)), timedelta(minutes=15), _drop("content")),
    Job("sync.drop", _l("Take files from the schools' sync drop folders"),
        _fixed(timedelta(minutes=1)), timedelta(minutes=30), _drop("sync")),
    Job("signins.forget", _l("Forget old failed sign-ins"), _fixed(timedelta(hours=1)),
        timedelta(minutes=10), _signins_forget),
    Job("pupils.purge", _l("Remove pupils' data past its retention"),
        _fixed(timedelta(days=1)), timedelta(hours=2), _pupils_purge),
    Job("backup", _l("Back up the database and files"), _backup_every, timedelta(hours=6),
        _backup),
)
BY_NAME = {job.name: job for job in JOBS}


def describe_every(every: timedelta | None) -> str:
    """An interval for people: "every 5 min", "every 24 h", "off"."""
    if every is None:
        return "off"
    minutes = int(every.total_seconds() // 60)
    return f"every {minutes} min" if minutes < 120 else f"every {minutes // 60} h"


def node_name() -> str:
    """This process, as the holder of a lease: host and process ID."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _ensure_rows(engine: Engine) -> None:
    with engine.connect() as conn:
        known = set(conn.scalars(select(JobState.name)))
    for job in JOBS:
        if job.name not in known:
            try:
                with engine.begin() as conn:
                    conn.execute(JobState.__table__.insert().values(name=job.name))
            except IntegrityError:
                pass            # another node added it at the same moment


def take(engine: Engine, job: Job, holder: str, now: datetime, force: bool = False) -> bool:
    """Take job's lease if it is due (or forced) and nobody holds it; True if taken."""
    table = JobState.__table__
    free = (table.c.lease_until.is_(None)) | (table.c.lease_until < now)
    due = (table.c.next_due_at.is_(None)) | (table.c.next_due_at <= now)
    with engine.begin() as conn:
        result = conn.execute(
            update(table).where(table.c.name == job.name, free, *(() if force else (due,)))
            .values(holder=holder, lease_until=now + job.lease, last_started_at=now,
                    last_node=holder))
        return bool(result.rowcount)


def finish(engine: Engine, job: Job, holder: str, started: datetime, every: timedelta,
           ok: bool, message: str) -> bool:
    """Record the outcome and the next due time; False if the lease was lost meanwhile."""
    table = JobState.__table__
    now = utcnow()
    next_due = started + every if ok else now + min(every, RETRY_AFTER)
    with engine.begin() as conn:
        result = conn.execute(
            update(table).where(table.c.name == job.name, table.c.holder == holder)
            .values(holder="", lease_until=None, next_due_at=next_due, last_finished_at=now,
                    last_status="ok" if ok else "failed", last_message=message[:2000],
                    runs=table.c.runs + 1, failures=table.c.failures + (0 if ok else 1)))
        return bool(result.rowcount)


@dataclass(frozen=True)
class Outcome:
    """What one job did on this node."""

    job: str
    ok: bool
    message: str
    seconds: float


def run_due(app: Flask, names: list[str] | None = None, force: bool = False,
            holder: str | None = None) -> list[Outcome]:
    """Run every job that is due and not held elsewhere (or those named); one pass."""
    holder = holder or node_name()
    disabled = set(app.config["JOBS_DISABLED"])
    with app.app_context():
        engine = db.engine
    _ensure_rows(engine)
    done = []
    for job in JOBS:
        if (names and job.name not in names) or (not names and job.name in disabled):
            continue
        every = job.every(app)
        if every is None:
            continue
        started = utcnow()
        if not take(engine, job, holder, started, force=force):
            continue
        clock = time.monotonic()
        try:
            message, ok = job.run(app), True
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded, not fatal
            log.exception("job %s failed", job.name)
            message, ok = f"{type(exc).__name__}: {exc}", False
        if not finish(engine, job, holder, started, every, ok, message):
            log.warning("job %s finished after its lease ran out; another node may have "
                        "run it too", job.name)
        done.append(Outcome(job.name, ok, message, time.monotonic() - clock))
        log.info("job %s %s in %.1f s: %s", job.name, "done" if ok else "FAILED",
                 done[-1].seconds, message)
    return done


def run_forever(app: Flask, stop: threading.Event, tick: float = 15.0) -> None:
    """Run due jobs every tick seconds until stop is set."""
    while not stop.is_set():
        try:
            run_due(app)
        except Exception:  # noqa: BLE001 - the database away for a while: try again later
            log.exception("jobs: could not check what is due")
        stop.wait(tick)


def states(app: Flask) -> list[tuple[Job, JobState | None, timedelta | None]]:
    """Every job with its shared state (None before it first ran) and interval (in an app
    context)."""
    found = {s.name: s for s in db.session.scalars(select(JobState))}
    return [(job, found.get(job.name), job.every(app)) for job in JOBS]
