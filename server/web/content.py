"""The content manager's pages: items from draft to archive, alerts, media and previews."""

from __future__ import annotations

import io
from datetime import datetime, time
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError

from server.access import request_ctx, requires
from server.content_schemas import (
    AlertRaise,
    BulkIn,
    ContentQuery,
    ItemCreate,
    ItemFields,
    ItemUpdate,
    RejectIn,
)
from server.errors import FieldError, Invalid
from server.models.content import ContentItem
from server.rights import CONTENT_EDIT
from server.schemas import field_errors
from server.services import content, media, orgs
from server.web.forms import errors_by_field, parse_args, parse_form

bp = Blueprint("content", __name__, url_prefix="/content")

KIND_NAMES = {
    "news": _l("News"),
    "alert": _l("Alert"),
    "poll": _l("Poll"),
    "link": _l("Link"),
    "qa": _l("Questions and answers"),
    "media": _l("Image or video"),
}
STATE_NAMES = {
    "draft": _l("Draft"),
    "review": _l("Waiting for review"),
    "scheduled": _l("Scheduled"),
    "published": _l("On screen"),
    "expired": _l("Ended"),
    "archived": _l("Archived"),
}
SEVERITY_NAMES = {"info": _l("Information"), "warning": _l("Warning"),
                  "critical": _l("Emergency")}
DURING_NAMES = {"": _l("any time"), "lessons": _l("during lessons"),
                "breaks": _l("during breaks"), "big_break": _l("in the big break")}
WEEKDAY_NAMES = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
#: Empty rows offered below the existing ones in the Q&A and poll editors.
SPARE_ROWS = 3


@bp.app_context_processor
def content_labels() -> dict[str, Any]:
    return {"content_kinds": KIND_NAMES, "content_states": STATE_NAMES,
            "severities": SEVERITY_NAMES, "weekday_names": WEEKDAY_NAMES,
            "media_url": media.media_url, "during_names": DURING_NAMES,
            "during_label": _during_label}


def _during_label(spec: str) -> str:
    if spec.startswith("period:"):
        return _("during period %(n)s", n=spec[7:])
    return str(DURING_NAMES.get(spec, spec))


def _org_rows() -> list[orgs.TreeRow]:
    return orgs.as_tree(orgs.visible_orgs(request_ctx(), CONTENT_EDIT))


# --- reading the item form ---------------------------------------------------------------

_SCALARS = ("title", "body", "severity", "url", "fit", "zone", "priority", "duration",
            "target_mode", "media_id", "during")
_FORM_FIELDS = frozenset(_SCALARS) | {
    "kind", "org_id", "starts_at", "ends_at", "daily_start", "daily_end", "weekdays",
    "target_org_ids", "target_groups", "options", "qa_question", "qa_answer", "file",
    "csrf_token", "submit"}


def _local_moment(name: str, errors: list[FieldError]) -> datetime | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("Must be a date and time.")))
        return None
    return naive.replace(tzinfo=get_timezone())


def _clock(name: str, errors: list[FieldError]) -> time | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("Must be a time (HH:MM).")))
        return None


def _groups() -> list[str]:
    raw = request.form.get("target_groups", "")
    return [g.strip().lower() for g in raw.replace(";", ",").split(",") if g.strip()]


def _read_item_form(model: type[ItemFields], item: ContentItem | None) -> ItemFields:
    """Build the same validated shape the API takes from the item form (and its upload)."""
    form = request.form
    unknown = set(form) - _FORM_FIELDS
    if unknown:
        raise Invalid([FieldError(n, _("Unknown field.")) for n in sorted(unknown)])
    errors: list[FieldError] = []
    raw: dict[str, Any] = {k: form[k] for k in _SCALARS if form.get(k, "").strip() != ""}
    if model is ItemCreate:
        raw["kind"] = form.get("kind", "")
        raw["org_id"] = form.get("org_id", "")
    raw["starts_at"] = _local_moment("starts_at", errors)
    raw["ends_at"] = _local_moment("ends_at", errors)
    raw["daily_start"] = _clock("daily_start", errors)
    raw["daily_end"] = _clock("daily_end", errors)
    raw["weekdays"] = form.getlist("weekdays")
    raw["target_org_ids"] = form.getlist("target_org_ids")
    raw["target_groups"] = _groups()
    raw["options"] = [o.strip() for o in form.getlist("options") if o.strip()]
    raw["qa"] = [{"question": q, "answer": a} for q, a in
                 zip(form.getlist("qa_question"), form.getlist("qa_answer"), strict=False)
                 if q.strip() or a.strip()]
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        org_id = item.org_id if item is not None else form.get("org_id", "")
        try:
            asset = media.upload(request_ctx(), int(org_id), upload.filename, upload.read())
        except ValueError:
            errors.append(FieldError("org_id", _("Choose the organisation first.")))
        except Invalid as exc:
            errors.extend(FieldError("file", e.reason) for e in exc.errors)
        else:
            raw["media_id"] = asset.id
    try:
        data = model.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(errors + field_errors(exc)) from None
    if errors:
        raise Invalid(errors)
    return data


