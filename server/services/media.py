"""Uploading display media: validated and normalised before anything is stored."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from server.errors import Forbidden, Invalid, NotFound
from server.media_store import MediaStore
from server.models.media import MediaAsset
from server.models.orgs import Organisation
from server.rights import CONTENT_EDIT, can, scope_paths
from server.services import audit
from server.services.context import Ctx
from sync.imaging import (
    EXTENSIONS,
    MIME_TYPES,
    VIDEO_TYPES,
    Limits,
    Rejected,
    check_video,
    normalize_for_display,
    sniff,
)

REASONS = {
    "empty": lambda: _("The file is empty."),
    "too_large": lambda: _("The file is too large."),
    "too_many_pixels": lambda: _("The image has too many pixels to be safe to open."),
    "not_an_image": lambda: _("The file is not a JPEG, PNG or WebP image."),
    "not_a_video": lambda: _("The file is not an MP4 or WebM video."),
    "unsupported": lambda: _("This kind of file is not supported; use JPEG, PNG, WebP, "
                             "MP4 or WebM."),
    "corrupt": lambda: _("The file is damaged or cut off and cannot be read."),
    "animated": lambda: _("Animated images are not supported; use a video instead."),
}


def store() -> MediaStore:
    """The display media store of the current app."""
    return MediaStore(current_app.config["MEDIA_DIR"])


def limits() -> Limits:
    """Image limits from the configuration."""
    cfg = current_app.config
    return Limits(max_bytes=int(cfg["MEDIA_MAX_IMAGE_BYTES"]),
                  max_pixels=int(cfg["MEDIA_MAX_PIXELS"]),
                  max_width=int(cfg["MEDIA_MAX_WIDTH"]),
                  max_height=int(cfg["MEDIA_MAX_HEIGHT"]))


def upload(ctx: Ctx, org_id: int, filename: str, data: bytes) -> MediaAsset:
    """Validate, normalise and store an uploaded file for org; nothing is kept if it fails."""
    org = ctx.session.get(Organisation, org_id)
    if org is None:
        raise Invalid(_("No such organisation."), "org_id")
    if ctx.principal is not None and not can(ctx.principal, CONTENT_EDIT, org.path):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255]
    try:
        if sniff(data) in VIDEO_TYPES:
            kind = check_video(data, int(current_app.config["MEDIA_MAX_VIDEO_BYTES"]))
            payload, width, height = data, None, None
        else:
            image = normalize_for_display(data, limits())
            payload, kind, width, height = image.data, image.kind, image.width, image.height
    except Rejected as exc:
        raise Invalid(_("“%(name)s”: %(reason)s", name=name, reason=REASONS[exc.code]()),
                      "file") from None
    sha = store().put(payload, kind)
    existing = ctx.session.scalar(select(MediaAsset).where(
        MediaAsset.org_id == org.id, MediaAsset.sha256 == sha))
    if existing is not None:
        return existing
    asset = MediaAsset(org_id=org.id, sha256=sha, kind=kind, size=len(payload), width=width,
                       height=height, original_name=name, created_by_id=ctx.actor_id)
    ctx.session.add(asset)
    ctx.session.flush()
    audit.record(ctx, "media.upload", ("media", asset.id), org, f"Uploaded {name}",
                 name=name, sha256=sha, kind=kind, size=len(payload))
    return asset


def visible_media(ctx: Ctx, org: Organisation | None = None) -> list[MediaAsset]:
    """Media of the organisations in the principal's content scope (or of org and above)."""
    stmt = select(MediaAsset).join(Organisation, Organisation.id == MediaAsset.org_id)
    if org is not None:
        ids = [int(p) for p in org.path.strip("/").split("/") if p]
        stmt = stmt.where(MediaAsset.org_id.in_(ids))
    elif ctx.principal is not None:
        paths = scope_paths(ctx.principal, CONTENT_EDIT)
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    return list(ctx.session.scalars(stmt.order_by(MediaAsset.created_at.desc())))


def media_for_principal(ctx: Ctx, sha256: str) -> MediaAsset:
    """A medium the principal may see (one of their organisations holds it)."""
    found = False
    for asset in ctx.session.scalars(select(MediaAsset).where(MediaAsset.sha256 == sha256)):
        found = True
        org = ctx.session.get(Organisation, asset.org_id)
        if org is not None and (ctx.principal is None or
                                can(ctx.principal, CONTENT_EDIT, org.path)):
            return asset
    if found:
        raise Forbidden(_("This file belongs to an organisation outside your part of the tree."))
    raise NotFound(_("No such file."))


def media_url(asset: MediaAsset) -> str:
    """Where the admin UI reads a stored medium."""
    return url_for("content.media_file", sha256=asset.sha256, ext=EXTENSIONS[asset.kind])


def to_out(asset: MediaAsset) -> dict[str, Any]:
    """The API representation of a medium."""
    return {"id": asset.id, "sha256": asset.sha256, "kind": asset.kind, "size": asset.size,
            "width": asset.width, "height": asset.height,
            "original_name": asset.original_name, "url": media_url(asset)}


def send(asset: MediaAsset) -> Response:
    """The stored bytes of asset; they never change, so caches may keep them."""
    path = store().path_for(asset.sha256, asset.kind)
    if not path.is_file():
        raise NotFound(_("The file is missing from the media store."))
    response = send_file(path, mimetype=MIME_TYPES[asset.kind], conditional=True,
                         max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
