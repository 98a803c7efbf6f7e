"""Display media drop folders: a file dropped into an organisation's folder becomes a draft
media slide of that organisation (watching itself lives in sync.dropfolder)."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from server.content_schemas import ItemCreate
from server.errors import Invalid
from server.extensions import db
from server.models.content import ContentItem
from server.models.orgs import Organisation
from server.services import content, media
from server.services.context import system_ctx
from sync.dropfolder import DropFolder, DropRejected

ACTOR = "drop-folder"


def folder_name(org: Organisation) -> str:
    """The subfolder of an organisation: its id, then its name for people to recognise."""
    slug = re.sub(r"[^\w]+", "-", org.name, flags=re.UNICODE).strip("-")[:60]
    return f"{org.id}-{slug}" if slug else str(org.id)


def prepare_folders(app: Flask) -> list[Path]:
    """Create a drop subfolder for every organisation (with a note of what it is for)."""
    root = Path(app.config["DROP_DIR"])
    made = []
    with app.app_context():
        for org in db.session.scalars(select(Organisation).order_by(Organisation.path)):
            folder = root / folder_name(org)
            folder.mkdir(parents=True, exist_ok=True)
            with force_locale(org.locale):
                note = _("Files put here become draft image or video slides of “%(name)s”. "
                         "Files that cannot be used are moved to the “rejected” folder "
                         "with the reason beside them.", name=org.name)
            (folder / "README.txt").write_text(note + "\n", encoding="utf-8")
            made.append(folder)
    return made


def make_handler(app: Flask):  # type: ignore[no-untyped-def]
    """The import step for one settled file: store it and create a draft media slide."""

    def handle(owner: str, path: Path) -> None:
        org_id = owner.split("-", 1)[0]
        with app.app_context():
            org = db.session.get(Organisation, int(org_id)) if org_id.isdigit() else None
            if org is None:
                raise DropRejected(f"The folder “{owner}” belongs to no organisation.")
            with force_locale(org.locale):
                ctx = system_ctx(db.session, ACTOR)
                try:
                    asset = media.upload(ctx, org.id, path.name, path.read_bytes())
                except Invalid as exc:
                    db.session.rollback()
                    raise DropRejected("; ".join(e.reason for e in exc.errors)) from None
                again = db.session.scalar(select(ContentItem.id).where(
                    ContentItem.org_id == org.id, ContentItem.media_id == asset.id,
                    ContentItem.kind == "media", ContentItem.state == "draft"))
                if again is None:
                    content.create_item(ctx, ItemCreate(
                        kind="media", org_id=org.id, title=(path.stem or path.name)[:200],
                        media_id=asset.id, target_org_ids=[org.id]))
                db.session.commit()

    return handle


def watch(folder: DropFolder, once: bool, settle: float,
          echo: Callable[[str], None]) -> None:
    """Hand over what settles in folder: once (and say what happened to each file), or
    until SIGINT or SIGTERM."""
    if once:
        folder.process()  # the first look notes sizes; the second takes what settled
        if folder.candidates():
            time.sleep(settle)
        for outcome in folder.process():
            echo(f"{outcome.status}: {outcome.path.name}"
                 + (f" — {outcome.reason}" if outcome.reason else ""))
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    echo("Watching; stop with Ctrl+C.")
    folder.run(stop)


def drop_folder(app: Flask, settle: float = 2.0) -> DropFolder:
    """The drop folder of app's configuration."""
    return DropFolder(app.config["DROP_DIR"], make_handler(app), settle=settle)
