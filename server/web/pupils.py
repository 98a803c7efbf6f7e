"""The card administrator's pages: a school's pupils, and sync runs (upload, plan, settle,
apply, export)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server import progress
from server.access import request_ctx, requires
from server.errors import Invalid
from server.models.pupils import CardRow, PupilPhoto, PupilRow
from server.rights import PHOTO_VIEW, PUPIL_MANAGE
from server.services import orgs, photo_batches, pupil_sync
from server.services import photos as photo_service
from server.web.forms import errors_by_field
from sync.names import normalize_name
from sync.photo_batch import PHOTO_EXTENSIONS, Member, extension_of, is_hidden
from sync.readers import CARD_COLUMNS, REGISTER_COLUMNS

bp = Blueprint("pupils", __name__, url_prefix="/pupils")

KINDS = {
    "conflict": (_l("Conflicts"), _l("A person decides: nothing is done about these.")),
    "duplicate_pupil": (_l("Possible duplicates"), _l(
        "Same name and birth date under different register IDs. Their cards wait until you "
        "say whether these are different children.")),
    "duplicate_cards": (_l("Several active cards"), _l(
        "One pupil holds more than one active card: block the extra ones in the card "
        "system.")),
    "propose_match": (_l("Proposed matches"), _l(
        "A card without a register ID whose name and birth date fit a pupil. Confirm or "
        "reject.")),
    "issue_card": (_l("Cards to issue"), _l("Enrolled pupils without a working card.")),
    "unblock_card": (_l("Cards to unblock"), _l("Pupils back at school whose card was "
                                               "blocked.")),
    "block_card": (_l("Cards to block"), _l("Pupils who left, after the grace period.")),
    "update_card": (_l("Card data to correct"), _l("The card's holder data differ from the "
                                                  "register.")),
    "photo_missing": (_l("Photos missing"), _l("No photo for the card.")),
    "photo_outdated": (_l("Photos outdated"), _l("Older than the school allows.")),
    "pupil_new": (_l("New pupils"), _l("In the register, not yet in Vitrina.")),
    "pupil_update": (_l("Pupil data changed"), _l("The register has new data.")),
    "pupil_left": (_l("Pupils who left"), _l("Left the school, or no longer in the "
                                             "register.")),
    "pupil_back": (_l("Pupils back"), _l("Left before, in the register again.")),
}
FIELDS = {"surname": _l("Surname"), "first_name": _l("First name"),
          "patronymic": _l("Patronymic"), "birth_date": _l("Birth date"),
          "class_name": _l("Class"), "school": _l("School"), "pupil_id": _l("Register ID")}
STATUSES = {"planned": _l("Planned (dry run)"), "applied": _l("Applied"),
            "discarded": _l("Discarded")}
BATCH_STATUSES = {"checking": _l("being checked"), "ready": _l("waiting for confirmation"),
                  "applied": _l("confirmed"), "discarded": _l("discarded")}
CARD_STATUSES = {"active": _l("active"), "blocked": _l("blocked"), "lost": _l("lost"),
                 "expired": _l("expired")}


@bp.app_context_processor
def sync_labels() -> dict[str, Any]:
    return {"sync_kinds": KINDS, "sync_fields": FIELDS, "run_statuses": STATUSES,
            "card_statuses": CARD_STATUSES, "batch_statuses": BATCH_STATUSES}


def _schools() -> list[Any]:
    return [row.org for row in orgs.as_tree(orgs.visible_orgs(request_ctx(), PUPIL_MANAGE))
            if row.org.kind == "school"]


def _school_id(schools: list[Any]) -> int | None:
    raw = request.values.get("school_id", "")
    if raw.isdigit():
        return int(raw)
    return schools[0].id if schools else None


@bp.get("/")
@requires(PUPIL_MANAGE)
def index() -> Any:
    """A school's pupils with their cards, searchable by name, ID or class."""
    ctx = request_ctx()
    schools = _schools()
    school_id = _school_id(schools)
    pupils: list[Any] = []
    cards: dict[str, list[Any]] = {}
    q = request.args.get("q", "").strip()[:100]
    total = 0
    if school_id is not None:
        school = pupil_sync.school_for(ctx, school_id)
        found = list(ctx.session.scalars(select(PupilRow).where(
            PupilRow.school_id == school.id).order_by(
            PupilRow.class_name, PupilRow.surname, PupilRow.first_name)))
        if q:
            # In Python: the database's lower() knows no Cyrillic, and ё/е should match.
            key = normalize_name(q)
            found = [p for p in found if key in normalize_name(f"{p.surname} {p.first_name}")
                     or q in (p.register_id, p.class_name) or q.upper() == p.class_name]
        total = len(found)
        pupils = found[:200]
        ids = {p.register_id for p in pupils}
        # A card is a pupil's by its register ID, or by a match a person confirmed (until
        # the card system's list carries the ID).
        confirmed = dict(pupil_sync.decisions_of(ctx.session, school.id).confirmed)
        for c in ctx.session.scalars(select(CardRow).where(CardRow.school_id == school.id)):
            owner = c.pupil_register_id or confirmed.get(c.number)
            if owner in ids:
                cards.setdefault(owner, []).append(c)
    dropped = _dropped(pupil_sync.list_runs(ctx, school_id, 10)) \
        if school_id is not None else None
    dropped_photos = photo_batches.open_drop_batch(ctx.session, school_id,
                                                   photo_batches.DROP_SOURCES) \
        if school_id is not None else None
    return render_template("pupils/index.html", schools=schools, school_id=school_id,
                           pupils=pupils, cards=cards, q=q, total=total, dropped=dropped,
                           dropped_photos=dropped_photos)


