"""Photos for many pupils at once: a ZIP or a folder uploaded, or files dropped in the
school's drop folder.

A batch is matched file by file (sync.photo_batch), then checked: every matched file goes
through the photo pipeline into the batch's staging folder (under the photo store, never
with display media), in steps a page can show progress for. Nothing reaches a pupil until
a card administrator confirms; confirming writes every accepted photo in one transaction.
Unconfirmed batches are removed after PHOTO_BATCH_RETENTION_DAYS.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from server import faults, metrics
from server.errors import Invalid, NotFound
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.pupils import CardRow, PhotoBatch, PupilRow
from server.services import audit, pupil_sync
from server.services import photos as photo_service
from server.services.context import Ctx, after_commit, after_rollback
from sync.imaging import Rejected
from sync.photo_batch import BatchError, Member, Person, match_files, read_zip
from sync.photos import CardPhoto, PhotoSettings, normalize_photo

#: Why a file is left out, as a card administrator reads it.
PROBLEMS = ("not_a_photo", "no_match", "ambiguous", "left", "several_files")
#: Progress callbacks get (files checked, files to check).
Progress = Callable[[int, int], None]


def batch_error(exc: BatchError) -> str:
    """Why a ZIP cannot be taken, in the reader's language."""
    p = exc.params
    texts = {
        "not_a_zip": lambda: _("The file is not a ZIP archive, or it is damaged."),
        "too_many_files": lambda: _("The archive holds %(count)s files; at most %(limit)s "
                                    "are taken at once.", count=p["count"], limit=p["limit"]),
        "encrypted": lambda: _("“%(name)s” is encrypted; pack the photos without a "
                               "password.", name=p["name"]),
        "unreadable": lambda: _("“%(name)s” cannot be read from the archive: it is damaged "
                                "or packed in a way that is not supported.", name=p["name"]),
        "file_too_large": lambda: _("“%(name)s” is larger than %(mb)s MB.", name=p["name"],
                                    mb=p["mb"]),
        "too_large": lambda: _("The archive unpacks to more than %(mb)s MB.", mb=p["mb"]),
    }
    return texts[exc.code]() if exc.code in texts else str(exc)


def read_archive(data: bytes) -> list[Member]:
    """The files of an uploaded or dropped ZIP (Invalid on the "archive" field if it cannot
    be taken)."""
    try:
        return list(read_zip(data, max_member_bytes=photo_service.photo_settings().max_bytes))
    except BatchError as exc:
        raise Invalid(batch_error(exc), "archive") from None


def staging(batch: PhotoBatch) -> Path:
    """The batch's private folder: src/<n> as received, out/<n>.jpg as checked."""
    return Path(current_app.config["PHOTO_DIR"]) / "batches" / str(batch.id)


def get_batch(ctx: Ctx, batch_id: int) -> PhotoBatch:
    """A batch of a school the principal manages pupils of."""
    batch = ctx.session.get(PhotoBatch, batch_id)
    if batch is None:
        raise NotFound(_("No such photo batch."))
    pupil_sync.school_for(ctx, batch.school_id)
    return batch


def people_of(session: Any, school_id: int) -> list[Person]:
    """The school's pupils as file names may name them (with their cards' numbers)."""
    numbers: dict[str, list[str]] = {}
    for number, owner in session.execute(select(CardRow.number, CardRow.pupil_register_id)
                                         .where(CardRow.school_id == school_id)):
        if owner:
            numbers.setdefault(owner, []).append(number)
    for number, owner in pupil_sync.decisions_of(session, school_id).confirmed:
        numbers.setdefault(owner, []).append(number)
    return [Person(p.register_id, p.surname, p.first_name, p.patronymic,
                   tuple(numbers.get(p.register_id, ())), p.status == "enrolled")
            for p in session.scalars(select(PupilRow).where(PupilRow.school_id == school_id))]


def _rematch(session: Any, batch: PhotoBatch) -> None:
    """Match every file again (a file added may make two files name one pupil); a file
    whose match is unchanged keeps what its check found."""
    items = [dict(i) for i in batch.items]
    matches = match_files([i["name"] for i in items], people_of(session, batch.school_id))
    by_name = {m.name: m for m in matches}
    for item in items:
        m = by_name.get(item["name"])
        register_id = m.register_id if m else None
        problem = m.problem if m else "not_a_photo"
        same = (register_id, problem) == (item.get("register_id"), item.get("problem"))
        item.update(register_id=register_id, by=m.by if m else "", problem=problem,
                    others=list(m.others) if m else [])
        if problem:
            item["state"] = "skipped"
        elif not same or item.get("state") in (None, "skipped"):
            item["state"] = "waiting" if item.get("sha256") is None and not item.get(
                "error") else ("ok" if item.get("sha256") else "rejected")
    batch.items = items
    batch.status = "checking" if any(i["state"] == "waiting" for i in items) else "ready"


