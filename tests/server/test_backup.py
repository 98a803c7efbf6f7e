"""Backups: a snapshot of the World restored into an empty instance gives the same rows and
byte-identical files; a flipped byte anywhere, a newer schema or a non-empty target is
refused before anything is touched."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, select

from server.backup import TRAILER, BackupError, make_backup, restore
from server.cli import main
from server.models.base import Base
from tests.conftest import PG_URL, World, _empty_pg, make_app


def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {t.name: [dict(r) for r in conn.execute(
            select(t).order_by(*t.primary_key.columns)).mappings()]
            for t in Base.metadata.sorted_tables}
    engine.dispose()
    return out


def _files(*roots: str) -> dict[str, bytes]:
    out = {}
    for root in roots:
        base = Path(root)
        for p in sorted(base.rglob("*")):
            if p.is_file() and p.relative_to(base).parts[0] != "batches":
                out[f"{base.name}/{p.relative_to(base).as_posix()}"] = p.read_bytes()
    return out


def _env(app: Flask) -> dict[str, str]:
    return {"VITRINA_DATABASE_URL": app.config["DATABASE_URL"],
            "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"],
            "VITRINA_PHOTO_DIR": app.config["PHOTO_DIR"]}


def _invoke(args: list[str], env: dict[str, str]) -> Any:
    """Run a vitrina command; the app it builds lets go of its connections after."""
    from server.cli import State
    from server.extensions import db

    state = State()
    try:
        return CliRunner().invoke(main, args, env=env, obj=state)
    finally:
        if state.app is not None:
            with state.app.app_context():
                db.engine.dispose()


def _let_go(app: Flask) -> None:
    from server.extensions import db

    with app.app_context():
        db.engine.dispose()


def _target(tmp_path: Path, source_url: str) -> Flask:
    """An empty instance: a new SQLite file, or on PostgreSQL the test database emptied."""
    (tmp_path / "target").mkdir()
    if PG_URL:
        _empty_pg(source_url)
        return make_app(source_url, tmp_path / "target")
    return make_app(f"sqlite:///{tmp_path / 'target' / 'restored.db'}", tmp_path / "target")


def test_a_restored_backup_has_the_same_rows_and_the_same_bytes(app: Flask, world: World,
                                                                tmp_path: Path) -> None:
    before_rows = _rows(app.config["DATABASE_URL"])
    before_files = _files(app.config["MEDIA_DIR"], app.config["PHOTO_DIR"])
    assert before_rows["pupils"] and before_rows["pupil_photos"] and before_rows["media_assets"]
    assert any(k.startswith("photos/") for k in before_files)
    done = _invoke(["backup", "--instance", app.instance_path, "--to",
                    str(tmp_path / "backups")], _env(app))
    assert done.exit_code == 0, done.output
    backup = Path(done.stdout.strip().splitlines()[-1])          # the path, last line
    assert backup.parent == tmp_path / "backups" and backup.stat().st_mode & 0o077 == 0
    with tarfile.open(backup) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["database"]["tables"]["pupils"] == len(before_rows["pupils"])
    assert not any("/batches/" in name for name in manifest["files"])

    target = _target(tmp_path, app.config["DATABASE_URL"])
    done = _invoke(["restore", "--instance", target.instance_path, str(backup)],
                   _env(target))
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output
    assert _rows(target.config["DATABASE_URL"]) == before_rows
    assert _files(target.config["MEDIA_DIR"], target.config["PHOTO_DIR"]) == before_files
    # The restored instance works: its people sign in, its pupils' photos are served.
    client = target.test_client()
    from tests.conftest import AuthActions

    AuthActions(client).login("card_admin")
    photo_id = world.tt["photo_a"]
    assert client.get(f"/pupils/photos/{photo_id}.jpg").status_code == 200
    # Restoring again into the now full instance is refused.
    with pytest.raises(BackupError, match="not empty"):
        restore(target, backup)
    _let_go(target)


def _rewrite(backup: Path, change: Any) -> Path:
    """The backup with its manifest changed by change(manifest), checksums made right."""
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    with tarfile.open(backup) as tar:
        for m in tar.getmembers():
            members.append((m, tar.extractfile(m).read()))  # type: ignore[union-attr]
    manifest = json.loads(members[0][1])
    change(manifest)
    body = json.dumps(manifest).encode()
    members[0][0].size = len(body)
    members[0] = (members[0][0], body)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    payload = out.getvalue()
    target = backup.with_name("rewritten.tar")
    target.write_bytes(payload + TRAILER + hashlib.sha256(payload).hexdigest().encode() + b"\n")
    return target


def test_damaged_or_newer_backups_are_refused_and_nothing_is_touched(
        app: Flask, world: World, tmp_path: Path) -> None:
    backup = make_backup(app, tmp_path / "backups")
    data = backup.read_bytes()
    target = _target(tmp_path, app.config["DATABASE_URL"])
    with tarfile.open(backup) as tar:
        names = tar.getnames()
        some_photo = next(m for m in tar.getmembers() if m.name.startswith("photos/"))
    size = len(data)
    # One flipped byte: in the manifest, in a photo, in a tar header's padding, in the
    # end-of-archive zeros, in the checksum itself.
    positions = {"manifest": 700, "photo": some_photo.offset_data + 100,
                 "header padding": some_photo.offset + 400, "archive end": size - 200,
                 "checksum": size - 10}
    for where, at in positions.items():
        flipped = bytearray(data)
        flipped[at] ^= 0x01
        damaged = tmp_path / f"damaged-{where.replace(' ', '-')}.tar"
        damaged.write_bytes(bytes(flipped))
        with pytest.raises(BackupError) as refused:
            restore(target, damaged)
        assert damaged.name in str(refused.value), where
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: size // 2])
    with pytest.raises(BackupError, match="cut off"):
        restore(target, cut)
    with pytest.raises(BackupError, match="newer Vitrina"):
        restore(target, _rewrite(backup, lambda m: m.update(schema="9999")))
    # A member added without being in the manifest is refused too.
    def drop_one(m: dict[str, Any]) -> None:
        del m["files"][next(n for n in names if n.startswith("media/"))]
    with pytest.raises(BackupError, match="not in the manifest"):
        restore(target, _rewrite(backup, drop_one))
    # Nothing was touched.
    assert not any(Path(target.config["MEDIA_DIR"]).rglob("*.*"))
    assert not any(Path(target.config["PHOTO_DIR"]).rglob("*.*"))
    assert all(not rows for rows in _target_rows(target).values())
    _let_go(target)


def _target_rows(target: Flask) -> dict[str, list[Any]]:
    from sqlalchemy import inspect

    engine = create_engine(target.config["DATABASE_URL"])
    present = set(inspect(engine).get_table_names())
    engine.dispose()
    if "pupils" not in present:
        return {}
    return _rows(target.config["DATABASE_URL"])


@pytest.mark.parametrize("days_back", [1200, 40, 3])
def test_retention_keeps_the_newest_of_the_last_days_weeks_and_quarters(
        days_back: int) -> None:
    from datetime import UTC, datetime, timedelta

    from server.backup import to_keep

    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    times = [now - timedelta(days=n) for n in range(days_back)]      # one a day
    keep = to_keep(times, daily=7, weekly=5, quarterly=12)

    def newest_by(period: object, count: int) -> set[datetime]:
        groups: dict[object, datetime] = {}
        for t in sorted(times, reverse=True):
            groups.setdefault(period(t), t)  # type: ignore[operator]
        return set(sorted(groups.values(), reverse=True)[:count])

    wanted = (newest_by(lambda t: t.date(), 7) | newest_by(lambda t: t.isocalendar()[:2], 5)
              | newest_by(lambda t: (t.year, (t.month - 1) // 3), 12))
    assert keep == wanted
    quarters_kept = {(t.year, (t.month - 1) // 3) for t in keep}
    quarters_all = {(t.year, (t.month - 1) // 3) for t in times}
    assert len(quarters_kept) == min(12, len(quarters_all))    # one a quarter, at least


def test_the_start_page_warns_admins_when_backups_are_late(
        app: Flask, world: World, tmp_path: Path) -> None:
    from tests.conftest import AuthActions

    client = app.test_client()
    AuthActions(client).login("admin")
    assert 'data-testid="backup-late"' in client.get("/").get_data(as_text=True)
    for _ in range(2):
        done = _invoke(["backup", "--instance", app.instance_path, "--to",
                        str(tmp_path / "b"), "--prune"], _env(app))
        assert done.exit_code == 0, done.output
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="backup-ok"' in page and "Last backup:" in page
    # Two backups in one second of one day: the retention keeps the newest only.
    assert len(list((tmp_path / "b").glob("*.tar"))) == 1
    other = app.test_client()
    AuthActions(other).login("content_manager")
    assert "backup" not in other.get("/").get_data(as_text=True).lower()


def test_late_means_later_than_the_backup_schedule(app: Flask, world: World,
                                                   tmp_path: Path) -> None:
    from datetime import timedelta

    from server.backup import back_up
    from server.extensions import db
    from server.models.audit import AuditEvent
    from tests.conftest import AuthActions

    back_up(app, tmp_path / "b")
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "backup.made")).one()
        event.at = event.at - timedelta(hours=9)
        db.session.commit()
    client = app.test_client()
    AuthActions(client).login("admin")
    assert 'data-testid="backup-ok"' in client.get("/").get_data(as_text=True)  # daily job
    app.config["BACKUP_EVERY_HOURS"] = 6                     # a job every 6 hours: late
    assert 'data-testid="backup-late"' in client.get("/").get_data(as_text=True)
    app.config["BACKUP_MAX_AGE_HOURS"] = 12                  # said outright
    assert 'data-testid="backup-ok"' in client.get("/").get_data(as_text=True)
