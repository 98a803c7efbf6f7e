"""Photos for many pupils: upload a ZIP or a folder, see who gets which, confirm — and
nothing is written before that."""

from __future__ import annotations

import gc
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.models.audit import AuditEvent
from server.models.base import utcnow
from server.models.pupils import PhotoBatch, PupilPhoto, PupilRow
from server.services import photo_batches, pupil_sync
from sync.photo_batch import Member
from tests.conftest import AuthActions, World
from tests.server.test_pupil_sync import REGISTER, ctx_of, files
from tests.sync.test_photos import jpeg, textured

# Werkzeug's test client spools a multipart body over 500 KB to a temporary file that it
# never closes (werkzeug.test.stream_encode_multipart); collected here, inside the test
# that made it, its ResourceWarning is about the test client, not about Vitrina.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def _collect_spool_files() -> Iterator[None]:
    yield
    gc.collect()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _photo_count() -> int:
    return db.session.scalar(select(func.count()).select_from(PupilPhoto)) or 0


def _registered(app: Flask, world: World) -> None:
    """School A's register applied: R1 Иванов Пётр (card 0001), R2 Смирнова Анна, R3 left,
    R4 Попова Мария."""
    register = REGISTER + "R4;Попова;Мария;;05.05.2013;8А;обучается;\n"
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"],
                                                      *files(register)).id)
        db.session.commit()


def _check_all(client: FlaskClient, batch_id: int) -> list[dict[str, object]]:
    states = []
    for _ in range(50):
        r = client.post(f"/pupils/photos/batches/{batch_id}/check",
                        headers={"Accept": "application/json"})
        assert r.status_code == 200
        states.append(r.get_json())
        if r.get_json()["status"] != "checking":
            break
    return states