WARNINGS = {"low_resolution": _l("low resolution for the card"),
            "too_dark": _l("too dark"), "too_bright": _l("too bright"),
            "blurred": _l("very blurred")}


@bp.get("/<int:pupil_id>")
@requires(PUPIL_MANAGE)
def pupil(pupil_id: int) -> Any:
    """One pupil: data, cards, the current photo and its history, and a new photo."""
    ctx = request_ctx()
    found = photo_service.get_pupil(ctx, pupil_id)
    cards = list(ctx.session.scalars(select(CardRow).where(
        CardRow.school_id == found.school_id,
        CardRow.pupil_register_id == found.register_id)))
    settings = photo_service.photo_settings()
    return render_template("pupils/pupil.html", p=found, cards=cards, today=date.today(),
                           card_size=(settings.width, settings.height),
                           photos=photo_service.photos_of_pupil(ctx, found),
                           warning_names=WARNINGS)


def _box() -> tuple[float, float, float, float] | None:
    raw = [request.form.get(k, "") for k in ("x0", "y0", "x1", "y1")]
    if not any(raw):
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in raw)
    except ValueError:
        raise Invalid(_("The frame is not valid; choose it again."), "photo") from None
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise Invalid(_("The frame is not valid; choose it again."), "photo")
    return x0, y0, x1, y1


@bp.post("/<int:pupil_id>/photo")
@requires(PUPIL_MANAGE)
def add_photo(pupil_id: int) -> Any:
    """A new photo of the pupil, cropped by the chosen frame."""
    ctx = request_ctx()
    found = photo_service.get_pupil(ctx, pupil_id)
    upload = request.files.get("photo")
    try:
        if upload is None or not upload.filename:
            raise Invalid(_("Choose a photo."), "photo")
        added = photo_service.add_photo(ctx, found, upload.read(), _box())
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.pupil", pupil_id=pupil_id)), 303
    if added.warnings:
        flash(_("Saved, but check it: %(warnings)s.",
                warnings=", ".join(str(WARNINGS[w]) for w in added.warnings)), "warn")
    else:
        flash(_("Photo saved.") if added.new else _("This photo was there already; it is "
                                                      "the current one again."), "ok")
    return redirect(url_for("pupils.pupil", pupil_id=pupil_id))