def add_members(ctx: Ctx, batch: PhotoBatch, members: Iterable[Member]) -> int:
    """Put files into the batch's staging folder and match them; how many were added."""
    folder = staging(batch) / "src"
    folder.mkdir(parents=True, exist_ok=True)
    items = list(batch.items)
    names = {i["name"] for i in items}
    added = 0
    for member in members:
        name = member.name
        while name in names:        # a second file of the same name in a folder batch
            name = f"{name} ({added + 2})"
        n = len(items)
        if member.data:
            (folder / str(n)).write_bytes(member.data)
        items.append({"n": n, "name": name, "register_id": None, "by": "", "problem": "",
                      "others": [], "state": None, "error": "", "warnings": [],
                      "sha256": None})
        names.add(name)
        added += 1
    batch.items = items
    _rematch(ctx.session, batch)
    return added


def start_batch(ctx: Ctx, school_id: int, name: str, members: Iterable[Member],
                source: str = "upload") -> PhotoBatch:
    """A new batch of the given files (Invalid when it holds no files)."""
    school = pupil_sync.school_for(ctx, school_id)
    members = list(members)
    if not members:
        raise Invalid(_("There are no files in it."), "archive")
    batch = PhotoBatch(school_id=school.id, created_by_id=ctx.actor_id,
                       created_by_name=ctx.actor_name, source=source, name=name[:255],
                       status="checking", items=[])
    ctx.session.add(batch)
    ctx.session.flush()
    folder = staging(batch)
    shutil.rmtree(folder, ignore_errors=True)      # a rolled-back batch of the same id
    after_rollback(ctx.session, lambda: shutil.rmtree(folder, ignore_errors=True))
    add_members(ctx, batch, members)
    if not any(i["register_id"] and not i["problem"] for i in batch.items):
        # Still kept: the list of unmatched files is what the person needs to see.
        batch.status = "ready"
    audit.record(ctx, "photo_batch.start", ("photo_batch", batch.id), school,
                 f"Photo batch “{batch.name}” with {len(batch.items)} files",
                 files=len(batch.items), source=source)
    return batch


def _check_one(path: str, settings: PhotoSettings) -> tuple[str, CardPhoto | None, str]:
    """Normalise one staged file (in a worker process when checking on every core); the
    refusal's code (photo_service.REASONS) when it is refused."""
    try:
        data = Path(path).read_bytes()
        return path, normalize_photo(data, settings), ""
    except Rejected as exc:
        return path, None, exc.code
    except Exception:   # noqa: BLE001 - one strange file must not stop the batch
        return path, None, "unreadable"


def progress_of(batch: PhotoBatch) -> tuple[int, int]:
    """(files checked, files to check)."""
    checkable = [i for i in batch.items if i["state"] in ("waiting", "ok", "rejected")]
    return sum(i["state"] != "waiting" for i in checkable), len(checkable)


def check(ctx: Ctx, batch: PhotoBatch, budget: float | None = None, workers: int = 1,
          progress: Progress | None = None) -> tuple[int, int]:
    """Check waiting files through the pipeline (for about budget seconds, or all), the
    accepted ones kept in staging; returns progress_of(batch)."""
    if batch.status != "checking":
        return progress_of(batch)
    root = staging(batch)
    (root / "out").mkdir(parents=True, exist_ok=True)
    items = [dict(i) for i in batch.items]
    waiting = [i for i in items if i["state"] == "waiting"]
    by_path = {str(root / "src" / str(i["n"])): i for i in waiting}
    started = time.monotonic()

    def record(path: str, photo: CardPhoto | None, error: str) -> None:
        item = by_path[path]
        if photo is None:
            item.update(state="rejected", error=error)
            metrics.photo_rejected(error)
        else:
            (root / "out" / f"{item['n']}.jpg").write_bytes(photo.data)
            item.update(state="ok", sha256=photo.sha256, warnings=list(photo.warnings),
                        width=photo.width, height=photo.height)
        if progress is not None:
            batch.items = items
            progress(*progress_of(batch))

    settings = photo_service.photo_settings()
    if workers > 1 and len(by_path) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(partial(_check_one, settings=settings), list(by_path),
                                   chunksize=2):
                record(*result)
    else:
        for path in list(by_path):
            record(*_check_one(path, settings))
            if budget is not None and time.monotonic() - started > budget:
                break
    batch.items = items
    if not any(i["state"] == "waiting" for i in items):
        batch.status = "ready"
    return progress_of(batch)