def _form_of(item: ContentItem) -> dict[str, Any]:
    """The form values of an existing item, in the reader's time zone."""
    tz = get_timezone()

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {
        "title": item.title, "body": item.body, "severity": item.severity,
        "url": item.data.get("url", ""), "fit": item.data.get("fit", "contain"),
        "zone": item.data.get("zone", "main"),
        "priority": item.priority, "duration": item.duration,
        "during": item.data.get("during", ""),
        "target_mode": item.target_mode, "media_id": item.media_id or "",
        "starts_at": local(item.starts_at), "ends_at": local(item.ends_at),
        "daily_start": item.daily_start.strftime("%H:%M") if item.daily_start else "",
        "daily_end": item.daily_end.strftime("%H:%M") if item.daily_end else "",
        "weekdays": [int(d) for d in item.weekdays],
        "target_org_ids": [t.org_id for t in item.targets],
        "target_groups": ", ".join(item.target_groups),
        "options": [o.label for o in item.options],
        "qa": item.data.get("qa", []),
        "org_id": item.org_id, "kind": item.kind,
    }


def _posted_form() -> dict[str, Any]:
    """What the person typed, to show it again next to the errors."""
    form = request.form
    out: dict[str, Any] = {k: form.get(k, "") for k in _FORM_FIELDS if k in form}
    out["weekdays"] = [int(d) for d in form.getlist("weekdays") if d.isdigit()]
    out["target_org_ids"] = [int(d) for d in form.getlist("target_org_ids") if d.isdigit()]
    out["options"] = [o for o in form.getlist("options") if o.strip()]
    out["qa"] = [{"question": q, "answer": a} for q, a in
                 zip(form.getlist("qa_question"), form.getlist("qa_answer"), strict=False)
                 if q.strip() or a.strip()]
    return out


def _render_form(form: dict[str, Any], errors: dict[str, str], item: ContentItem | None,
                 status: int) -> Any:
    kind = item.kind if item is not None else form.get("kind", "news")
    org_id = item.org_id if item is not None else form.get("org_id")
    owner = None
    if org_id:
        try:
            owner = content.org_in_scope(request_ctx(), int(org_id))
        except (ValueError, Invalid):
            owner = None
    library = media.visible_media(request_ctx(), owner) if kind in ("news", "media") else []
    return render_template("content/form.html", form=form, errors=errors, item=item,
                           kind=kind, org_rows=_org_rows(), library=library,
                           spare=SPARE_ROWS), status


# --- list, create, edit ------------------------------------------------------------------

@bp.get("/")
@requires(CONTENT_EDIT)
def index() -> Any:
    """Items in the content manager's part of the tree, with filters, search and bulk actions."""
    query = parse_args(ContentQuery)
    per_page = int(current_app.config["PAGE_SIZE"])
    ctx = request_ctx()
    found, total = content.list_items(ctx, query, per_page, str(get_timezone()))
    return render_template("content/index.html", items=found, total=total, query=query,
                           per_page=per_page, org_rows=_org_rows(),
                           state_of=content.item_state)


@bp.route("/new", methods=["GET", "POST"])
@requires(CONTENT_EDIT)
def create() -> Any:
    """Write a new item of the chosen kind; it starts as a draft."""
    if request.method == "GET":
        kind = request.args.get("kind", "news")
        if kind not in KIND_NAMES:
            kind = "news"
        rows = _org_rows()
        default_org = request.args.get("org", rows[0].org.id if rows else "")
        form = {"kind": kind, "org_id": default_org, "duration": 10, "priority": 0,
                "target_org_ids": [int(default_org)] if str(default_org).isdigit() else [],
                "target_mode": "any", "fit": "contain", "severity": "info"}
        return _render_form(form, {}, None, 200)
    try:
        data = _read_item_form(ItemCreate, None)
        assert isinstance(data, ItemCreate)
        item = content.create_item(request_ctx(), data)
    except Invalid as exc:
        return _render_form(_posted_form(), errors_by_field(exc), None, 422)
    flash(_("The draft has been saved."), "ok")
    return redirect(url_for("content.show", item_id=item.id))