@bp.post("/<int:pupil_id>/consent")
@requires(PUPIL_MANAGE)
def consent(pupil_id: int) -> Any:
    """Record a photo-use consent or its withdrawal, as the school has it on paper."""
    ctx = request_ctx()
    found = photo_service.get_pupil(ctx, pupil_id)
    form = request.form
    given = form.get("given", "")
    try:
        if given not in ("yes", "no"):
            raise Invalid(_("Say whether consent is given or withdrawn."), "given")
        try:
            on = date.fromisoformat(form.get("consent_on", "")) \
                if form.get("consent_on") else None
        except ValueError:
            raise Invalid(_("The date is not valid."), "consent_on") from None
        photo_service.record_consent(ctx, found, given == "yes", on,
                                     form.get("consent_source", ""))
    except Invalid as exc:
        ctx.session.rollback()
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.pupil", pupil_id=pupil_id)), 303
    flash(_("Consent recorded.") if given == "yes" else _("Withdrawal recorded: the photo "
                                                         "is no longer exported."), "ok")
    return redirect(url_for("pupils.pupil", pupil_id=pupil_id))


@bp.get("/photos/<int:photo_id>.jpg")
@requires(PHOTO_VIEW)
def photo(photo_id: int) -> Any:
    """A pupil's photo: private, never cached."""
    data = photo_service.photo_file(request_ctx(), photo_id)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


STEPS = {"read": _l("Reading the files"), "plan": _l("Planning"),
         "pupils": _l("Writing the pupils"), "cards": _l("Writing the cards"),
         "actions": _l("Recording the card changes"), "done": _l("Finishing")}


@contextmanager
def _tracked(ctx: Any) -> Iterator[Callable[[str, int, int], None]]:
    """The progress callback for the page's token (or one that tells nobody)."""
    token = request.form.get("progress", "")
    if not progress.valid_token(token):
        yield lambda _step, _done, _total: None
        return
    tracker = progress.ProgressFile(token, ctx.actor_id)
    try:
        yield tracker
    finally:
        tracker.close()


@bp.get("/progress/<token>")
@requires(PUPIL_MANAGE)
def progress_of(token: str) -> Any:
    """How far the person's own sync plan or apply has got."""
    state = progress.read(token, request_ctx().actor_id)
    if state is None:
        return {"error": "unknown"}, 404
    done, total = int(state["done"]), int(state["total"])
    label = str(STEPS.get(state["step"], state["step"]))
    if total > 2:
        label = _("%(step)s: %(done)s of %(total)s", step=label, done=format_decimal(done),
                  total=format_decimal(total))
    return {"step": state["step"], "done": done, "total": total, "label": label + "…"}


@bp.route("/sync", methods=["GET", "POST"])
@requires(PUPIL_MANAGE)
def sync() -> Any:
    """Upload a register and a card list: a dry run shows the plan."""
    ctx = request_ctx()
    schools = _schools()
    school_id = _school_id(schools)
    errors: dict[str, str] = {}
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        register, cards = request.files.get("register"), request.files.get("cards")
        if school_id is None:
            abort(404)
        try:
            if not register or not register.filename:
                raise Invalid(_("Choose the register's export."), "register")
            if not cards or not cards.filename:
                raise Invalid(_("Choose the card system's list."), "cards")
            with _tracked(ctx) as tracker:
                run = pupil_sync.plan_run(
                    ctx, school_id, (register.filename, register.read()),
                    (cards.filename, cards.read()), "confirm_missing" in request.form,
                    progress=tracker)
        except Invalid as exc:
            problems = exc.errors
            errors = errors_by_field(exc)
            status = 422
        else:
            return redirect(url_for("pupils.run", run_id=run.id))
    return _sync_page(schools, school_id, errors, problems, status)


def _mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{header} = {field}" for header, field in mapping.items())


def _sync_page(schools: list[Any], school_id: int | None, errors: dict[str, str],
               problems: list[Any], status: int, columns: dict[str, str] | None = None
               ) -> Any:
    ctx = request_ctx()
    runs = pupil_sync.list_runs(ctx, school_id) if school_id is not None else []
    if columns is None and school_id is not None:
        register, cards = pupil_sync.mappings_of(ctx.session, school_id)
        columns = {"register_mapping": _mapping_text(register),
                   "cards_mapping": _mapping_text(cards)}
    url, auth = pupil_sync.push_target(ctx.session, school_id) \
        if school_id is not None else ("", "")
    return render_template("pupils/sync.html", schools=schools, school_id=school_id,
                           push={"url": url, "auth": bool(auth)},
                           runs=runs, errors=errors, problems=problems,
                           dropped=_dropped(runs), columns=columns or {},
                           register_fields=sorted(REGISTER_COLUMNS),
                           card_fields=sorted(CARD_COLUMNS)), status


