"""The device API (/api/device/v1/): pairing, the manifest, heartbeats, media, touch votes
and screenshots.

Displays speak it: the kiosk client and the Smart TV player. See DESIGN.md, "The
device protocol". A display authenticates with its device token and reads only
its own manifest and the media that manifest names.
"""

from __future__ import annotations

import time as clock
from typing import Annotated, Any

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import gettext as _
from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import select

from server import metrics
from server.access import device, public, request_ctx
from server.errors import FieldError, Forbidden, Invalid, NotFound
from server.extensions import db
from server.models.content import ContentItem
from server.models.media import MediaAsset
from server.schemas import Input, field_errors
from server.services import content as content_service
from server.services import displays, votes
from server.services import media as media_service
from server.services.context import Ctx

bp = Blueprint("device", __name__, url_prefix="/api/device/v1")

#: The longest a manifest poll may wait for a change, in seconds.
MAX_WAIT = 55
#: A heartbeat is a few hundred bytes; anything far larger is refused unread.
MAX_HEARTBEAT_BYTES = 16 * 1024


class ClaimIn(Input):
    claim: Annotated[str, StringConstraints(min_length=10, max_length=100)]


class HeartbeatIn(Input):
    etag: Annotated[str, StringConstraints(max_length=40)] | None = None
    client_version: Annotated[str, StringConstraints(max_length=40)] | None = None
    uptime: Annotated[int, Field(ge=0, le=10**9)] | None = None
    free_disk: Annotated[int, Field(ge=0, le=2**62)] | None = None
    cache_size: Annotated[int, Field(ge=0, le=2**62)] | None = None
    error: Annotated[str, StringConstraints(max_length=2000)] | None = None
    #: The id of the last remote action the display carried out.
    done_action: Annotated[int, Field(ge=0, le=2**31)] | None = None


class TouchVoteIn(Input):
    item_id: Annotated[int, Field(ge=1)]
    option_id: Annotated[int, Field(ge=1)]
    #: The kiosk session (a new one after the screen has been left alone for a while).
    session: Annotated[str, StringConstraints(min_length=8, max_length=64,
                                              pattern=r"^[A-Za-z0-9_-]+$")]


def _json_body(model: type[Input], limit: int = 4096) -> Any:
    if (request.content_length or 0) > limit:
        raise Invalid(_("The request body is too large."))
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise Invalid(_("The request body is too large."))
    data = request.get_json(silent=True) if raw.strip() else {}
    if not isinstance(data, dict):
        raise Invalid(_("The body must be a JSON object."))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


@bp.post("/pair")
@public
def pair() -> Any:
    """A new display asks for a code to show; it keeps the claim to ask about it later."""
    new = displays.request_code(request_ctx())
    return jsonify({"code": new.code, "claim": new.claim,
                    "expires_at": new.expires_at.isoformat(), "poll_seconds": 3}), 201


@bp.post("/pair/status")
@public
def pair_status() -> Any:
    """Has an admin entered the code? The first "paired" answer carries the device token."""
    body = _json_body(ClaimIn)
    state = displays.pair_status(request_ctx(), body.claim)
    if state.status == "paired":
        assert state.display is not None
        return jsonify({"status": "paired", "token": state.token,
                        "display": {"id": state.display.id, "name": state.display.name}})
    if state.status == "waiting":
        return jsonify({"status": "waiting"}), 202
    return jsonify({"status": "expired",
                    "message": _("The code has expired; ask for a new one.")}), 410


def _wait_seconds() -> float:
    raw = request.args.get("wait", "")
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise Invalid([FieldError("wait", _("Must be a number of seconds."))]) from None
    if not 0 <= value <= MAX_WAIT:
        raise Invalid([FieldError("wait", _("Between 0 and %(max)s seconds.", max=MAX_WAIT))])
    return value