@bp.get("/<int:item_id>")
@requires(CONTENT_EDIT)
def show(item_id: int) -> Any:
    """One item: how it looks on a screen, where it goes, and what can be done with it."""
    ctx = request_ctx()
    item = content.get_item(ctx, item_id)
    votes = content.poll_results(ctx, item) if item.kind == "poll" else {}
    return render_template("content/show.html", item=item, state=content.item_state(item),
                           may_publish=content.may_publish(ctx, item.org), votes=votes,
                           total_votes=sum(votes.values()), vote_url=content.vote_url(item),
                           qr_target=content.qr_target(item))


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@requires(CONTENT_EDIT)
def edit(item_id: int) -> Any:
    """Change an item (a published item changed without the right to publish goes to review)."""
    ctx = request_ctx()
    item = content.get_item(ctx, item_id)
    if request.method == "GET":
        return _render_form(_form_of(item), {}, item, 200)
    try:
        data = _read_item_form(ItemUpdate, item)
        content.update_item(ctx, item_id, data)
    except Invalid as exc:
        return _render_form(_posted_form(), errors_by_field(exc), item, 422)
    flash(_("Changes saved."), "ok")
    return redirect(url_for("content.show", item_id=item_id))


# --- one-click actions -------------------------------------------------------------------

def _back(default: str) -> Any:
    """Go to the page the form names in "next" if it is one of ours, else to default."""
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return redirect(target)


def _act(item_id: int, fn: Any, message: Any, *args: Any) -> Any:
    content.get_item(request_ctx(), item_id)  # 403 before anything else
    try:
        item = fn(request_ctx(), item_id, *args)
    except Invalid as exc:
        flash("; ".join(e.reason for e in exc.errors), "error")
        return _back(url_for("content.show", item_id=item_id))
    flash(message, "ok")
    return _back(url_for("content.show", item_id=item.id))


@bp.post("/<int:item_id>/publish")
@requires(CONTENT_EDIT)
def publish(item_id: int) -> Any:
    """Publish the item, or send it for review where that is required."""
    item = content.get_item(request_ctx(), item_id)
    goes_to_review = not content.may_publish(request_ctx(), item.org)
    return _act(item_id, content.publish_item,
                _("Sent for review.") if goes_to_review else _("Published."))


@bp.post("/<int:item_id>/approve")
@requires(CONTENT_EDIT)
def approve(item_id: int) -> Any:
    """Approve an item waiting for review."""
    return _act(item_id, content.approve_item, _("Approved and published."))


@bp.post("/<int:item_id>/reject")
@requires(CONTENT_EDIT)
def reject(item_id: int) -> Any:
    """Send an item back to its author with a reason."""
    content.get_item(request_ctx(), item_id)
    try:
        data = parse_form(RejectIn)
    except Invalid:
        flash(_("Say why the item is sent back."), "error")
        return redirect(url_for("content.show", item_id=item_id))
    return _act(item_id, content.reject_item, _("Sent back to the author."), data.reason)


@bp.post("/<int:item_id>/expire")
@requires(CONTENT_EDIT)
def expire(item_id: int) -> Any:
    """Take the item off the screens now (withdraws an alert)."""
    return _act(item_id, content.expire_item, _("Taken off the screens."))


@bp.post("/<int:item_id>/archive")
@requires(CONTENT_EDIT)
def archive(item_id: int) -> Any:
    """Move the item to the archive."""
    return _act(item_id, content.archive_item, _("Moved to the archive."))


@bp.post("/<int:item_id>/duplicate")
@requires(CONTENT_EDIT)
def duplicate(item_id: int) -> Any:
    """Copy the item as a new draft and open it."""
    return _act(item_id, content.duplicate_item, _("A copy has been made as a new draft."))


@bp.post("/bulk")
@requires(CONTENT_EDIT)
def bulk() -> Any:
    """End or archive the ticked items, all or none."""
    try:
        data = BulkIn.model_validate({"ids": request.form.getlist("ids"),
                                      "action": request.form.get("action", "")})
        count = content.bulk(request_ctx(), data.ids, data.action)
    except ValidationError:
        flash(_("Tick at least one item and choose what to do."), "error")
    except Invalid as exc:
        flash("; ".join(e.reason for e in exc.errors), "error")
    else:
        flash(_("%(count)s item(s) changed.", count=count), "ok")
    return _back(url_for("content.index"))


