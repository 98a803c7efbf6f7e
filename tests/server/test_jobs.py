"""Background jobs run once across the cluster: of nodes racing for a job exactly one runs
it, a node that dies holds it only until its lease runs out, failures are recorded and tried
again soon, and admins are told when jobs fail or nobody runs them."""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, update

from server import jobs
from server.cli import main
from server.extensions import db
from server.models.audit import AuditEvent
from server.models.base import utcnow
from server.models.jobs import JobState
from tests.conftest import AuthActions, World
from tests.helpers import vitrina


def _engine(app: Flask) -> Any:
    return create_engine(app.config["DATABASE_URL"])


def test_of_two_nodes_taking_a_job_at_the_same_moment_exactly_one_wins(app: Flask) -> None:
    job = jobs.BY_NAME["displays.check"]
    engines = [_engine(app), _engine(app)]
    try:
        jobs._ensure_rows(engines[0])
        for _round in range(12):
            with engines[0].begin() as conn:
                conn.execute(update(JobState).values(holder="", lease_until=None,
                                                     next_due_at=None))
            now = utcnow()
            gate = threading.Barrier(2)
            won: dict[str, bool] = {}

            def node(name: str, engine: Any, gate: threading.Barrier,
                     won: dict[str, bool], now: Any) -> None:
                gate.wait()
                won[name] = jobs.take(engine, job, name, now)

            racers = [threading.Thread(target=node, args=(f"node-{i}", e, gate, won, now))
                      for i, e in enumerate(engines)]
            for r in racers:
                r.start()
            for r in racers:
                r.join(30)
            assert sorted(won.values()) == [False, True], won
            with engines[1].connect() as conn:
                holder = conn.scalar(select(JobState.holder).where(JobState.name == job.name))
            assert won[holder]
    finally:
        for e in engines:
            e.dispose()


def test_a_node_that_dies_mid_job_holds_it_only_until_its_lease_runs_out(app: Flask) -> None:
    job = jobs.BY_NAME["pupils.purge"]
    engine = _engine(app)
    try:
        jobs._ensure_rows(engine)
        now = utcnow()
        assert jobs.take(engine, job, "node-1", now)          # …and node-1 is killed
        assert not jobs.take(engine, job, "node-2", now + timedelta(minutes=30))
        assert not jobs.take(engine, job, "node-2", now, force=True)   # not even forced
        later = now + job.lease + timedelta(seconds=1)
        assert jobs.take(engine, job, "node-2", later)
        # node-1 comes back to life and finishes: its claim is gone, its outcome not kept.
        assert not jobs.finish(engine, job, "node-1", now, timedelta(days=1), True, "late")
        assert jobs.finish(engine, job, "node-2", later, timedelta(days=1), True, "done")
        with engine.connect() as conn:
            state = conn.execute(select(JobState).where(JobState.name == job.name)).one()
        assert (state.holder, state.last_message, state.runs) == ("", "done", 1)
        assert state.next_due_at == later + timedelta(days=1)
        assert not jobs.take(engine, job, "node-3", later + timedelta(hours=23))
    finally:
        engine.dispose()


def _env(app: Flask, tmp_path: Path) -> dict[str, str]:
    return {"VITRINA_DATABASE_URL": app.config["DATABASE_URL"],
            "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"],
            "VITRINA_PHOTO_DIR": app.config["PHOTO_DIR"],
            "VITRINA_BACKUP_DIR": str(tmp_path / "backups"),
            "VITRINA_SECRET_KEY": "jobs-test"}


@pytest.mark.slow
def test_two_job_runners_started_together_run_each_job_once(
        app: Flask, world: World, tmp_path: Path) -> None:
    app.extensions["vitrina.db"].engine.dispose()
    env = _env(app, tmp_path)
    logs = [tmp_path / "node-1.log", tmp_path / "node-2.log"]
    procs = [vitrina("--instance", str(tmp_path / f"node-{i}"), "jobs", "run", "--once",
                     env=env, log=log) for i, log in enumerate(logs, 1)]
    for p in procs:
        assert p.wait(120) == 0, [log.read_text() for log in logs]
    said = "".join(log.read_text() for log in logs)
    for job in jobs.JOBS:
        assert said.count(f"{job.name}: ok") == 1, said
    with app.app_context():
        states = {s.name: s for s in db.session.scalars(select(JobState))}
        assert {n: s.runs for n, s in states.items()} == {j.name: 1 for j in jobs.JOBS}
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "backup.made")) is not None
    assert len(list((tmp_path / "backups").glob("vitrina-backup-*.tar"))) == 1
    # Run again at once: nothing is due on either node.
    again = subprocess.run([*procs[0].args], env={**os.environ, **env},
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert "Nothing was due" in again.stdout


def test_a_failing_job_is_shown_to_admins_and_tried_again_soon(
        app: Flask, world: World, client: FlaskClient, auth: AuthActions,
        tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    app.config["BACKUP_DIR"] = str(blocker / "backups")
    before = utcnow()
    (outcome,) = jobs.run_due(app, ["backup"])
    assert not outcome.ok and "not-a-folder" in outcome.message
    with app.app_context():
        state = db.session.get(JobState, "backup")
        assert state is not None
        assert (state.last_status, state.failures, state.holder) == ("failed", 1, "")
        assert state.next_due_at is not None
        assert before + timedelta(minutes=9) < state.next_due_at < \
            utcnow() + timedelta(minutes=11)       # not in 24 hours
    jobs.run_due(app)                               # the others run and are fine
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="job-failed"' in page
    assert "Back up the database and files" in page
    assert 'data-testid="jobs-stopped"' not in page

    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    (outcome,) = jobs.run_due(app, ["backup"], force=True)
    assert outcome.ok
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="job-failed"' not in page
    assert 'data-testid="backup-ok"' in page


def test_admins_are_told_when_nobody_runs_the_jobs(
        app: Flask, world: World, client: FlaskClient, auth: AuthActions) -> None:
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="jobs-stopped"' in page
    auth.logout()
    auth.login("content_manager")
    assert 'data-testid="jobs' not in client.get("/").get_data(as_text=True)
    auth.logout()

    jobs.run_due(app)
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="jobs-stopped"' not in page
    assert 'data-testid="job-late"' not in page
    assert "displays went dark" in page          # the jobs table shows the last outcomes
    # A day later with nothing run since: the frequent jobs are late.
    with app.app_context():
        for state in db.session.scalars(select(JobState)):
            assert state.last_started_at is not None
            state.last_started_at -= timedelta(hours=3)
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="job-late"' in page
    assert "Note displays that went dark" in page


def test_a_job_switched_off_where_jobs_run_is_not_called_late(
        app: Flask, world: World, client: FlaskClient, auth: AuthActions) -> None:
    """The demo's jobs process leaves the drop folders to its watchers (JOBS_DISABLED):
    those jobs never run, and the web node, which cannot see that setting, must not
    warn about them."""
    app.config["JOBS_DISABLED"] = ["content.drop", "sync.drop"]
    jobs.run_due(app)
    app.config["JOBS_DISABLED"] = []
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="jobs-stopped"' not in page
    assert 'data-testid="job-late"' not in page
    assert page.count("Never ran") == 2


def test_jobs_run_refuses_unknown_jobs_and_force_without_a_job(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--instance", str(tmp_path), "jobs", "run", "--once",
                                  "--job", "nope"])
    assert result.exit_code != 0 and "No such job: nope" in result.output
    result = runner.invoke(main, ["--instance", str(tmp_path), "jobs", "run", "--once",
                                  "--force"])
    assert result.exit_code != 0 and "--force needs --job" in result.output
