"""The fleet: every display with its health, pairing a new one, revoking a lost one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select

from content.manifest import canonical_json, media_named
from server.access import request_ctx, requires
from server.display_schemas import DisplayIn, PairIn
from server.errors import Invalid
from server.models.base import utcnow
from server.models.media import MediaAsset
from server.rights import DISPLAY_MANAGE, DISPLAY_VIEW, can
from server.schemas import field_errors
from server.services import displays, orgs
from server.services import media as media_service
from server.web.forms import errors_by_field

bp = Blueprint("displays", __name__, url_prefix="/displays")

HEALTH = {"online": _l("Online"), "stale": _l("Late"), "offline": _l("Dark"),
          "never": _l("Never seen"), "pending": _l("Waiting for its token"),
          "revoked": _l("Revoked")}
LAYOUTS = {"standard": _l("Standard: content, clock and timetable"),
           "fullscreen": _l("Content only, full screen"),
           "portrait": _l("Portrait (tall screen)"),
           "timetable": _l("Timetable board")}
TRANSITIONS = {"fade": _l("Fade"), "slide": _l("Slide"), "none": _l("None (cut)")}
ACTIONS = {"reload": _l("Reload the player"), "clear_cache": _l("Clear its cache"),
           "repair": _l("Pair it again")}
_FIELDS = ("code", "name", "org_id", "floor", "room", "groups", "orientation", "layout",
           "locale", "power_on", "power_off", "off_when_no_school", "timetable_target",
           "transition", "touch")
_CHECKBOXES = ("off_when_no_school", "touch")


def health(display: Any) -> str:
    """The state shown for a display: its status, or its health when active."""
    if display.status != "active":
        return str(display.status)
    return displays.health_of(display.last_seen_at, utcnow())


@bp.app_template_test("dark_now")
def dark_now(display: Any) -> bool:
    """Whether an active display has not been heard from for a while."""
    return health(display) == "offline"


@bp.app_context_processor
def display_labels() -> dict[str, Any]:
    return {"display_health": health, "health_names": HEALTH, "layout_names": LAYOUTS,
            "transition_names": TRANSITIONS, "action_names": ACTIONS}


@bp.get("/")
@requires(DISPLAY_VIEW)
def index() -> Any:
    """Every display in the person's part of the tree, by health, node and group."""
    ctx = request_ctx()
    org_raw = request.args.get("org_id", "")
    group = request.args.get("group", "").strip().lower()[:40]
    found = displays.list_displays(ctx, int(org_raw) if org_raw.isdigit() else None, group)
    states = [health(d) for d in found]
    counts = {k: states.count(k) for k in HEALTH}
    return render_template(
        "displays/index.html", displays=found, counts=counts, group=group,
        org_id=int(org_raw) if org_raw.isdigit() else None,
        org_rows=orgs.as_tree(orgs.visible_orgs(ctx, DISPLAY_VIEW)),
        may_manage=any(can(ctx.principal, DISPLAY_MANAGE, o.path)
                       for o in orgs.visible_orgs(ctx, DISPLAY_MANAGE)) if ctx.principal
        else True)


def _pair_form(form: dict[str, Any], errors: dict[str, str], status: int,
               display: Any = None) -> Any:
    rows = orgs.as_tree(orgs.visible_orgs(request_ctx(), DISPLAY_MANAGE))
    return render_template("displays/pair.html", form=form, errors=errors,
                           org_rows=rows, display=display), status


def _read_form(model: Any) -> Any:
    """The display form as model: groups split and lower-cased, the checkbox read."""
    raw: dict[str, Any] = {}
    for key in _FIELDS:
        value = request.form.get(key, "").strip()
        if key in _CHECKBOXES:
            raw[key] = key in request.form
        elif key == "groups":
            raw[key] = [g.strip().lower() for g in value.replace(";", ",").split(",")
                        if g.strip()]
        elif value != "" and (key != "code" or model is PairIn):
            raw[key] = value
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def _field_errors(exc: Invalid) -> dict[str, str]:
    """Errors by form field ("groups.0" shows at "groups")."""
    return {k.split(".")[0]: v for k, v in reversed(errors_by_field(exc).items())}


@bp.route("/pair", methods=["GET", "POST"])
@requires(DISPLAY_MANAGE)
def pair() -> Any:
    """Type the code a new screen shows and say where it hangs."""
    if request.method == "GET":
        return _pair_form({"code": request.args.get("code", ""), "orientation": "landscape",
                           "layout": "standard", "locale": "ru", "transition": "fade"},
                          {}, 200)
    try:
        data = _read_form(PairIn)
        display = displays.pair_display(request_ctx(), data.code,
                                        data.model_dump(exclude={"code"}))
    except Invalid as exc:
        return _pair_form(dict(request.form), _field_errors(exc), 422)
    flash(_("Paired: “%(name)s” will start showing its content within seconds.",
            name=display.name), "ok")
    return redirect(url_for("displays.show", display_id=display.id))


