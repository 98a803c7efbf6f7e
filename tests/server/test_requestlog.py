"""Every answer carries a request ID; with LOG_FORMAT = "json" each request is one JSON log
line with the route (never the query string), status, time and who."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions, World


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"LOG_FORMAT": "json"}


def test_request_ids_and_json_lines(client: FlaskClient, world: World,
                                    caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("vitrina.request")
    logger.addHandler(caplog.handler)
    try:
        AuthActions(client).login("card_admin")
        caplog.clear()
        r = client.get("/pupils/?q=Орлова", headers={"X-Request-ID": "proxy-given-1234"})
        assert r.headers["X-Request-ID"] == "proxy-given-1234"
        made_up = client.get("/healthz", headers={"X-Request-ID": "bad id"})
        assert len(made_up.headers["X-Request-ID"]) == 32
        lines = [json.loads(rec.getMessage()) for rec in caplog.records
                 if rec.name == "vitrina.request"]
    finally:
        logger.removeHandler(caplog.handler)
    first, second = lines
    assert first["request_id"] == "proxy-given-1234" and first["status"] == 200
    assert first["route"] == "/pupils/" and first["user"] == "card-admin"
    assert "Орлова" not in json.dumps(first, ensure_ascii=False)     # no query string
    assert second["route"] == "/healthz" and second["user"] is None
    assert second["ms"] >= 0
