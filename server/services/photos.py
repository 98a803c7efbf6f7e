"""Pupils' photos: normalised by sync.photos, kept once by hash in their own store (never
with display media), one current per pupil and the rest as history; seen only by the
school's card administrators and admins."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from server import metrics
from server.errors import Forbidden, Invalid, NotFound
from server.media_store import MediaStore
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.pupils import PupilPhoto, PupilRow
from server.rights import PHOTO_VIEW, PUPIL_MANAGE, can
from server.services import audit
from server.services.context import Ctx
from sync.imaging import Rejected
from sync.photos import Box, CardPhoto, PhotoSettings, normalize_photo
from sync.records import PhotoInfo

#: Warnings of the pipeline, as a card administrator reads them.
WARNING_KINDS = ("low_resolution", "too_dark", "too_bright", "blurred")
#: Why the pipeline refused a photo (sync.imaging.Rejected codes), in the reader's language.
REASONS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is too large."),
    "too_many_pixels": _l("The image has too many pixels to be safe to open."),
    "not_an_image": _l("The file is not a JPEG, PNG, WebP or HEIC picture."),
    "unsupported": _l("GIF and AVIF pictures are not taken: use a JPEG, PNG, WebP or HEIC "
                      "photo."),
    "corrupt": _l("The file is damaged or cut off and cannot be read."),
    "animated": _l("Animated images are not supported."),
    "aspect": _l("The picture is too narrow or too wide to be a portrait."),
    "bad_box": _l("The chosen frame is empty; choose it again."),
    "unreadable": _l("The picture cannot be read."),
}


def reason(code: str, fallback: str = "") -> str:
    """A refusal's reason by its code, translated (the English message if it has none)."""
    return str(REASONS[code]) if code in REASONS else fallback or str(REASONS["unreadable"])


def photo_settings() -> PhotoSettings:
    """The card photo format of the configuration (PHOTO_CARD_WIDTH, …)."""
    cfg = current_app.config
    return PhotoSettings(width=int(cfg["PHOTO_CARD_WIDTH"]), height=int(cfg["PHOTO_CARD_HEIGHT"]),
                         quality=int(cfg["PHOTO_JPEG_QUALITY"]),
                         max_output_bytes=int(cfg["PHOTO_MAX_OUTPUT_BYTES"]))


def store() -> MediaStore:
    """The photo store (apart from display media)."""
    return MediaStore(current_app.config["PHOTO_DIR"])


def get_pupil(ctx: Ctx, pupil_id: int, action: str = PUPIL_MANAGE) -> PupilRow:
    """A pupil the principal may act on (by their school)."""
    pupil = ctx.session.get(PupilRow, pupil_id)
    if pupil is None:
        raise NotFound(_("No such pupil."))
    school = ctx.session.get(Organisation, pupil.school_id)
    assert school is not None
    if ctx.principal is not None and not can(ctx.principal, action, school.path):
        raise Forbidden(_("This pupil is outside your part of the tree."))
    return pupil


@dataclass(frozen=True)
class Added:
    """What adding a photo did."""

    photo: PupilPhoto
    new: bool
    warnings: tuple[str, ...]


def add_photo(ctx: Ctx, pupil: PupilRow, data: bytes, box: Box | None = None,
              source: str = "upload") -> Added:
    """Normalise data and make it the pupil's current photo (the same picture is kept once)."""
    try:
        photo = normalize_photo(data, photo_settings(), box)
    except Rejected as exc:
        metrics.photo_rejected(exc.code)
        raise Invalid(reason(exc.code, str(exc)), "photo") from None
    return keep_photo(ctx, pupil, photo, source)


