"""kill -9 in the middle of a content publish, a sync apply and a photo batch confirmation,
of the gunicorn worker doing it or of the whole server: after a restart nothing is lost or
half-written, and doing it again completes.

The work is stopped at its pause point (server.faults: its writes made, not yet
committed) and the worker or the whole process group is killed there, for real."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from server.extensions import db
from server.models.content import ContentItem
from server.models.pupils import PhotoBatch, PupilPhoto, PupilRow, SyncRun
from tests.conftest import PASSWORD, World, username_of
from tests.helpers import free_port, login, stop, vitrina, wait_for_http

pytestmark = pytest.mark.slow


def _state(app: Flask, world: World) -> dict[str, Any]:
    """What a user would notice of the three pieces of work."""
    with app.app_context():
        s = db.session
        news = s.get(ContentItem, world.items["news_a"])
        run = s.get(SyncRun, world.tt["run_a"])
        batch = s.get(PhotoBatch, world.tt["batch_a"])
        assert news is not None and run is not None and batch is not None
        state = {"news": news.state, "run": run.status, "batch": batch.status,
                 "pupils": s.scalar(select(func.count()).select_from(PupilRow).where(
                     PupilRow.school_id == world.ids["a"])),
                 "photos": s.scalar(select(func.count()).select_from(PupilPhoto))}
    return state


def _csrf(session: requests.Session, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=10).text)
    assert found, url
    return found.group(1)


def _publish(base: str, world: World) -> requests.Response:
    return requests.post(f"{base}/api/v1/content/{world.items['news_a']}/publish", timeout=200,
                         headers={"Authorization": f"Bearer {world.tokens['content_manager']}"})


def _as_card_admin(base: str) -> requests.Session:
    person = requests.Session()
    assert login(person, base, username_of("card_admin"), PASSWORD).status_code == 302
    return person


def _apply_run(base: str, world: World) -> requests.Response:
    person = _as_card_admin(base)
    page = f"{base}/pupils/sync/{world.tt['run_a']}"
    return person.post(f"{base}/pupils/sync/{world.tt['run_a']}/apply", timeout=200,
                       data={"csrf_token": _csrf(person, page)}, allow_redirects=False)


def _apply_batch(base: str, world: World) -> requests.Response:
    person = _as_card_admin(base)
    page = f"{base}/pupils/photos/batches/{world.tt['batch_a']}"
    return person.post(f"{page}/apply", timeout=200, data={"csrf_token": _csrf(person, page)},
                       allow_redirects=False)


#: The work, and what it changes when it completes (the rest stays as it was).
WORK: dict[str, tuple[Callable[[str, World], requests.Response],
                      Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "content.publish": (_publish, lambda b: {"news": "published"}),
    # The run's register has A1 and A2, who are new.
    "sync.apply": (_apply_run, lambda b: {"run": "applied", "pupils": b["pupils"] + 2}),
    # The batch's one photo is the picture A9 has already: confirmed, nothing doubled.
    "photo_batch.apply": (_apply_batch, lambda b: {"batch": "applied"}),
}


def _serve(app: Flask, tmp_path: Path, port: int, name: str, pause: str | None) -> Any:
    env = {"VITRINA_DATABASE_URL": app.config["DATABASE_URL"],
           "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"],
           "VITRINA_PHOTO_DIR": app.config["PHOTO_DIR"], "VITRINA_SECRET_KEY": "crash",
           "VITRINA_ACCESS_LOG": "", "VITRINA_PAUSE_MARKER": str(tmp_path / "paused"),
           # A killed server cannot remove its metrics folder: keep it in the test's.
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{name}")}
    if pause:
        env["VITRINA_PAUSE_AT"] = pause
    (tmp_path / f"metrics-{name}").mkdir()
    proc = vitrina("--instance", str(tmp_path / "node"), "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", "1", "--threads", "4", env=env, log=tmp_path / f"{name}.log")
    wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=40)
    return proc


@pytest.mark.parametrize("victim", ["worker", "server"])
@pytest.mark.parametrize("point", list(WORK))
def test_killed_mid_work_nothing_is_half_written_and_it_runs_again(
        app: Flask, world: World, tmp_path: Path, point: str, victim: str) -> None:
    do, done = WORK[point]
    before = _state(app, world)
    app.extensions["vitrina.db"].engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(app, tmp_path, port, "first", pause=point)
    try:
        import threading

        answers: list[Any] = []

        def work() -> None:
            try:
                answers.append(do(base, world))
            except requests.RequestException as exc:
                answers.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        marker = tmp_path / "paused"
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline, "the work never reached its pause point"
            assert worker.is_alive(), answers
            time.sleep(0.05)
        pid = int(marker.read_text())
        if victim == "worker":
            os.kill(pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        worker.join(60)
        (answer,) = answers
        assert not isinstance(answer, requests.Response) or answer.status_code >= 500
        assert _state(app, world) == before          # nothing of it was written
        if victim == "server":
            proc = _serve(app, tmp_path, port, "second", pause=None)
        else:
            wait_for_http(f"{base}/healthz", proc=proc, timeout=40)   # a new worker
        again = do(base, world)
        assert again.status_code in (200, 302), again.text[:300]
        assert _state(app, world) == {**before, **done(before)}
    finally:
        stop(proc)
