"""The card administrator's pages: upload → plan → settle a proposal → apply → export;
a bad file is listed with its rows and nothing is kept; pupils are listed and searched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.app import create_app
from server.cli import main
from server.demo import DEMO_PASSWORD
from server.extensions import db
from tests.conftest import AuthActions, World
from tests.server.test_pupil_sync import CARDS, REGISTER


def upload(client: FlaskClient, world: World, register: bytes, cards: bytes) -> object:
    return client.post("/pupils/sync", data={
        "school_id": str(world.ids["a"]),
        "register": (io.BytesIO(register), "register.csv"),
        "cards": (io.BytesIO(cards), "cards.csv")}, content_type="multipart/form-data")


def test_upload_plan_settle_apply_and_export(client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    auth.login("card_admin")
    assert 'data-nav="pupils.index"' in client.get("/").get_data(as_text=True)
    cards = CARDS + "0004;;активна;Смирнова;Анна;Игоревна;09.07.2013;8А\n"
    r = upload(client, world, REGISTER.encode("cp1251"), cards.encode())
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]  # type: ignore[attr-defined]
    run_url = r.headers["Location"]  # type: ignore[attr-defined]
    page = client.get(run_url).get_data(as_text=True)
    assert "Proposed matches: 1" in page and "Cards to block: 1" in page
    assert "7А</del> → <ins>7Б" in page
    run_id = run_url.rstrip("/").split("/")[-1]
    r2 = client.post(f"/pupils/sync/{run_id}/decide", data={
        "verdict": "confirmed", "register_id": "R2", "card_number": "0004"},
        follow_redirects=True)
    page = r2.get_data(as_text=True)
    assert "the plan is updated" in page and "Proposed matches" not in page
    assert "Register ID: <del>—</del> → <ins>R2</ins>" in page
    r3 = client.post(f"/pupils/sync/{run_id}/apply", follow_redirects=True)
    page = r3.get_data(as_text=True)
    assert 'data-testid="report"' in page and "3 pupils added" in page
    csv = client.get(f"/pupils/sync/{run_id}/changes.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["Content-Disposition"]
    text = csv.get_data().decode("utf-8-sig")
    assert "update;0004;R2" in text and "block;0003;R3" in text
    assert client.get(f"/pupils/sync/{run_id}/photos.zip").mimetype == "application/zip"
    # Applied runs cannot be applied again; the pupils are listed.
    again = client.post(f"/pupils/sync/{run_id}/apply", follow_redirects=True)
    assert "applied already" in again.get_data(as_text=True)
    listing = client.get(f"/pupils/?school_id={world.ids['a']}&q=смирн").get_data(
        as_text=True)
    assert "Смирнова Анна" in listing and "Иванов" not in listing
    assert "0004 · active" in listing


def test_a_bad_file_lists_its_problems(client: FlaskClient, world: World,
                                       auth: AuthActions) -> None:
    auth.login("card_admin")
    broken = REGISTER + "R4;Орлова;Вера;;31.02.2014;2А;обучается;\n"
    r = upload(client, world, broken.encode(), b"")
    assert r.status_code == 422  # type: ignore[attr-defined]
    page = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'data-testid="sync-problems"' in page
    assert "row 5, column “Дата рождения”: “31.02.2014” is not a date" in page
    assert "cards.csv: The file is empty." in page


@pytest.mark.slow
def test_the_demo_plans_the_usual_problems(tmp_path: Path) -> None:
    inst = str(tmp_path / "demo")
    result = CliRunner().invoke(main, ["--instance", inst, "demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    app = create_app(test_config={"WTF_CSRF_ENABLED": False}, instance_path=inst)
    client = app.test_client()
    assert client.post("/login", data={"username": "cards", "password": DEMO_PASSWORD}
                       ).status_code == 302
    page = client.get("/pupils/sync").get_data(as_text=True)
    # The demo's card administrator works in Russian.
    assert "register.csv, cards.csv" in page and "План (пробный прогон)" in page
    with app.app_context():
        from server.models.pupils import PupilRow, SyncRun

        run = db.session.scalars(select(SyncRun).where(SyncRun.status == "planned")
                                 .order_by(SyncRun.id)).first()
        assert run is not None
        assert {k: run.counts[k] for k in ("block_card", "duplicate_pupil", "duplicate_cards",
                                           "propose_match", "conflict", "update_card")} == {
            "block_card": 5, "duplicate_pupil": 1, "duplicate_cards": 1, "propose_match": 1,
            "conflict": 1, "update_card": 2}
        assert db.session.scalar(select(func.count()).select_from(PupilRow)) == 720
    plan = client.get(f"/pupils/sync/{run.id}").get_data(as_text=True)
    assert "Заблокировать карты: 5" in plan and "Возможные дубли: 1" in plan
    # The Gymnasium's register on disk is a Windows-1251 export.
    raw = (Path(inst) / "demo-sync" / "G9" / "register.csv").read_bytes()
    assert "Фамилия".encode("cp1251") in raw


def test_saved_column_names_read_an_odd_export(client: FlaskClient, world: World,
                                                auth: AuthActions) -> None:
    auth.login("card_admin")
    odd = "Шифр;Фамилия;Имя\nA-1;Орлова;Вера\n".encode()
    r = upload(client, world, odd, "Номер;Статус\n1;активна\n".encode())
    page = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert r.status_code == 422 and "No column for “id”" in page  # type: ignore[attr-defined]
    bad = client.post("/pupils/sync/columns", data={
        "school_id": world.ids["a"], "register_mapping": "Шифр = id_of_pupil",
        "cards_mapping": ""})
    assert bad.status_code == 422
    assert "“id_of_pupil” is not a field" in bad.get_data(as_text=True)
    ok = client.post("/pupils/sync/columns", data={
        "school_id": world.ids["a"], "register_mapping": "Шифр = register_id",
        "cards_mapping": "Номер = number"}, follow_redirects=True)
    assert "Column names saved" in ok.get_data(as_text=True)
    assert "Шифр = register_id" in ok.get_data(as_text=True)
    r = upload(client, world, odd, "Номер;Статус\n1;активна\n".encode())
    assert r.status_code == 302  # type: ignore[attr-defined]


def test_a_long_sync_reports_its_progress_to_the_person_who_started_it(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    from server import progress

    auth.login("card_admin")
    token = "t" * 20
    with app.test_request_context():
        from server.models.users import User

        me = db.session.scalars(select(User).where(User.username == "card-admin")).one()
        tracker = progress.ProgressFile(token, me.id)
    tracker("pupils", 5000, 100000)
    state = client.get(f"/pupils/progress/{token}").get_json()
    assert state == {"step": "pupils", "done": 5000, "total": 100000,
                     "label": "Writing the pupils: 5,000 of 100,000…"}
    # Nobody else reads it; a made-up or malformed token is simply unknown.
    other = app.test_client()
    AuthActions(other).login("admin")
    assert other.get(f"/pupils/progress/{token}").status_code == 403
    with app.test_request_context():
        assert progress.read(token, None) is None
    assert client.get("/pupils/progress/" + "u" * 20).status_code == 404
    assert client.get("/pupils/progress/..%2F..%2Fsecret_key").status_code == 404
    tracker.close()
    assert client.get(f"/pupils/progress/{token}").status_code == 404
    # A sync sent with a token works as before and leaves no progress file behind.
    r = client.post("/pupils/sync", data={
        "school_id": str(world.ids["a"]), "progress": "p" * 24,
        "register": (io.BytesIO(REGISTER.encode("cp1251")), "register.csv"),
        "cards": (io.BytesIO(CARDS.encode()), "cards.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    assert not list((Path(app.instance_path) / "progress").glob("*.json"))