def test_a_zip_is_matched_checked_and_written_only_when_confirmed(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    _registered(app, world)
    auth.login("card_admin")
    with app.app_context():
        before = _photo_count()
    archive = _zip({
        "7Б/0001.jpg": jpeg(textured((900, 1200))),
        "8А/Смирнова_Анна.JPG": jpeg(textured((1200, 1600))),
        "0003.jpg": jpeg(textured()),                       # R3's card: R3 has left
        "Петров Иван.jpg": jpeg(textured()),                 # nobody of that name
        "R4.jpg": b"<html>not a photo</html>",               # matched, but refused
        "list.xlsx": b"PK...",
        "__MACOSX/._R1.jpg": b"junk",
    })
    r = client.post("/pupils/photos/import", data={
        "school_id": str(world.ids["a"]), "archive": (io.BytesIO(archive), "class photos.zip")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    batch_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/pupils/photos/batches/{batch_id}").get_data(as_text=True)
    assert 'data-testid="batch-progress"' in page and "0 of 3" in page
    states = _check_all(client, batch_id)
    assert states[-1] == {"status": "ready", "done": 3, "total": 3}
    with app.app_context():
        assert _photo_count() == before                     # nothing written yet
    page = client.get(f"/pupils/photos/batches/{batch_id}").get_data(as_text=True)
    matched = page.split('data-testid="batch-matched"')[1].split("</table>")[0]
    assert "Иванов Пётр" in matched and "Смирнова Анна" in matched
    assert ">card number<" in matched and ">name<" in matched
    left_out = page.split('data-testid="batch-left-out"')[1].split("</table>")[0]
    assert "0003.jpg" in left_out and "the pupil has left the school" in left_out
    assert "Петров Иван.jpg" in left_out and "no pupil has this register ID" in left_out
    assert "list.xlsx" in left_out and "not a photo" in left_out
    assert "R4.jpg" in left_out and "not a JPEG, PNG, WebP or HEIC picture" in left_out
    assert "__MACOSX" not in page
    assert "2 photos will be saved." in page
    # The staged card picture is shown, privately.
    n = int(re.search(r"/batches/\d+/(\d+)\.jpg", matched).group(1))  # type: ignore[union-attr]
    staged = client.get(f"/pupils/photos/batches/{batch_id}/{n}.jpg")
    assert staged.headers["Cache-Control"] == "private, no-store"
    assert Image.open(io.BytesIO(staged.data)).size == (450, 600)

    done = client.post(f"/pupils/photos/batches/{batch_id}/apply", follow_redirects=True)
    assert "2 photos saved." in done.get_data(as_text=True)
    with app.app_context():
        assert _photo_count() == before + 2
        got = dict(db.session.execute(select(PupilRow.register_id, PupilPhoto.source).join(
            PupilPhoto, PupilPhoto.pupil_id == PupilRow.id).where(
            PupilPhoto.current.is_(True), PupilRow.register_id.in_(["R1", "R2"]))).all())
        assert got == {"R1": "batch", "R2": "batch"}
        batch = db.session.get(PhotoBatch, batch_id)
        assert batch is not None and batch.report == {"added": 2, "same": 0, "skipped": 4}
        assert not photo_batches_dir(app, batch_id).exists()    # staging removed
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"photo_batch.start", "photo_batch.apply", "photo.add"} <= actions
    # Confirming twice does nothing more.
    again = client.post(f"/pupils/photos/batches/{batch_id}/apply", follow_redirects=True)
    assert "not ready" in again.get_data(as_text=True)
    with app.app_context():
        assert _photo_count() == before + 2
    assert client.get(f"/pupils/photos/batches/{batch_id}/{n}.jpg").status_code == 404


def photo_batches_dir(app: Flask, batch_id: int) -> Path:
    return Path(app.config["PHOTO_DIR"]) / "batches" / str(batch_id)


def test_a_folder_upload_and_discarding_it(app: Flask, client: FlaskClient, world: World,
                                           auth: AuthActions) -> None:
    _registered(app, world)
    auth.login("card_admin")
    r = client.post("/pupils/photos/import", data={
        "school_id": str(world.ids["a"]),
        "files": [(io.BytesIO(jpeg(textured())), "day/Иванов Пётр.jpg"),
                  (io.BytesIO(jpeg(textured())), "day/R1.png"),
                  (io.BytesIO(b""), "day/.DS_Store")]},
        content_type="multipart/form-data")
    assert r.status_code == 302
    batch_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/pupils/photos/batches/{batch_id}").get_data(as_text=True)
    # Both name one pupil: neither is taken, and the page says why.
    assert "more than one file for this pupil" in page
    assert "<h1>day " in page
    assert page.count("more than one file for this pupil") == 2
    assert photo_batches_dir(app, batch_id).exists()
    r = client.post(f"/pupils/photos/batches/{batch_id}/discard", follow_redirects=True)
    assert "Discarded; nothing was written." in r.get_data(as_text=True)
    assert not photo_batches_dir(app, batch_id).exists()


def test_bad_uploads_are_said_and_leave_nothing(app: Flask, client: FlaskClient,
                                                world: World, auth: AuthActions) -> None:
    auth.login("card_admin")
    with app.app_context():
        batches = db.session.scalar(select(func.count()).select_from(PhotoBatch))
    for data, says in (
            ({}, "Choose a ZIP archive or a folder of photos."),
            ({"archive": (io.BytesIO(b"not a zip"), "photos.zip")}, "not a ZIP archive"),
            ({"archive": (io.BytesIO(_zip({})), "empty.zip")}, "There are no files in it."),
            ({"archive": (io.BytesIO(_zip({"R1.jpg": b"\0" * (31 * 2**20)})), "bomb.zip")},
             "larger than 30 MB")):
        r = client.post("/pupils/photos/import", data={"school_id": str(world.ids["a"]),
                                                       **data},
                        content_type="multipart/form-data")
        assert r.status_code == 422, says
        assert says in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PhotoBatch)) == batches
    # Another school's import is not this card administrator's.
    r = client.post("/pupils/photos/import", data={
        "school_id": str(world.ids["b"]), "archive": (io.BytesIO(_zip({"B9.jpg": b"x"})),
                                                      "b.zip")},
        content_type="multipart/form-data")
    assert r.status_code == 403