@bp.post("/sync/push-settings")
@requires(PUPIL_MANAGE)
def push_settings() -> Any:
    """Where applied runs' exports are sent (the card system's address and key)."""
    ctx = request_ctx()
    schools = _schools()
    school_id = _school_id(schools)
    if school_id is None:
        abort(404)
    form = request.form
    try:
        pupil_sync.save_push(ctx, school_id, form.get("push_url", "")[:600],
                             form.get("push_auth", "")[:600], "forget_auth" in form)
    except Invalid as exc:
        ctx.session.rollback()
        return _sync_page(schools, school_id, errors_by_field(exc), [], 422)
    flash(_("Saved."), "ok")
    return redirect(url_for("pupils.sync", school_id=school_id))


@bp.post("/sync/columns")
@requires(PUPIL_MANAGE)
def columns() -> Any:
    """Save the column names a school's exports use, for the fields Vitrina reads."""
    ctx = request_ctx()
    schools = _schools()
    school_id = _school_id(schools)
    if school_id is None:
        abort(404)
    texts = {k: request.form.get(k, "")[:5000] for k in ("register_mapping", "cards_mapping")}
    try:
        pupil_sync.save_mappings(ctx, school_id, texts["register_mapping"],
                                 texts["cards_mapping"])
    except Invalid as exc:
        return _sync_page(schools, school_id, errors_by_field(exc), [], 422, texts)
    flash(_("Column names saved; they apply to the next upload."), "ok")
    return redirect(url_for("pupils.sync", school_id=school_id))


def _dropped(runs: list[Any]) -> Any:
    """The newest run a drop folder planned, if nothing was applied after it."""
    for r in runs:      # newest first
        if r.status == "applied":
            return None
        if r.created_by_name == "drop-folder" and r.status == "planned":
            return r
    return None


@bp.get("/sync/<int:run_id>")
@requires(PUPIL_MANAGE)
def run(run_id: int) -> Any:
    """A run's plan grouped by kind (filter by kind or by ID), and what it did once applied."""
    ctx = request_ctx()
    found = pupil_sync.get_run(ctx, run_id)
    kind = request.args.get("kind", "")
    q = request.args.get("q", "").strip()
    actions = [a for a in found.plan if (not kind or a["kind"] == kind)
               and (not q or q in (a["pupil_id"] or "", a["card_number"] or "",
                                   *a["others"]))]
    school = pupil_sync.school_for(ctx, found.school_id)
    return render_template("pupils/run.html", run=found, school=school, kind=kind, q=q,
                           push_url=pupil_sync.push_target(ctx.session, found.school_id)[0],
                           actions=actions[:500], shown_total=len(actions))


@bp.post("/sync/<int:run_id>/decide")
@requires(PUPIL_MANAGE)
def decide(run_id: int) -> Any:
    """Confirm or reject a proposed match, or say two pupils are different children."""
    ctx = request_ctx()
    found = pupil_sync.get_run(ctx, run_id)
    form = request.form
    try:
        pupil_sync.decide(ctx, found, form.get("verdict", ""), form.get("register_id", ""),
                          form.get("card_number", ""), form.get("other_register_id", ""))
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.run", run_id=run_id)), 303
    flash(_("Noted; the plan is updated."), "ok")
    return redirect(url_for("pupils.run", run_id=run_id, kind=form.get("kind", "")))


@bp.post("/sync/<int:run_id>/apply")
@requires(PUPIL_MANAGE)
def apply(run_id: int) -> Any:
    """Apply the plan, all at once."""
    ctx = request_ctx()
    try:
        with _tracked(ctx) as tracker:
            done = pupil_sync.apply_run(ctx, run_id, progress=tracker)
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.run", run_id=run_id)), 303
    if pupil_sync.push_target(ctx.session, done.school_id)[0]:
        ctx.session.commit()        # applied, whatever the card system answers
        _flash_push(pupil_sync.push_run(ctx, done))
    else:
        flash(_("Applied. Download the export for the card system below."), "ok")
    return redirect(url_for("pupils.run", run_id=done.id))


