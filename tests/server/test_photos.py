"""Pupils' photos in the server: upload with a frame, history, the same picture kept once,
private serving, the sync plan and export use them, retention removes them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from server.extensions import db
from server.models.pupils import PupilPhoto
from server.services import photos, pupil_sync
from tests.conftest import AuthActions, World
from tests.server.test_pupil_sync import CARDS, REGISTER, ctx_of, files
from tests.sync.test_photos import jpeg, textured


def test_upload_history_and_private_serving(app: Flask, client: FlaskClient, world: World,
                                            auth: AuthActions) -> None:
    auth.login("card_admin")
    pupil_id = world.tt["pupil_a"]
    page = client.get(f"/pupils/{pupil_id}").get_data(as_text=True)
    assert 'data-testid="current-photo"' in page           # the world's photo
    first = jpeg(textured((900, 1200)))
    r = client.post(f"/pupils/{pupil_id}/photo", data={
        "photo": (io.BytesIO(first), "phone.jpg"), "x0": "0.1", "y0": "0.1", "x1": "0.6",
        "y1": "0.7667"}, content_type="multipart/form-data", follow_redirects=True)
    assert "Photo saved." in r.get_data(as_text=True)
    with app.app_context():
        rows = list(db.session.scalars(select(PupilPhoto).where(
            PupilPhoto.pupil_id == pupil_id).order_by(PupilPhoto.id)))
        assert [p.current for p in rows] == [False, True]
        current = rows[-1]
    served = client.get(f"/pupils/photos/{current.id}.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "private, no-store"
    assert Image.open(io.BytesIO(served.data)).size == (450, 600)
    # The same picture again is not stored twice; it becomes current again.
    again = client.post(f"/pupils/{pupil_id}/photo", data={
        "photo": (io.BytesIO(first), "phone.jpg"), "x0": "0.1", "y0": "0.1", "x1": "0.6",
        "y1": "0.7667"}, content_type="multipart/form-data", follow_redirects=True)
    assert "was there already" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(PupilPhoto).filter(PupilPhoto.pupil_id == pupil_id).count() == 2
    # Not a picture: said, nothing stored.
    bad = client.post(f"/pupils/{pupil_id}/photo", data={
        "photo": (io.BytesIO(b"<html></html>"), "x.jpg")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "not a JPEG, PNG, WebP or HEIC picture" in bad.get_data(as_text=True)
    # Other staff do not see pupils' photos.
    other = app.test_client()
    AuthActions(other).login("content_manager")
    assert other.get(f"/pupils/photos/{current.id}.jpg").status_code == 403


def test_photos_feed_the_plan_and_the_export(app: Flask, world: World) -> None:
    register = REGISTER.replace("R2;Смирнова;Анна;Игоревна;09.07.2013;8А;обучается;",
                                "R2;Смирнова;Анна;Игоревна;09.07.2013;8А;обучается;")
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"],
                                                      *files(register)).id)
        db.session.commit()
        from server.models.pupils import PupilRow

        petr = db.session.scalars(select(PupilRow).where(PupilRow.register_id == "R1")).one()
        petr.consent_given = True
        photos.add_photo(ctx, petr, jpeg(textured((900, 1200))))
        db.session.commit()
        run = pupil_sync.plan_run(ctx, world.ids["a"], *files(register))
        missing = {a["pupil_id"] for a in run.plan if a["kind"] == "photo_missing"}
        assert "R1" not in missing and "R2" in missing
        # A class change for R1 goes out with R1's photo (consent recorded in Vitrina).
        moved = register.replace("R1;Иванов;Пётр;Сергеевич;02.03.2014;7Б",
                                 "R1;Иванов;Пётр;Сергеевич;02.03.2014;7В")
        done = pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"],
                                                             *files(moved, CARDS)).id)
        db.session.commit()
        export = pupil_sync.export_of(ctx, done)
        names = zipfile.ZipFile(io.BytesIO(export.photos_zip)).namelist()
        assert "0001.jpg" in names


def test_retention_removes_photo_files(app: Flask, world: World) -> None:
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"], *files()).id)
        db.session.commit()
        from server.models.pupils import PupilRow
        from server.services.context import system_ctx

        ilya = db.session.scalars(select(PupilRow).where(PupilRow.register_id == "R3")).one()
        added = photos.add_photo(ctx, ilya, jpeg(textured((600, 800))))
        db.session.commit()
        path = photos.store().path_for(added.photo.sha256, "jpeg")
        assert path.exists()
        later = date(2026, 9, 1) + timedelta(days=app.config["PUPIL_RETENTION_DAYS"] + 1)
        totals = pupil_sync.purge_expired(system_ctx(db.session, "retention"), later)
        assert totals["photos"] == 1 and path.exists()      # not before the commit
        db.session.commit()
        assert not path.exists()


def test_a_consent_on_paper_is_recorded_and_audited(app: Flask, client: FlaskClient,
                                                     world: World, auth: AuthActions) -> None:
    from server.models.audit import AuditEvent
    from server.models.pupils import PupilRow

    auth.login("card_admin")
    pupil_id = world.tt["pupil_a"]
    url = f"/pupils/{pupil_id}/consent"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for form, says in (({"given": "no", "consent_on": tomorrow, "consent_source": "form"},
                        "The date is in the future."),
                       ({"given": "no", "consent_on": "2026-02-30", "consent_source": "f"},
                        "The date is not valid."),
                       ({"given": "no", "consent_on": "2026-09-01", "consent_source": "  "},
                        "Say how the school knows"),
                       ({"given": "maybe", "consent_on": "2026-09-01",
                         "consent_source": "form"}, "given or withdrawn")):
        r = client.post(url, data=form, follow_redirects=True)
        assert says in r.get_data(as_text=True), says
    with app.app_context():
        pupil = db.session.get(PupilRow, pupil_id)
        assert pupil is not None and pupil.consent_given is True     # unchanged
    r = client.post(url, data={"given": "no", "consent_on": "2026-09-01",
                               "consent_source": "parents' letter"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Withdrawal recorded" in page and "withdrawn" in page
    with app.app_context():
        pupil = db.session.get(PupilRow, pupil_id)
        assert pupil is not None
        assert (pupil.consent_given, pupil.consent_on, pupil.consent_source) == (
            False, date(2026, 9, 1), "parents' letter")
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "pupil.consent")).one()
        assert "withdrawn" in event.summary


def test_the_card_photo_format_follows_the_configuration(app: Flask, client: FlaskClient,
                                                         world: World,
                                                         auth: AuthActions) -> None:
    app.config.update(PHOTO_CARD_WIDTH=300, PHOTO_CARD_HEIGHT=300)
    auth.login("card_admin")
    pupil_id = world.tt["pupil_a"]
    page = client.get(f"/pupils/{pupil_id}").get_data(as_text=True)
    assert 'data-aspect="1.0"' in page and "300×300 pixels" in page
    client.post(f"/pupils/{pupil_id}/photo", data={
        "photo": (io.BytesIO(jpeg(textured())), "phone.jpg")},
        content_type="multipart/form-data")
    with app.app_context():
        current = db.session.scalars(select(PupilPhoto).where(
            PupilPhoto.pupil_id == pupil_id, PupilPhoto.current.is_(True))).one()
        assert (current.width, current.height) == (300, 300)
    served = client.get(f"/pupils/photos/{current.id}.jpg")
    assert Image.open(io.BytesIO(served.data)).size == (300, 300)