def test_an_upload_larger_than_the_usual_limit_is_taken_for_photos_only(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login("card_admin")
    app.config["MAX_CONTENT_LENGTH"] = 2**20
    big = _zip({f"R{n}.jpg": jpeg(textured((1200, 1600))) for n in range(4)}) + b"\0" * 2**20
    r = client.post("/pupils/photos/import", data={
        "school_id": str(world.ids["a"]), "archive": (io.BytesIO(big), "big.zip")},
        content_type="multipart/form-data")
    assert r.status_code != 413
    r = client.post("/pupils/sync", data={
        "school_id": str(world.ids["a"]), "register": (io.BytesIO(big), "r.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 413


def test_dropped_files_join_one_batch_and_unconfirmed_batches_expire(
        app: Flask, world: World) -> None:
    _registered(app, world)
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        batch = photo_batches.start_batch(ctx, world.ids["a"], "drop",
                                          [Member("R1.jpg", jpeg(textured()))], source="drop")
        photo_batches.check(ctx, batch)
        db.session.commit()
        assert photo_batches.open_drop_batch(db.session, world.ids["a"]) is batch
        # A second file for R1 dropped later: both are held back; a file for R2 is checked.
        photo_batches.add_members(ctx, batch, [Member("Иванов Пётр.jpg", jpeg(textured())),
                                               Member("R2.jpg", jpeg(textured()))])
        assert batch.status == "checking"
        photo_batches.check(ctx, batch)
        assert [(i["name"], i["state"]) for i in batch.items] == [
            ("R1.jpg", "skipped"), ("Иванов Пётр.jpg", "skipped"), ("R2.jpg", "ok")]
        db.session.commit()
        folder = photo_batches.staging(batch)
        assert folder.exists()
        batch.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
        assert pupil_sync.purge_expired(ctx)["photo_batches"] == 1
        db.session.commit()
        assert batch.status == "discarded" and not folder.exists()


def test_photos_dropped_in_the_school_folder_wait_for_confirmation(
        app: Flask, world: World, tmp_path: Path) -> None:
    from server.sync_drop import prepare_folders, sync_drop_folder

    _registered(app, world)
    app.config["SYNC_DROP_DIR"] = str(tmp_path / "sync-drop")
    school_a = {p.name.split("-", 1)[0]: p for p in prepare_folders(app)}[str(world.ids["a"])]
    assert "«Фамилия Имя»" in (school_a / "README.txt").read_text()     # the school's language
    folder = sync_drop_folder(app, settle=0)
    with app.app_context():
        before = _photo_count()
    (school_a / "picture day.zip").write_bytes(_zip({"R1.jpg": jpeg(textured()),
                                                     "R2.jpg": jpeg(textured())}))
    folder.process()
    assert [o.status for o in folder.process()] == ["imported"]
    (school_a / "Попова Мария.jpg").write_bytes(jpeg(textured()))
    (school_a / "R9.jpg").write_bytes(jpeg(textured()))
    folder.process()
    assert [o.status for o in folder.process()] == ["imported", "imported"]
    (school_a / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    folder.process()
    assert [o.status for o in folder.process()] == ["rejected"]
    assert "broken.zip: Файл не является ZIP-архивом" in (
        school_a / "rejected" / "broken.zip.reason.txt").read_text()
    with app.app_context():
        assert _photo_count() == before               # nothing written before confirming
        batches = list(db.session.scalars(select(PhotoBatch).where(
            PhotoBatch.source.in_(["drop", "drop_zip"])).order_by(PhotoBatch.id)))
        assert [(b.name, b.status) for b in batches] == [("picture day.zip", "ready"),
                                                         ("Папка для файлов", "ready")]
        loose = batches[1]
        assert sorted((i["name"], i["state"], i["problem"]) for i in loose.items) == [
            ("R9.jpg", "skipped", "no_match"), ("Попова Мария.jpg", "ok", "")]
    client = app.test_client()
    AuthActions(client).login("card_admin")
    page = client.get(f"/pupils/?school_id={world.ids['a']}").get_data(as_text=True)
    assert 'data-testid="dropped-photos"' in page
    assert f"/pupils/photos/batches/{loose.id}" in page
    r = client.post(f"/pupils/photos/batches/{loose.id}/apply", follow_redirects=True)
    assert "1 photo saved." in r.get_data(as_text=True)
    with app.app_context():
        assert _photo_count() == before + 1
        assert db.session.scalar(select(PupilPhoto.source).join(
            PupilRow, PupilRow.id == PupilPhoto.pupil_id).where(
            PupilRow.register_id == "R4")) == "drop"