@bp.get("/manifest")
@device
def manifest() -> Any:
    """The display's manifest; 304 when If-None-Match names it; ?wait=N waits for a change."""
    tags = displays.validate_if_none_match(request.headers.get("If-None-Match", "")) \
        if request.headers.get("If-None-Match") else []
    wait = _wait_seconds()
    session = db.session
    display_id, version = g.display_id, g.screen_version
    built = displays.manifest(session, display_id, version)
    deadline = clock.monotonic() + wait
    watcher = displays.cache().watcher
    while (built.etag in tags or "*" in tags) and clock.monotonic() < deadline:
        session.rollback()   # no transaction is held open while waiting
        left = min(deadline, clock.monotonic() + displays.seconds_until(built)) \
            - clock.monotonic()
        newer = watcher.wait_change(db.engine, version, max(left, 0.0))
        if newer is not None:
            version = newer
            if displays.authenticate_id(session, display_id) is None:
                return jsonify({"error": "unauthorized"}), 401
            built = displays.manifest(session, display_id, version)
        elif not displays.still_valid(built):
            built = displays.manifest(session, display_id, version)
    if built.etag in tags or "*" in tags:
        response = Response(status=304)
        metrics.count_poll("unchanged")
    else:
        response = Response(built.body, mimetype="application/json")
        metrics.count_poll("changed")
    response.headers["ETag"] = built.etag
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/heartbeat")
@device
def heartbeat() -> Any:
    """The display reports what it shows and how it is; the answer carries remote actions."""
    if (request.content_length or 0) > MAX_HEARTBEAT_BYTES:
        return jsonify({"error": "too_large",
                        "message": _("A heartbeat is at most 16 KB.")}), 413
    body = _json_body(HeartbeatIn, MAX_HEARTBEAT_BYTES)
    report = {"last_etag": body.etag, "client_version": body.client_version,
              "uptime": body.uptime, "free_disk": body.free_disk,
              "cache_size": body.cache_size, "last_error": body.error,
              "done_action": body.done_action}
    actions = displays.record_heartbeat(db.session, g.display_id,
                                        {k: v for k, v in report.items() if v is not None})
    return jsonify({"actions": actions})


@bp.post("/vote")
@device
def touch_vote() -> Any:
    """A vote given on a touch screen, once per poll in each kiosk session."""
    body = _json_body(TouchVoteIn)
    built = displays.manifest(db.session, g.display_id, g.screen_version)
    if not built.touch:
        raise Forbidden(_("This display is not a touch screen."))
    if body.item_id not in built.polls:
        raise NotFound(_("This display shows no such poll."))
    item = db.session.get(ContentItem, body.item_id)
    if item is None:
        raise NotFound(_("This display shows no such poll."))
    ctx = Ctx(db.session, None, "display", f"display:{g.display_id}")
    votes.cast_vote(ctx, item, body.option_id, f"display:{g.display_id}:{body.session}")
    counts = content_service.poll_results(ctx, item)
    return jsonify({"options": [{"id": o.id, "label": o.label, "votes": counts.get(o.id, 0)}
                                for o in item.options],
                    "total": sum(counts.values())}), 201


@bp.post("/screenshot")
@device
def screenshot() -> Any:
    """A picture of what the screen shows (PNG or JPEG, downscaled and kept for the fleet
    page; one per display, each replaces the one before)."""
    if (request.content_length or 0) > displays.MAX_SCREENSHOT_BYTES:
        return jsonify({"error": "too_large",
                        "message": _("A screenshot is at most 4 MB.")}), 413
    raw = request.get_data(cache=False)
    info = displays.store_screenshot(db.session, g.display_id, raw)
    return jsonify({"taken_at": info.taken_at.isoformat(), "width": info.width,
                    "height": info.height}), 201


@bp.get("/media/<sha256>")
@device
def medium(sha256: str) -> Any:
    """A medium the display's manifest names (immutable; Range requests work)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise NotFound(_("No such file."))
    built = displays.manifest(db.session, g.display_id, g.screen_version)
    if sha256 not in built.media:
        raise NotFound(_("This display's manifest names no such file."))
    asset = db.session.scalars(select(MediaAsset).where(MediaAsset.sha256 == sha256)).first()
    if asset is None:
        raise NotFound(_("No such file."))
    response = media_service.send(asset)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
