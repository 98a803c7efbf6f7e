"""Sync runs in the server: plan, apply in one transaction, the same files again change
nothing, pending card changes become done when the card list shows them, bad files are
refused whole, and a process killed in the middle of an apply leaves the database as it
was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from server.cli import main
from server.errors import Forbidden, Invalid
from server.extensions import db
from server.models.pupils import CardRow, PupilRow, SyncAction, SyncRun
from server.models.users import User
from server.services import pupil_sync
from server.services.context import Ctx, principal_for
from tests.conftest import World
from tests.helpers import VITRINA

REGISTER = ("ID;Фамилия;Имя;Отчество;Дата рождения;Класс;Статус;Дата выбытия\n"
            "R1;Иванов;Пётр;Сергеевич;02.03.2014;7Б;обучается;\n"
            "R2;Смирнова;Анна;Игоревна;09.07.2013;8А;обучается;\n"
            "R3;Кузнецов;Илья;;01.01.2012;9В;выбыл;01.09.2026\n")
CARDS = ("Номер карты;ID ученика;Статус;Фамилия;Имя;Отчество;Дата рождения;Класс\n"
         "0001;R1;активна;Иванов;Пётр;Сергеевич;02.03.2014;7А\n"
         "0003;R3;активна;Кузнецов;Илья;;01.01.2012;9В\n")


def files(register: str = REGISTER, cards: str = CARDS) -> tuple[tuple[str, bytes],
                                                                  tuple[str, bytes]]:
    return ("register.csv", register.encode("cp1251")), ("cards.csv", cards.encode())


def ctx_of(role: str) -> Ctx:
    user = db.session.scalars(select(User).where(User.username == role.replace("_", "-"))).one()
    return Ctx(db.session, principal_for(db.session, user), role)


def count(model: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


def test_plan_apply_and_the_same_files_again(app: Flask, world: World) -> None:
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        run = pupil_sync.plan_run(ctx, world.ids["a"], *files())
        # (A9, a pupil the world knows with a photo, is not in this register: left.)
        assert run.counts == {"issue_card": 1, "block_card": 1, "update_card": 1,
                              "photo_missing": 2, "pupil_new": 3, "pupil_left": 1}
        assert count(PupilRow) == 2          # a plan changes nothing (the world's two)
        db.session.commit()
        done = pupil_sync.apply_run(ctx, run.id)
        db.session.commit()
        assert done.status == "applied" and done.report["pupils_added"] == 3
        assert done.report["card_changes_sent"] == 3
        rows = {p.register_id: p for p in db.session.scalars(select(PupilRow))}
        assert (rows["R1"].class_name, rows["R3"].status) == ("7Б", "left")
        export = pupil_sync.export_of(ctx, done).changes_csv.decode("utf-8-sig")
        assert "block;0003;R3" in export and "update;0001;R1" in export
        assert "issue;;R2" in export
        # The same files again: nothing to write, nothing to send.
        again = pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"],
                                                              *files()).id)
        db.session.commit()
        assert {k: v for k, v in again.report.items() if isinstance(v, int)} == dict.fromkeys(
            ("pupils_added", "pupils_changed", "cards_added", "cards_changed", "cards_gone",
             "card_changes_sent", "card_changes_done", "photos_exported",
             "photos_without_consent"), 0)
        assert count(SyncAction) == 3
        # The card system did it all: its new list shows the changes, which become done.
        processed = CARDS.replace("0001;R1;активна;Иванов;Пётр;Сергеевич;02.03.2014;7А",
                                  "0001;R1;активна;Иванов;Пётр;Сергеевич;02.03.2014;7Б") \
            .replace("0003;R3;активна", "0003;R3;заблокирована") \
            + "0009;R2;активна;Смирнова;Анна;Игоревна;09.07.2013;8А\n"
        third = pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"],
                                                              *files(cards=processed)).id)
        db.session.commit()
        assert (third.report["card_changes_done"], third.report["card_changes_sent"]) == (3, 0)
        states = set(db.session.scalars(select(SyncAction.state)))
        assert states == {"done"}
        assert db.session.scalars(select(CardRow.status).where(CardRow.number == "0003")
                                  ).one() == "blocked"


def test_rows_that_only_moved_are_no_change_but_their_place_is_kept(app: Flask,
                                                                    world: World) -> None:
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"], *files()).id)
        db.session.commit()

        def places() -> dict[str, int | None]:
            return dict(db.session.execute(select(PupilRow.register_id,
                                                  PupilRow.register_row)).all())

        assert places()["R1"] == 2 and places()["R3"] == 4
        stamped = db.session.scalars(select(PupilRow.updated_at).where(
            PupilRow.register_id == "R1")).one()
        head, *rows = REGISTER.splitlines(keepends=True)
        card_head, *card_rows = CARDS.splitlines(keepends=True)
        moved = pupil_sync.apply_run(ctx, pupil_sync.plan_run(
            ctx, world.ids["a"], *files(head + "".join(reversed(rows)),
                                        card_head + "".join(reversed(card_rows)))).id)
        db.session.commit()
        assert (moved.report["pupils_changed"], moved.report["cards_changed"]) == (0, 0)
        assert places()["R1"] == 4 and places()["R3"] == 2
        assert dict(db.session.execute(select(CardRow.number, CardRow.list_row))
                    .all()) == {"0001": 3, "0003": 2}
        assert db.session.scalars(select(PupilRow.updated_at).where(
            PupilRow.register_id == "R1")).one() == stamped


def test_bad_files_are_refused_whole_and_nothing_is_stored(app: Flask, world: World) -> None:
    broken = REGISTER + "R4;Орлова;Вера;;31.02.2014;2А;обучается;\n"
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        before = count(SyncRun)
        with pytest.raises(Invalid) as caught:
            pupil_sync.plan_run(ctx, world.ids["a"], *files(register=broken, cards=""))
        fields = [(e.field, e.reason) for e in caught.value.errors]
        assert ("register", "register.csv, row 5, column “Дата рождения”: “31.02.2014” is "
                "not a date (dd.mm.yyyy or yyyy-mm-dd).") in fields
        assert ("cards", "cards.csv: The file is empty.") in fields
        assert count(SyncRun) == before


def test_only_card_admins_of_the_school(app: Flask, world: World) -> None:
    with app.test_request_context():
        for role in ("admin", "content_manager", "viewer", "schedule_dispatcher"):
            with pytest.raises(Forbidden):
                pupil_sync.plan_run(ctx_of(role), world.ids["a"], *files())
        with pytest.raises(Forbidden):
            pupil_sync.plan_run(ctx_of("card_admin"), world.ids["b"], *files())


def test_decisions_settle_a_proposal(app: Flask, world: World) -> None:
    cards = CARDS + "0004;;активна;Смирнова;Анна;Игоревна;09.07.2013;8А\n"
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        run = pupil_sync.plan_run(ctx, world.ids["a"], *files(cards=cards))
        assert run.counts["propose_match"] == 1 and "issue_card" not in run.counts
        with pytest.raises(Invalid):
            pupil_sync.decide(ctx, run, "confirmed", "R1", "0004")   # not what was proposed
        run = pupil_sync.decide(ctx, run, "confirmed", "R2", "0004")
        assert "propose_match" not in run.counts
        link = [a for a in run.plan if a["card_number"] == "0004"]
        assert link[0]["kind"] == "update_card"
        assert link[0]["changes"] == [["pupil_id", "", "R2"]]


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_sync_commands(tmp_path: Path) -> None:
    inst = str(tmp_path / "inst")
    assert _cli("--instance", inst, "demo", "--no-serve")[0] == 0
    (tmp_path / "reg.csv").write_bytes(REGISTER.encode("cp1251"))
    (tmp_path / "cards.csv").write_text(CARDS)
    base = ("--instance", inst, "--register", str(tmp_path / "reg.csv"), "--cards",
            str(tmp_path / "cards.csv"), "--school", "Школа № 41")
    # The demo school knows 300 pupils: a register of 3 looks like a partial export.
    code, out = _cli("sync", "plan", *base)
    assert code == 1 and "lacks 300 of the 300 pupils" in out and "Check the file" in out
    base = (*base, "--confirm-missing")
    code, out = _cli("sync", "plan", *base)
    assert code == 0, out
    assert "Cards to block: 1" in out and "class_name: 7А → 7Б" in out
    code, out = _cli("sync", "plan", *base, "--format", "json")
    assert json.loads(out)["counts"]["pupil_new"] == 3
    code, out = _cli("sync", "apply", *base, "--export-dir", str(tmp_path / "out"))
    assert code == 0 and "3 pupils added, 300 changed" in out
    assert (tmp_path / "out" / "changes.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    code, out = _cli("sync", "apply", *base)
    assert code == 0 and "0 pupils added, 0 changed; 0 card changes sent" in out
    (tmp_path / "bad.csv").write_text("nothing useful\n")
    code, out = _cli("sync", "plan", "--instance", inst, "--register", str(tmp_path / "bad.csv"),
                     "--cards", str(tmp_path / "cards.csv"), "--school", "Школа № 41")
    assert code == 1 and "bad.csv" in out and "No column for “id”" in out


@pytest.mark.slow
def test_a_process_killed_in_the_middle_of_an_apply_changes_nothing(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    # A fresh instance: its write-ahead log starts empty, so its growth shows the writes.
    assert _cli("--instance", str(inst), "db", "upgrade")[0] == 0
    assert _cli("--instance", str(inst), "users", "create-admin", "--username", "boss",
                "--password", "long-enough-1", "--root-name", "Школа № 41",
                "--root-kind", "school")[0] == 0
    lines = ["ID;Фамилия;Имя;Дата рождения;Класс"] + [
        f"R{n};Фамилия{n};Имя{n};01.09.2012;{n % 11 + 1}А" for n in range(60_000)]
    (tmp_path / "reg.csv").write_text("\n".join(lines))
    (tmp_path / "cards.csv").write_text("Номер карты;ID ученика\n1;R1\n")
    from server.app import create_app

    app = create_app(instance_path=str(inst))

    def counts() -> tuple[int, int, int]:
        with app.app_context():
            return count(PupilRow), count(SyncRun), count(SyncAction)

    before = counts()
    assert before == (0, 0, 0)
    args = [VITRINA, "--instance", str(inst), "sync", "apply", "--register",
            str(tmp_path / "reg.csv"), "--cards", str(tmp_path / "cards.csv"),
            "--school", "Школа № 41"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            start_new_session=True)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    assert line.startswith("Applying run"), line
    # Into the writes: the uncommitted pupils spill into SQLite's write-ahead log.
    wal = inst / "vitrina.db-wal"
    deadline = time.monotonic() + 60
    while (not wal.exists() or wal.stat().st_size < 2 * 2**20) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the apply ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert counts() == before
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "60000 pupils added" in done.stdout
    assert counts()[0] == 60_000


def test_retention_removes_left_pupils_and_old_files(app: Flask, world: World) -> None:
    from datetime import date, timedelta

    from server.models.audit import AuditEvent
    from server.models.base import utcnow
    from server.models.pupils import SyncInput
    from server.services.context import system_ctx

    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"], *files()).id)
        db.session.commit()
        system = system_ctx(db.session, "retention")
        # R3 left on 01.09.2026: kept within the retention period …
        assert pupil_sync.purge_expired(system, date(2027, 6, 1))["pupils"] == 0
        # … and removed after it, with the card data that names them.
        later = date(2026, 9, 1) + timedelta(days=app.config["PUPIL_RETENTION_DAYS"] + 1)
        totals = pupil_sync.purge_expired(system, later)
        db.session.commit()
        assert (totals["pupils"], totals["cards"]) == (1, 1)
        left = set(db.session.scalars(select(PupilRow.register_id).where(
            PupilRow.school_id == world.ids["a"])))
        assert left == {"R1", "R2", "A9"}
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "pupils.purge")).one()
        assert event.details["pupils"] == 1 and "Кузнецов" not in str(event.details)
        # Old runs lose their files and detailed plans; their counts stay.
        for run in db.session.scalars(select(SyncRun)):
            run.created_at = utcnow() - timedelta(days=400)
        db.session.commit()
        assert pupil_sync.purge_expired(system, later)["run_files"] >= 2
        db.session.commit()
        assert count(SyncInput) == 0
        assert all(r.plan == [] and r.rest is None and r.counts
                   for r in db.session.scalars(select(SyncRun)))


def test_a_drop_folder_starts_a_dry_run(app: Flask, world: World, tmp_path: Path) -> None:
    from server.models.orgs import Organisation
    from server.sync_drop import prepare_folders, sync_drop_folder

    app.config["SYNC_DROP_DIR"] = str(tmp_path / "sync-drop")
    folders = {p.name.split("-", 1)[0]: p for p in prepare_folders(app)}
    school_a = folders[str(world.ids["a"])]
    note = (school_a / "README.txt").read_text()     # in the school's language
    assert "School A" in note and "cards" in note and "карт" in note
    folder = sync_drop_folder(app, settle=0)
    with app.app_context():
        before = count(SyncRun)
    (school_a / "Выгрузка из АИС.csv").write_bytes(REGISTER.encode("cp1251"))
    folder.process()
    assert [o.status for o in folder.process()] == ["imported"]
    with app.app_context():
        assert count(SyncRun) == before          # waiting for the card list
    (school_a / "cards-2026-11-25.csv").write_text(CARDS)
    folder.process()
    folder.process()
    with app.app_context():
        run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and run.created_by_name == "drop-folder"
        assert run.counts["block_card"] == 1 and run.status == "planned"
        assert [i["name"] for i in run.inputs] == ["Выгрузка из АИС.csv", "cards-2026-11-25.csv"]
        db.session.get(Organisation, world.ids["a"])
    # The card administrator is told on their pages.
    client = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(client).login("card_admin")
    page = client.get(f"/pupils/?school_id={world.ids['a']}").get_data(as_text=True)
    assert 'data-testid="dropped-run"' in page and f"/pupils/sync/{run.id}" in page
    # A file that cannot be read goes to rejected/ with its problems beside it.
    (school_a / "register-new.csv").write_text("nothing useful\n")
    folder.process()
    (outcome,) = folder.process()
    assert outcome.status == "rejected"
    reason = (school_a / "rejected" / "register-new.csv.reason.txt").read_text()
    assert "register-new.csv" in reason and "No column" in reason


def test_a_oneroster_delta_changes_only_its_pupils(app: Flask, world: World) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.csv", "propertyName,value\nfile.users,delta\n")
        zf.writestr("users.csv", "sourcedId,role,givenName,familyName,middleName\n"
                                 "R1,student,Пётр,Иванов,Сергеевич\n")
        zf.writestr("classes.csv", "sourcedId,title,classType\nC,7А,homeroom\n")
        zf.writestr("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"
                                       "E,C,R1,student\n")
        zf.writestr("demographics.csv", "sourcedId,birthDate\nR1,2014-03-02\n")
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"], *files()).id)
        db.session.commit()
        run = pupil_sync.plan_run(ctx, world.ids["a"], ("roster.zip", out.getvalue()),
                                  files()[1])
        changed = {(a["kind"], a["pupil_id"]) for a in run.plan
                   if a["kind"].startswith("pupil_")}
        assert changed == {("pupil_update", "R1")}      # R2 and R3 are not "missing"
        (update,) = [a for a in run.plan if a["kind"] == "pupil_update"]
        assert update["changes"] == [["class_name", "7Б", "7А"]]


def test_the_register_from_a_rest_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    import threading

    from tests.sync.test_rest import Api, QuietServer

    Api.calls = {}
    server = QuietServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        inst = str(tmp_path / "inst")
        assert _cli("--instance", inst, "demo", "--no-serve")[0] == 0
        (tmp_path / "cards.csv").write_text(CARDS)
        url = f"http://127.0.0.1:{server.server_address[1]}/pupils"
        monkeypatch.setenv("VITRINA_SYNC_AUTH_HEADER", "Authorization: Bearer sekret")
        code, out = _cli("sync", "plan", "--instance", inst, "--register-url", url,
                         "--cards", str(tmp_path / "cards.csv"), "--school", "Школа № 41",
                         "--confirm-missing", "--format", "json")
        assert code == 0, out
        assert json.loads(out)["counts"]["pupil_new"] == 5
        monkeypatch.setenv("VITRINA_SYNC_AUTH_HEADER", "Authorization: Bearer nope")
        code, out = _cli("sync", "plan", "--instance", inst, "--register-url", url,
                         "--cards", str(tmp_path / "cards.csv"), "--school", "Школа № 41")
        assert code == 1 and "refused the credentials (401)" in out
    finally:
        server.shutdown()
        server.server_close()


def test_apply_plans_again_when_something_changed_since_the_dry_run(
        app: Flask, world: World) -> None:
    """A dry run is reused by apply only while nothing it was made from has changed; a
    photo, a consent or a decision in between makes apply plan again."""
    from server.models.pupils import PupilRow
    from server.services import photos
    from tests.sync.test_photos import jpeg, textured

    with app.test_request_context():
        ctx = ctx_of("card_admin")
        pupil_sync.apply_run(ctx, pupil_sync.plan_run(ctx, world.ids["a"], *files()).id)
        db.session.commit()
        run = pupil_sync.plan_run(ctx, world.ids["a"], *files())
        db.session.commit()
        stamp = (run.plan_state or {})["stamp"]
        assert {a["pupil_id"] for a in run.plan if a["kind"] == "photo_missing"} >= {"R1"}
        assert pupil_sync.state_stamp(db.session, world.ids["a"], False) == stamp
        petr = db.session.scalars(select(PupilRow).where(PupilRow.register_id == "R1")).one()
        photos.add_photo(ctx, petr, jpeg(textured()))
        db.session.commit()
        assert pupil_sync.state_stamp(db.session, world.ids["a"], False) != stamp
        done = pupil_sync.apply_run(ctx, run.id)
        db.session.commit()
        assert "R1" not in {a["pupil_id"] for a in done.plan if a["kind"] == "photo_missing"}
        # A consent recorded by hand changes the stamp too.
        stamp = pupil_sync.state_stamp(db.session, world.ids["a"], False)
        photos.record_consent(ctx, petr, False, date(2026, 9, 1), "letter")
        assert pupil_sync.state_stamp(db.session, world.ids["a"], False) != stamp


def test_the_same_files_again_skip_the_work_and_plan_what_a_full_plan_would(
        app: Flask, world: World) -> None:
    with app.test_request_context():
        ctx = ctx_of("card_admin")
        first = pupil_sync.plan_run(ctx, world.ids["a"], *files())
        pupil_sync.apply_run(ctx, first.id)
        db.session.commit()
        again = pupil_sync.plan_run(ctx, world.ids["a"], *files())
        db.session.commit()
        assert (again.plan_state or {}).get("same_as") == first.id      # the short way
        short = (list(again.plan), dict(again.counts))
        full = pupil_sync.replan(ctx, again)                              # the long way
        assert "same_as" not in (full.plan_state or {})
        assert (full.plan, full.counts) == short
        assert not any(a["kind"] in ("issue_card", "block_card") for a in full.plan)
        db.session.commit()
        done = pupil_sync.apply_run(ctx, again.id)
        assert done.report["pupils_changed"] == 0 and done.report["card_changes_sent"] == 0
        db.session.commit()
        # Once more, now through the short way on both plan and apply.
        third = pupil_sync.plan_run(ctx, world.ids["a"], *files())
        assert (third.plan_state or {}).get("same_as") == again.id
        assert (third.plan, third.counts) == short
        db.session.commit()
        report = pupil_sync.apply_run(ctx, third.id).report
        assert (report["pupils_added"], report["pupils_changed"], report["cards_added"],
                report["card_changes_sent"], report["card_changes_done"]) == (0, 0, 0, 0, 0)
        db.session.commit()
        # A change in between (a different card list) takes the long way again.
        fourth = pupil_sync.plan_run(ctx, world.ids["a"], *files(
            cards=CARDS.replace("0003;R3;активна", "0003;R3;заблокирована")))
        assert "same_as" not in (fourth.plan_state or {})