def apply_batch(ctx: Ctx, batch: PhotoBatch) -> dict[str, int]:
    """Give every accepted photo to its pupil, all in this transaction; the staging folder
    goes once it is committed."""
    if batch.status != "ready":
        raise Invalid(_("This batch is not ready: it is being checked, or was confirmed or "
                        "discarded already."), "batch")
    school = pupil_sync.school_for(ctx, batch.school_id)
    pupils = {p.register_id: p for p in ctx.session.scalars(
        select(PupilRow).where(PupilRow.school_id == batch.school_id,
                               PupilRow.status == "enrolled"))}
    root = staging(batch)
    report = {"added": 0, "same": 0, "skipped": 0}
    source = "drop" if batch.source in DROP_SOURCES else "batch"
    for item in batch.items:
        pupil = pupils.get(item["register_id"] or "")
        out = root / "out" / f"{item['n']}.jpg"
        if item["state"] != "ok" or pupil is None or not out.exists():
            report["skipped"] += 1
            continue
        photo = CardPhoto(out.read_bytes(), item["sha256"], item.get("width", 0),
                          item.get("height", 0), tuple(item["warnings"]))
        added = photo_service.keep_photo(ctx, pupil, photo, source)
        report["added" if added.new else "same"] += 1
    batch.status = "applied"
    batch.applied_at = utcnow()
    batch.report = report
    audit.record(ctx, "photo_batch.apply", ("photo_batch", batch.id), school,
                 f"Photo batch “{batch.name}” confirmed", **report)
    _remove_after_commit(ctx, batch)
    ctx.session.flush()
    faults.pause_point("photo_batch.apply")
    return report


def discard_batch(ctx: Ctx, batch: PhotoBatch) -> None:
    """Drop a batch that was not confirmed, with its staged files."""
    if batch.status in ("applied", "discarded"):
        raise Invalid(_("This batch was confirmed or discarded already."), "batch")
    school = pupil_sync.school_for(ctx, batch.school_id)
    batch.status = "discarded"
    audit.record(ctx, "photo_batch.discard", ("photo_batch", batch.id), school,
                 f"Photo batch “{batch.name}” discarded")
    _remove_after_commit(ctx, batch)


#: Sources of batches from the drop folder: single pictures ("drop") and ZIPs.
DROP_SOURCES = ("drop", "drop_zip")


def open_drop_batch(session: Any, school_id: int, sources: tuple[str, ...] = ("drop",)
                    ) -> PhotoBatch | None:
    """The drop folder's newest batch still waiting for a person (by default the one of
    single pictures, which pictures dropped later join)."""
    return session.scalars(select(PhotoBatch).where(
        PhotoBatch.school_id == school_id, PhotoBatch.source.in_(sources),
        PhotoBatch.status.in_(("checking", "ready"))).order_by(PhotoBatch.id.desc())).first()


def list_batches(ctx: Ctx, school_id: int, limit: int = 20) -> list[PhotoBatch]:
    """A school's batches, newest first."""
    pupil_sync.school_for(ctx, school_id)
    return list(ctx.session.scalars(select(PhotoBatch).where(
        PhotoBatch.school_id == school_id).order_by(PhotoBatch.id.desc()).limit(limit)))


def purge_batches(ctx: Ctx) -> int:
    """Unconfirmed batches past PHOTO_BATCH_RETENTION_DAYS: discarded with their files."""
    cutoff = utcnow() - timedelta(days=int(current_app.config["PHOTO_BATCH_RETENTION_DAYS"]))
    old = list(ctx.session.scalars(select(PhotoBatch).where(
        PhotoBatch.created_at < cutoff, PhotoBatch.status.in_(("checking", "ready")))))
    for batch in old:
        batch.status = "discarded"
        batch.report = {"expired": True}
        _remove_after_commit(ctx, batch)
        audit.record(ctx, "photo_batch.expire", ("photo_batch", batch.id),
                     ctx.session.get(Organisation, batch.school_id),
                     f"Unconfirmed photo batch #{batch.id} removed after "
                     f"{current_app.config['PHOTO_BATCH_RETENTION_DAYS']} days",
                     files=len(batch.items))
    return len(old)


def _remove_after_commit(ctx: Ctx, batch: PhotoBatch) -> None:
    folder = staging(batch)
    after_commit(ctx.session, lambda: shutil.rmtree(folder, ignore_errors=True))
