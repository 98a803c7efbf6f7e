"""/metrics: requests by route and status with latencies, displays by health, sync runs,
photo rejections, backup age and jobs — only for monitoring; and under gunicorn the
workers' counts add up."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from server import jobs
from server.backup import back_up
from server.extensions import db
from server.services import displays
from server.services.context import system_ctx
from tests.conftest import AuthActions, World, bearer
from tests.helpers import free_port, stop, vitrina, wait_for_http

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _scrape(client: FlaskClient, **kwargs: Any) -> Samples:
    r = client.get("/metrics", **kwargs)
    assert r.status_code == 200, r.status_code
    assert r.mimetype == "text/plain"
    return _parse(r.get_data(as_text=True))


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_and_status(client: FlaskClient, world: World) -> None:
    route = "/api/v1/orgs/<int:org_id>"
    before = _scrape(client)
    admin = bearer(world.tokens["admin"])
    for _ in range(3):
        assert client.get(f"/api/v1/orgs/{world.ids['a']}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/orgs/{world.ids['b']}",
                      headers=bearer(world.tokens["content_manager"])).status_code == 403
    for n in range(4):       # unknown URLs share one label, whatever their path
        assert client.get(f"/no/such/page/{n}").status_code == 404
    after = _scrape(client)
    get = {"method": "GET", "route": route}
    assert _value(after, "vitrina_http_requests_total", **get, status="200") - \
        _value(before, "vitrina_http_requests_total", **get, status="200") == 3
    assert _value(after, "vitrina_http_requests_total", **get, status="403") - \
        _value(before, "vitrina_http_requests_total", **get, status="403") == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _value(after, "vitrina_http_requests_total", **unmatched) - \
        _value(before, "vitrina_http_requests_total", **unmatched) == 4
    assert not any("/no/such" in str(labels) for _, labels in after)
    assert _value(after, "vitrina_http_request_duration_seconds_count", route=route) - \
        _value(before, "vitrina_http_request_duration_seconds_count", route=route) == 4
    assert _value(after, "vitrina_http_request_duration_seconds_bucket", route=route,
                  le="+Inf") >= 4


def test_the_fleet_sync_runs_backups_and_jobs_are_read_from_the_database(
        app: Flask, client: FlaskClient, world: World, tmp_path: Path) -> None:
    first = _scrape(client)
    assert _value(first, "vitrina_displays", health="never") == 2    # the World's two
    assert _value(first, "vitrina_displays", health="online") == 0
    assert _value(first, "vitrina_sync_runs_total", status="planned") == 2
    assert _value(first, "vitrina_backup_age_seconds") == float("inf")
    assert ("vitrina_job_last_run_ok", frozenset({("job", "backup")})) not in first

    with app.test_request_context():
        _display, token = displays.create_with_token(
            system_ctx(db.session, "test"), {"org_id": world.ids["a"], "name": "Hall"})
        db.session.commit()
    assert client.post("/api/device/v1/heartbeat", json={"uptime": 5},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    back_up(app, None)
    jobs.run_due(app, ["displays.check"])
    later = _scrape(client)
    assert _value(later, "vitrina_displays", health="online") == 1
    assert 0 <= _value(later, "vitrina_backup_age_seconds") < 60
    assert _value(later, "vitrina_job_last_run_ok", job="displays.check") == 1
    assert time.time() - _value(later, "vitrina_job_last_run_timestamp_seconds",
                                job="displays.check") < 60


def test_photos_the_pipeline_refuses_are_counted_by_reason(
        client: FlaskClient, world: World, auth: AuthActions) -> None:
    before = _value(_scrape(client), "vitrina_photo_rejections_total", reason="not_an_image")
    auth.login("card_admin")
    bad = client.post(f"/pupils/{world.tt['pupil_a']}/photo", data={
        "photo": (io.BytesIO(b"<html></html>"), "x.jpg")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "not a JPEG, PNG, WebP or HEIC picture" in bad.get_data(as_text=True)
    after = _value(_scrape(client), "vitrina_photo_rejections_total", reason="not_an_image")
    assert after - before == 1


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW_FROM": ["10.1.0.0/16"],
                                         "METRICS_TOKEN": "scrape-me-please"}])
def test_only_monitoring_finds_the_metrics(client: FlaskClient, world: World,
                                           auth: AuthActions) -> None:
    assert client.get("/metrics").status_code == 404          # loopback not listed here
    auth.login("root_admin")
    assert client.get("/metrics").status_code == 404          # nor is being an admin enough
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.7.9"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"},
                      environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 200


@pytest.mark.slow
def test_under_gunicorn_the_workers_counts_add_up(app: Flask, world: World,
                                                  tmp_path: Path) -> None:
    with app.test_request_context():
        _display, token = displays.create_with_token(
            system_ctx(db.session, "test"), {"org_id": world.ids["a"], "name": "Hall"})
        db.session.commit()
    app.extensions["vitrina.db"].engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"VITRINA_DATABASE_URL": app.config["DATABASE_URL"],
           "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"], "VITRINA_SECRET_KEY": "metrics",
           "VITRINA_ACCESS_LOG": ""}
    proc = vitrina("--instance", str(tmp_path / "node"), "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", "2", "--threads", "4", env=env, log=tmp_path / "serve.log")
    try:
        wait_for_http(f"{base}/healthz", proc=proc, timeout=40)
        for _ in range(40):   # fresh connections, so both workers answer some
            r = requests.get(f"{base}/readyz", timeout=10, headers={"Connection": "close"})
            assert r.status_code == 200
        screen = {"Authorization": f"Bearer {token}"}
        first = requests.get(f"{base}/api/device/v1/manifest", headers=screen, timeout=10)
        etag = first.headers["ETag"]
        for _ in range(10):
            r = requests.get(f"{base}/api/device/v1/manifest", timeout=10,
                             headers={**screen, "If-None-Match": etag, "Connection": "close"})
            assert r.status_code == 304
        text = requests.get(f"{base}/metrics", timeout=10).text
        samples = _parse(text)
        assert _value(samples, "vitrina_http_requests_total", method="GET", route="/readyz",
                      status="200") == 40
        polls = sum(_value(samples, "vitrina_manifest_polls_total", answer=a)
                    for a in ("fast", "unchanged", "changed"))
        assert polls == 11
        assert _value(samples, "vitrina_manifest_polls_total", answer="changed") == 1
        assert _value(samples, "vitrina_http_requests_total", method="GET", status="304",
                      route="/api/device/v1/manifest") == 10
        pids = {line.split("pid: ")[1].rstrip(")") for line in
                (tmp_path / "serve.log").read_text().splitlines() if "Booting worker" in line}
        assert len(pids) == 2
    finally:
        stop(proc)