def _flash_push(result: dict[str, Any]) -> None:
    if result["ok"]:
        flash(_("Applied and sent to the card system."), "ok")
    else:
        flash(_("Applied, but not sent to the card system: %(error)s", error=result["error"]),
              "warn")


@bp.post("/sync/<int:run_id>/push")
@requires(PUPIL_MANAGE)
def push(run_id: int) -> Any:
    """Send an applied run's export to the card system (again)."""
    ctx = request_ctx()
    found = pupil_sync.get_run(ctx, run_id)
    try:
        result = pupil_sync.push_run(ctx, found)
    except Invalid as exc:
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.run", run_id=run_id)), 303
    if result["ok"]:
        flash(_("Sent to the card system."), "ok")
    else:
        flash(_("Not sent to the card system: %(error)s", error=result["error"]), "warn")
    return redirect(url_for("pupils.run", run_id=run_id))


@bp.get("/sync/<int:run_id>/<any('changes.csv', 'photos.zip'):name>")
@requires(PUPIL_MANAGE)
def export(run_id: int, name: str) -> Any:
    """The applied run's files for the card system."""
    ctx = request_ctx()
    found = pupil_sync.get_run(ctx, run_id)
    files = pupil_sync.export_of(ctx, found)
    data = files.changes_csv if name == "changes.csv" else files.photos_zip
    mimetype = "text/csv" if name == "changes.csv" else "application/zip"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="sync-{found.id}-{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: Routes that take uploads larger than MAX_CONTENT_LENGTH (set before the form is read).
LARGE_UPLOADS = frozenset({"pupils.import_photos"})
PROBLEM_TEXT = {
    "not_a_photo": _l("not a photo (JPEG, PNG, WebP or HEIC)"),
    "no_match": _l("no pupil has this register ID, card number or name"),
    "ambiguous": _l("several pupils have this name: name the file by register ID"),
    "left": _l("the pupil has left the school"),
    "several_files": _l("more than one file for this pupil"),
}
MATCHED_BY = {"register_id": _l("register ID"), "card": _l("card number"),
              "name": _l("name")}


def allow_large_uploads() -> None:
    """Let a bulk photo import be as large as PHOTO_BATCH_MAX_BYTES."""
    if request.method == "POST" and request.endpoint in LARGE_UPLOADS:
        request.max_content_length = int(current_app.config["PHOTO_BATCH_MAX_BYTES"])
        request.max_form_parts = 20_000