# --- alerts ------------------------------------------------------------------------------

@bp.route("/alerts", methods=["GET", "POST"])
@requires(CONTENT_EDIT)
def alerts() -> Any:
    """Alerts on screen now, and raising a new one in one step."""
    ctx = request_ctx()
    errors: dict[str, str] = {}
    form: dict[str, Any] = {"severity": "critical"}
    if request.method == "POST":
        try:
            problems: list[FieldError] = []
            raw: dict[str, Any] = {k: v for k, v in request.form.items()
                                   if k in ("org_id", "title", "body", "severity")
                                   and v.strip() != ""}
            raw["target_org_ids"] = request.form.getlist("target_org_ids")
            raw["target_groups"] = _groups()
            raw["ends_at"] = _local_moment("ends_at", problems)
            unknown = set(request.form) - {"csrf_token", "org_id", "title", "body", "severity",
                                           "target_org_ids", "target_groups", "ends_at"}
            problems += [FieldError(n, _("Unknown field.")) for n in sorted(unknown)]
            if problems:
                raise Invalid(problems)
            data = AlertRaise.model_validate(raw)
            item = content.raise_alert(ctx, data)
        except ValidationError as exc:
            errors = errors_by_field(Invalid(field_errors(exc)))
        except Invalid as exc:
            errors = errors_by_field(exc)
        else:
            flash(_("The alert “%(title)s” is on the screens now.", title=item.title), "ok")
            return redirect(url_for("content.alerts"))
        form = request.form.to_dict()
        form["target_org_ids"] = [int(i) for i in request.form.getlist("target_org_ids")
                                  if i.isdigit()]
    rows = _org_rows()
    return render_template("content/alerts.html", active=content.active_alerts(ctx),
                           form=form, errors=errors, org_rows=rows), 422 if errors else 200


# --- media, QR codes, results, preview -----------------------------------------------------

@bp.route("/media", methods=["GET", "POST"])
@requires(CONTENT_EDIT)
def library() -> Any:
    """The images and videos of the content manager's organisations; upload more."""
    ctx = request_ctx()
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise Invalid(_("Choose a file to upload."), "file")
            org_id = request.form.get("org_id", "")
            if not org_id.isdigit():
                raise Invalid(_("Choose the organisation first."), "org_id")
            asset = media.upload(ctx, int(org_id), upload.filename, upload.read())
        except Invalid as exc:
            errors = errors_by_field(exc)
        else:
            flash(_("“%(name)s” has been uploaded.", name=asset.original_name), "ok")
            return redirect(url_for("content.library"))
    return render_template("content/media.html", assets=media.visible_media(ctx),
                           org_rows=_org_rows(), errors=errors), 422 if errors else 200


@bp.get("/media/<sha256>.<ext>")
@requires(CONTENT_EDIT)
def media_file(sha256: str, ext: str) -> Any:
    """A stored image or video of the principal's organisations, for previews."""
    asset = media.media_for_principal(request_ctx(), sha256)
    return media.send(asset)


@bp.get("/<int:item_id>/qr.svg")
@requires(CONTENT_EDIT)
def qr(item_id: int) -> Any:
    """The QR code a screen shows for a link or a poll's voting page."""
    item = content.get_item(request_ctx(), item_id)
    target = content.qr_target(item)
    if target is None:
        raise Invalid(_("Only links and polls have a QR code."))
    out = io.BytesIO()
    segno.make(target, error="m").save(out, kind="svg", scale=8, border=2, dark="#111",
                                       xmldecl=False, svgclass=None, lineclass=None)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})


@bp.get("/<int:item_id>/results")
@requires(CONTENT_EDIT)
def results(item_id: int) -> Any:
    """Live poll results for the item page."""
    ctx = request_ctx()
    item = content.get_item(ctx, item_id)
    votes = content.poll_results(ctx, item)
    return jsonify({"total": sum(votes.values()),
                    "options": [{"id": o.id, "label": o.label, "votes": votes.get(o.id, 0)}
                                for o in item.options]})


@bp.get("/<int:item_id>/preview")
@requires(CONTENT_EDIT)
def preview(item_id: int) -> Any:
    """The item as a screen shows it, full frame (shown in a sandboxed frame)."""
    ctx = request_ctx()
    item = content.get_item(ctx, item_id)
    response = Response(render_template("content/preview.html", item=item,
                                        qr_target=content.qr_target(item)))
    # The preview holds authored HTML: it may load our own files and nothing else runs.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; media-src 'self'; "
        "style-src 'self'; frame-ancestors 'self'")
    return response
