"""The display media drop folder: a good file becomes a draft media slide of its
organisation; a bad one is moved aside with the reason and leaves nothing stored."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from server.dropfolder import drop_folder, folder_name, prepare_folders
from server.extensions import db
from server.media_store import MediaStore
from server.models.content import ContentItem
from server.models.orgs import Organisation
from tests.conftest import World, png_bytes


def _school_folder(app: Flask, world: World) -> Path:
    prepare_folders(app)
    with app.app_context():
        org = db.session.get(Organisation, world.ids["a"])
        assert org is not None
        return Path(app.config["DROP_DIR"]) / folder_name(org)


def test_dropped_files_become_drafts_or_are_rejected(app: Flask, world: World) -> None:
    folder = _school_folder(app, world)
    assert folder.name == f"{world.ids['a']}-School-A"
    assert "School A" in (folder / "README.txt").read_text(encoding="utf-8")
    (folder / "Concert poster.png").write_bytes(png_bytes((640, 480), "#aa3355"))
    (folder / "invitation.jpg").write_bytes(b"<html><body>not a picture</body></html>")
    store_before = MediaStore(app.config["MEDIA_DIR"]).files()
    watcher = drop_folder(app, settle=0)
    watcher.process()
    outcomes = {o.path.name: o for o in watcher.process()}
    assert outcomes["Concert poster.png"].status == "imported"
    assert outcomes["invitation.jpg"].status == "rejected"
    # the reason is written in the organisation's language (School A's is Russian)
    reason = (folder / "rejected" / "invitation.jpg.reason.txt").read_text(encoding="utf-8")
    assert reason == "«invitation.jpg»: Файл не является изображением JPEG, PNG или WebP.\n"
    assert not (folder / "Concert poster.png").exists()
    with app.app_context():
        drafts = db.session.query(ContentItem).filter_by(kind="media", state="draft").all()
        assert [(d.title, d.org_id, [t.org_id for t in d.targets]) for d in drafts] == [
            ("Concert poster", world.ids["a"], [world.ids["a"]])]
    assert len(MediaStore(app.config["MEDIA_DIR"]).files()) == len(store_before) + 1


def test_the_same_file_dropped_again_makes_no_second_draft(app: Flask, world: World) -> None:
    folder = _school_folder(app, world)
    watcher = drop_folder(app, settle=0)
    for _ in range(2):
        (folder / "menu.png").write_bytes(png_bytes((300, 300), "#228833"))
        watcher.process()
        watcher.process()
    with app.app_context():
        assert db.session.query(ContentItem).filter_by(kind="media").count() == 1


def test_watch_once_from_the_command_line(app: Flask, world: World, tmp_path: Path) -> None:
    folder = _school_folder(app, world)
    (folder / "sports day.png").write_bytes(png_bytes())
    from server.cli import State, main
    state = State(instance=str(tmp_path / "instance"))
    state.app = app
    result = CliRunner().invoke(main, ["content", "watch", "--once", "--settle", "0.1"],
                                obj=state)
    assert result.exit_code == 0, result.output
    assert "imported: sports day.png" in result.output
