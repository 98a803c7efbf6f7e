"""An applied run's export sent to a card system over real HTTP: the files, the key
header and the idempotency key arrive; a busy card system is retried; a refusal is noted
on the run (which stays applied) and can be sent again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEvent
from server.models.pupils import SyncRun
from tests.conftest import AuthActions, World
from tests.server.test_pupil_sync import CARDS, REGISTER


class CardSystem(BaseHTTPRequestHandler):
    #: Statuses to answer, in turn (then 200).
    answers: list[int] = []
    received: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = CardSystem.answers.pop(0) if CardSystem.answers else 200
        if status == 200:
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
            parts = {p.get_param("name", header="content-disposition"):
                     p.get_payload(decode=True) for p in message.iter_parts()}
            CardSystem.received.append({"auth": self.headers.get("Authorization"),
                                        "key": self.headers.get("Idempotency-Key"),
                                        "path": self.path, "parts": parts})
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def card_system() -> Iterator[str]:
    CardSystem.answers, CardSystem.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CardSystem)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/vitrina"
    server.shutdown()
    server.server_close()


def _plan(client: FlaskClient, world: World) -> int:
    import io

    r = client.post("/pupils/sync", data={
        "school_id": str(world.ids["a"]),
        "register": (io.BytesIO(REGISTER.encode("cp1251")), "register.csv"),
        "cards": (io.BytesIO(CARDS.encode()), "cards.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_an_applied_run_is_sent_and_a_failure_can_be_sent_again(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions,
        card_system: str) -> None:
    auth.login("card_admin")
    school = world.ids["a"]
    # Wrong settings are said and not saved.
    for form, says in (({"push_url": "ftp://cards"}, "https://"),
                       ({"push_url": card_system, "push_auth": "Bearer abc"},
                        "Authorization: Bearer")):
        r = client.post(f"/pupils/sync/push-settings?school_id={school}", data=form)
        assert r.status_code == 422 and says in r.get_data(as_text=True)
    r = client.post(f"/pupils/sync/push-settings?school_id={school}", data={
        "push_url": card_system, "push_auth": "Authorization: Bearer sekret"})
    assert r.status_code == 302
    page = client.get(f"/pupils/sync?school_id={school}").get_data(as_text=True)
    assert card_system in page and "sekret" not in page          # the key is never shown

    CardSystem.answers = [503]              # busy once: retried
    run_id = _plan(client, world)
    r = client.post(f"/pupils/sync/{run_id}/apply", follow_redirects=True)
    assert "Applied and sent to the card system." in r.get_data(as_text=True)
    (sent,) = CardSystem.received
    assert sent["auth"] == "Bearer sekret" and sent["path"] == "/api/vitrina"
    assert sent["key"] == f"vitrina-{school}-run-{run_id}"
    assert sent["parts"]["changes"].startswith("\ufeffaction;".encode())
    assert sent["parts"]["photos"][:2] == b"PK"
    downloaded = client.get(f"/pupils/sync/{run_id}/changes.csv").data
    assert sent["parts"]["changes"] == downloaded

    # Refused: the run stays applied, the page says why, and it can be sent again.
    CardSystem.answers = [401]
    run2 = _plan(client, world)
    r = client.post(f"/pupils/sync/{run2}/apply", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Applied, but not sent to the card system" in page
    assert "refused the credentials (401)" in page and 'data-testid="push-status"' in page
    with app.app_context():
        run = db.session.get(SyncRun, run2)
        assert run is not None and run.status == "applied"
        assert run.report["push"]["ok"] is False
    r = client.post(f"/pupils/sync/{run2}/push", follow_redirects=True)
    assert "Sent to the card system." in r.get_data(as_text=True)
    assert [s["key"] for s in CardSystem.received] == [f"vitrina-{school}-run-{run_id}",
                                                      f"vitrina-{school}-run-{run2}"]
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("sync.push%"))))
        assert events.count("sync.push") == 3 and "sync.push_settings" in events
        assert not any("sekret" in str(e.details) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("sync.push%"))))