@bp.get("/<int:display_id>")
@requires(DISPLAY_VIEW)
def show(display_id: int) -> Any:
    """One display: where it is, what it reports, and (for admins) revoking it."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id)
    may_manage = ctx.principal is None or can(ctx.principal, DISPLAY_MANAGE, display.org.path)
    return render_template("displays/show.html", d=display, may_manage=may_manage,
                           shot=displays.screenshot_info(ctx.session, display.id))


@bp.get("/<int:display_id>/screenshot.jpg")
@requires(DISPLAY_VIEW)
def screenshot(display_id: int) -> Any:
    """The last picture of its screen the display sent."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id)
    shot = displays.screenshot_of(ctx.session, display.id)
    if shot is None:
        abort(404)
    response = Response(shot.jpeg, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-cache"
    response.last_modified = shot.taken_at
    return response


@bp.get("/<int:display_id>/manifest.json")
@requires(DISPLAY_VIEW)
def preview_manifest(display_id: int) -> Any:
    """The display's manifest as it would get it now (for the live preview)."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id)
    return Response(canonical_json(displays.build_for(ctx.session, display, utcnow())),
                    mimetype="application/json")


@bp.get("/<int:display_id>/media/<sha256>")
@requires(DISPLAY_VIEW)
def preview_media(display_id: int, sha256: str) -> Any:
    """A medium the display's manifest names (for the live preview)."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id)
    doc = displays.build_for(ctx.session, display, utcnow())
    if sha256 not in media_named(doc):
        abort(404)
    asset = ctx.session.scalars(select(MediaAsset).where(MediaAsset.sha256 == sha256)).first()
    if asset is None:
        abort(404)
    return media_service.send(asset)


@bp.route("/<int:display_id>/edit", methods=["GET", "POST"])
@requires(DISPLAY_MANAGE)
def edit(display_id: int) -> Any:
    """Change where a display hangs and how it plays."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id, DISPLAY_MANAGE)
    if request.method == "GET":
        form = {k: getattr(display, k) for k in _FIELDS if k not in ("code", "groups")}
        form["groups"] = ", ".join(display.groups or [])
        form["power_on"] = display.power_on.strftime("%H:%M") if display.power_on else ""
        form["power_off"] = display.power_off.strftime("%H:%M") if display.power_off else ""
        form["floor"] = "" if display.floor is None else display.floor
        return _pair_form(form, {}, 200, display)
    try:
        displays.update_display(ctx, display, _read_form(DisplayIn).model_dump())
    except Invalid as exc:
        return _pair_form(dict(request.form), _field_errors(exc), 422, display)
    flash(_("Saved; the screen follows within seconds."), "ok")
    return redirect(url_for("displays.show", display_id=display.id))


@bp.post("/<int:display_id>/action")
@requires(DISPLAY_MANAGE)
def action(display_id: int) -> Any:
    """Ask the display to reload, clear its cache or pair again (on its next heartbeat)."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id, DISPLAY_MANAGE)
    kind = request.form.get("action", "")
    try:
        displays.request_action(ctx, display, kind)
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("displays.show", display_id=display.id)), 303
    flash(_("Sent: “%(action)s”; the screen does it within a minute.",
            action=ACTIONS[kind]), "ok")
    return redirect(url_for("displays.show", display_id=display.id))


@bp.post("/<int:display_id>/pair-again")
@requires(DISPLAY_MANAGE)
def pair_again(display_id: int) -> Any:
    """Give this display (unpaired or revoked) to the screen showing the code typed."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id, DISPLAY_MANAGE)
    try:
        displays.pair_again(ctx, display, request.form.get("code", "")[:20])
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("displays.show", display_id=display.id)), 303
    flash(_("Paired: “%(name)s” will start showing its content within seconds.",
            name=display.name), "ok")
    return redirect(url_for("displays.show", display_id=display.id))


@bp.post("/<int:display_id>/revoke")
@requires(DISPLAY_MANAGE)
def revoke(display_id: int) -> Any:
    """Take the display's token away; it goes back to its pairing screen."""
    ctx = request_ctx()
    display = displays.get_display(ctx, display_id, DISPLAY_MANAGE)
    displays.revoke(ctx, display)
    flash(_("“%(name)s” is revoked; it shows a pairing code again.", name=display.name), "ok")
    return redirect(url_for("displays.show", display_id=display.id))