def _uploaded_members() -> tuple[str, list[Member]]:
    """The files of the upload: one ZIP, or the files of a chosen folder."""
    limit = photo_service.photo_settings().max_bytes
    archive = request.files.get("archive")
    if archive is not None and archive.filename:
        return archive.filename, photo_batches.read_archive(archive.read())
    members = []
    files = [f for f in request.files.getlist("files") if f.filename]
    for f in files:
        name = f.filename or ""
        if is_hidden(name):
            continue
        if extension_of(name) not in PHOTO_EXTENSIONS:
            members.append(Member(name, b""))
            continue
        data = f.read(limit + 1)
        if len(data) > limit:
            raise Invalid(_("“%(name)s” is larger than %(mb)s MB.", name=name,
                            mb=limit // 2**20), "files")
        members.append(Member(name, data))
    if not files:
        raise Invalid(_("Choose a ZIP archive or a folder of photos."), "archive")
    folder = files[0].filename.replace("\\", "/").split("/")[0] \
        if files[0].filename and "/" in files[0].filename.replace("\\", "/") else ""
    return folder or _("%(n)s files", n=len(files)), members


@bp.route("/photos/import", methods=["GET", "POST"])
@requires(PUPIL_MANAGE)
def import_photos() -> Any:
    """Photos for many pupils: a ZIP or a folder, matched by file name, checked, and
    written only when confirmed."""
    ctx = request_ctx()
    schools = _schools()
    school_id = _school_id(schools)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if school_id is None:
            abort(404)
        try:
            name, members = _uploaded_members()
            batch = photo_batches.start_batch(ctx, school_id, name, members)
        except Invalid as exc:
            ctx.session.rollback()
            errors = errors_by_field(exc)
            status = 422
        else:
            ctx.session.commit()
            return redirect(url_for("pupils.batch", batch_id=batch.id))
    batches = photo_batches.list_batches(ctx, school_id) if school_id is not None else []
    return render_template("pupils/import.html", schools=schools, school_id=school_id,
                           batches=batches, errors=errors,
                           max_mb=int(current_app.config["PHOTO_BATCH_MAX_BYTES"]) // 2**20
                           ), status


@bp.get("/photos/batches/<int:batch_id>")
@requires(PUPIL_MANAGE)
def batch(batch_id: int) -> Any:
    """A batch: its check's progress, then which file goes to whom, what is left out and
    why, and the confirm button."""
    ctx = request_ctx()
    found = photo_batches.get_batch(ctx, batch_id)
    ids = {i["register_id"] for i in found.items if i["register_id"]}
    for i in found.items:
        ids.update(i["others"] if i["problem"] == "ambiguous" else ())
    pupils = {p.register_id: p for p in ctx.session.scalars(select(PupilRow).where(
        PupilRow.school_id == found.school_id, PupilRow.register_id.in_(ids)))} \
        if ids else {}
    with_photo = set(ctx.session.scalars(select(PupilRow.register_id).join(
        PupilPhoto, PupilPhoto.pupil_id == PupilRow.id).where(
        PupilRow.school_id == found.school_id, PupilRow.register_id.in_(ids),
        PupilPhoto.current.is_(True)))) if ids else set()
    done, total = photo_batches.progress_of(found)
    return render_template("pupils/batch.html", batch=found, pupils=pupils,
                           with_photo=with_photo, done=done, total=total,
                           problems=PROBLEM_TEXT, matched_by=MATCHED_BY,
                           warning_names=WARNINGS, photo_reason=photo_service.reason,
                           school=pupil_sync.school_for(ctx, found.school_id))


@bp.post("/photos/batches/<int:batch_id>/check")
@requires(PUPIL_MANAGE)
def batch_check(batch_id: int) -> Any:
    """Check the next files (about two seconds' worth); JSON progress for the page's
    script, or back to the page."""
    ctx = request_ctx()
    found = photo_batches.get_batch(ctx, batch_id)
    done, total = photo_batches.check(ctx, found, budget=2.0)
    ctx.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return {"status": found.status, "done": done, "total": total}
    return redirect(url_for("pupils.batch", batch_id=batch_id))


@bp.get("/photos/batches/<int:batch_id>/<int:n>.jpg")
@requires(PUPIL_MANAGE)
def batch_photo(batch_id: int, n: int) -> Any:
    """A checked photo of a batch, as the card would get it: private, never cached."""
    ctx = request_ctx()
    found = photo_batches.get_batch(ctx, batch_id)
    path = photo_batches.staging(found) / "out" / f"{n}.jpg"
    if found.status not in ("checking", "ready") or not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/photos/batches/<int:batch_id>/apply")
@requires(PUPIL_MANAGE)
def batch_apply(batch_id: int) -> Any:
    """Give the batch's accepted photos to their pupils, all at once."""
    ctx = request_ctx()
    found = photo_batches.get_batch(ctx, batch_id)
    try:
        report = photo_batches.apply_batch(ctx, found)
    except Invalid as exc:
        ctx.session.rollback()
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.batch", batch_id=batch_id)), 303
    ctx.session.commit()
    flash(ngettext("%(num)s photo saved.", "%(num)s photos saved.",
                   report["added"] + report["same"]), "ok")
    return redirect(url_for("pupils.batch", batch_id=batch_id))


@bp.post("/photos/batches/<int:batch_id>/discard")
@requires(PUPIL_MANAGE)
def batch_discard(batch_id: int) -> Any:
    """Drop a batch without writing anything."""
    ctx = request_ctx()
    found = photo_batches.get_batch(ctx, batch_id)
    try:
        photo_batches.discard_batch(ctx, found)
    except Invalid as exc:
        ctx.session.rollback()
        flash(" ".join(errors_by_field(exc).values()), "error")
        return redirect(url_for("pupils.batch", batch_id=batch_id)), 303
    ctx.session.commit()
    flash(_("Discarded; nothing was written."), "ok")
    return redirect(url_for("pupils.import_photos", school_id=found.school_id))
