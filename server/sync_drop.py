"""Sync drop folders: a school's register export or card list dropped into its folder
starts a dry run, and photos dropped there wait in a photo batch for the card
administrator to confirm (watching itself lives in sync.dropfolder).

One subfolder per school (`<id>-<name>`). A ZIP or a picture (by its extension) is for
pupils' photos: a ZIP becomes a batch of its own, single pictures join the batch still
waiting for confirmation; each is checked on every core right away. A file whose name
holds "card" or "карт" is the card list; any other file is a register export. Each of
those is kept as the school's latest of its kind (in the folder's hidden `.latest/`),
and once the school has both, a dry run is planned from the two and shows on the card
administrator's pages. A file that cannot be read is moved to `rejected/` with every
problem written beside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from server.dropfolder import folder_name
from server.errors import Invalid
from server.extensions import db
from server.models.orgs import Organisation
from server.services import photo_batches, pupil_sync
from server.services.context import system_ctx
from sync.dropfolder import DropFolder, DropRejected
from sync.photo_batch import PHOTO_EXTENSIONS, Member, extension_of

ACTOR = "drop-folder"
LATEST = ".latest"
_CARDS = re.compile(r"card|карт", re.IGNORECASE)


def role_of(name: str) -> str:
    """"photos" for a ZIP or a picture, "cards" for a card list (by its name), else
    "register"."""
    ext = extension_of(name)
    if ext == ".zip" or ext in PHOTO_EXTENSIONS:
        return "photos"
    return "cards" if _CARDS.search(name) else "register"


def _photos(school: Any, path: Path) -> None:
    """A dropped ZIP (a batch of its own) or picture (joins the waiting batch), checked."""
    ctx = system_ctx(db.session, ACTOR)
    data = path.read_bytes()
    try:
        if extension_of(path.name) == ".zip":
            members = photo_batches.read_archive(data)
            batch = photo_batches.start_batch(ctx, school.id, path.name, members,
                                              "drop_zip")
        else:
            batch = photo_batches.open_drop_batch(db.session, school.id)
            member = Member(path.name, data)
            if batch is None:
                batch = photo_batches.start_batch(ctx, school.id, _("Drop folder"),
                                                  [member], "drop")
            else:
                photo_batches.add_members(ctx, batch, [member])
        photo_batches.check(ctx, batch, workers=os.cpu_count() or 1)
    except Invalid as exc:
        db.session.rollback()
        raise DropRejected("\n".join(f"{path.name}: {e.reason}" for e in exc.errors)
                           ) from None
    db.session.commit()


def prepare_folders(app: Flask) -> list[Path]:
    """A drop subfolder for every school, with a note of what it is for."""
    root = Path(app.config["SYNC_DROP_DIR"])
    made = []
    with app.app_context():
        for org in db.session.scalars(select(Organisation).where(
                Organisation.kind == "school").order_by(Organisation.path)):
            folder = root / folder_name(org)
            folder.mkdir(parents=True, exist_ok=True)
            with force_locale(org.locale):
                note = _("Put the register export of “%(name)s” here (CSV or XLSX), and the "
                         "card system's list in a file whose name holds “cards” or “карт”. "
                         "Each new file starts a dry run that the card administrator opens "
                         "in Vitrina. Pupils' photos go here too: a ZIP, or pictures named "
                         "by register ID, card number or “Surname Name”; they are saved "
                         "once the card administrator confirms. Files that cannot be read "
                         "are moved to “rejected” with the reasons beside them.",
                         name=org.name)
            (folder / "README.txt").write_text(note + "\n", encoding="utf-8")
            made.append(folder)
    return made


def _latest(folder: Path, role: str) -> Path | None:
    """The school's latest file of a kind, kept as `<role>--<its name>`."""
    found = sorted((folder / LATEST).glob(f"{role}--*"))
    return found[0] if found else None


def _keep(path: Path, role: str) -> None:
    store = path.parent / LATEST
    for old in store.glob(f"{role}--*"):
        old.unlink()
    os.replace(path, store / f"{role}--{path.name}")


def make_handler(app: Flask):  # type: ignore[no-untyped-def]
    """Keep the dropped file as the school's latest of its kind; plan when both are there."""

    def handle(owner: str, path: Path) -> None:
        school_id = owner.split("-", 1)[0]
        with app.app_context():
            school = db.session.get(Organisation, int(school_id)) \
                if school_id.isdigit() else None
            if school is None or school.kind != "school":
                raise DropRejected(f"The folder “{owner}” belongs to no school.")
            role = role_of(path.name)
            if role == "photos":
                with force_locale(school.locale):
                    _photos(school, path)
                return
            store = path.parent / LATEST
            store.mkdir(exist_ok=True)
            partner = _latest(path.parent, "register" if role == "cards" else "cards")
            if partner is None:
                _keep(path, role)       # until its partner arrives
                return
            files = {role: (path.name, path.read_bytes()),
                     ("register" if role == "cards" else "cards"):
                         (partner.name.split("--", 1)[1], partner.read_bytes())}
            with force_locale(school.locale):
                try:
                    pupil_sync.plan_run(system_ctx(db.session, ACTOR), school.id,
                                        files["register"], files["cards"])
                except Invalid as exc:
                    db.session.rollback()
                    raise DropRejected("\n".join(e.reason for e in exc.errors)) from None
            db.session.commit()
            _keep(path, role)

    return handle


def sync_drop_folder(app: Flask, settle: float = 2.0) -> DropFolder:
    """The sync drop folder of app's configuration."""
    return DropFolder(app.config["SYNC_DROP_DIR"], make_handler(app), settle=settle)