def keep_photo(ctx: Ctx, pupil: PupilRow, photo: CardPhoto, source: str) -> Added:
    """Make a normalised photo the pupil's current one (the same picture is kept once)."""
    existing = ctx.session.scalars(select(PupilPhoto).where(
        PupilPhoto.pupil_id == pupil.id, PupilPhoto.sha256 == photo.sha256)).first()
    ctx.session.execute(update(PupilPhoto).where(PupilPhoto.pupil_id == pupil.id)
                        .values(current=False))
    if existing is not None:
        existing.current = True
        return Added(existing, False, photo.warnings)
    store().put(photo.data, "jpeg")
    row = PupilPhoto(pupil_id=pupil.id, sha256=photo.sha256, width=photo.width,
                     height=photo.height, current=True, source=source,
                     warnings=list(photo.warnings), taken_on=date.today(),
                     created_by_id=ctx.actor_id)
    ctx.session.add(row)
    ctx.session.flush()
    school = ctx.session.get(Organisation, pupil.school_id)
    audit.record(ctx, "photo.add", ("pupil", pupil.id), school,
                 f"New photo of pupil {pupil.register_id}", register_id=pupil.register_id,
                 source=source)
    return Added(row, True, photo.warnings)


def record_consent(ctx: Ctx, pupil: PupilRow, given: bool, on: date | None,
                   source: str) -> None:
    """Record a photo-use consent (or its withdrawal) a person has on paper; a register
    that says nothing about consent leaves it as recorded here."""
    source = " ".join(source.split())
    if on is None:
        raise Invalid(_("Give the date of the consent or its withdrawal."), "consent_on")
    if on > date.today():
        raise Invalid(_("The date is in the future."), "consent_on")
    if not source:
        raise Invalid(_("Say how the school knows (e.g. “signed form”)."), "consent_source")
    if len(source) > 100:
        raise Invalid(_("At most 100 characters."), "consent_source")
    before = (pupil.consent_given, pupil.consent_on, pupil.consent_source)
    if before == (given, on, source):
        return
    pupil.consent_given, pupil.consent_on, pupil.consent_source = given, on, source
    pupil.updated_at = utcnow()     # a planned sync sees that something changed
    school = ctx.session.get(Organisation, pupil.school_id)
    audit.record(ctx, "pupil.consent", ("pupil", pupil.id), school,
                 f"Photo consent of pupil {pupil.register_id} "
                 f"{'given' if given else 'withdrawn'}", register_id=pupil.register_id,
                 given=given, on=on.isoformat(), source=source)


def photos_of_pupil(ctx: Ctx, pupil: PupilRow) -> list[PupilPhoto]:
    """The pupil's photos, current first, then newest."""
    return list(ctx.session.scalars(select(PupilPhoto).where(
        PupilPhoto.pupil_id == pupil.id).order_by(PupilPhoto.current.desc(),
                                                  PupilPhoto.id.desc())))


def photo_file(ctx: Ctx, photo_id: int) -> bytes:
    """A photo's bytes, for the school's card administrators and admins only."""
    photo = ctx.session.get(PupilPhoto, photo_id)
    if photo is None:
        raise NotFound(_("No such photo."))
    get_pupil(ctx, photo.pupil_id, PHOTO_VIEW)
    return store().path_for(photo.sha256, "jpeg").read_bytes()


def current_photos(session: Any, school_id: int, only: Collection[str] | None = None
                   ) -> dict[str, PhotoInfo]:
    """Each pupil's current photo (by register ID), for the sync plan; of the pupils
    with these IDs only, if given."""
    stmt = (select(PupilRow.register_id, PupilPhoto.sha256, PupilPhoto.taken_on)
            .join(PupilPhoto, PupilPhoto.pupil_id == PupilRow.id)
            .where(PupilRow.school_id == school_id, PupilPhoto.current.is_(True)))
    if only is not None:
        stmt = stmt.where(PupilRow.register_id.in_(list(only)))
    return {rid: PhotoInfo(sha, taken) for rid, sha, taken in session.execute(stmt)}


def photo_bytes_of(session: Any, school_id: int, register_id: str) -> bytes | None:
    """The current photo's bytes of a pupil (for the card system's export)."""
    sha = session.scalar(select(PupilPhoto.sha256).join(
        PupilRow, PupilPhoto.pupil_id == PupilRow.id).where(
        PupilRow.school_id == school_id, PupilRow.register_id == register_id,
        PupilPhoto.current.is_(True)))
    if sha is None:
        return None
    path = store().path_for(sha, "jpeg")
    return path.read_bytes() if path.exists() else None
