"""The schedule dispatcher's pages: weekly grids, today's changes, imports, bells, feeds."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from pydantic import ValidationError

from content.timetable import (
    SCHOOL,
    Target,
    bell_countdown,
    changes_board,
    class_of,
    class_sort_key,
    door_sign,
    monday_of,
    screen_slice,
)
from server.access import public, request_ctx, requires
from server.errors import Invalid
from server.extensions import db
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.rights import TIMETABLE_EDIT, TIMETABLE_VIEW
from server.schemas import field_errors
from server.services import ical
from server.services import timetable as tts
from server.timetable_schemas import (
    BellsIn,
    CalendarEntryIn,
    ChangeIn,
    EventIn,
    FeedIn,
    LessonBulkIn,
    LessonIn,
    RoomIn,
    SettingsIn,
)
from server.web.forms import errors_by_field, parse_form

bp = Blueprint("timetable", __name__, url_prefix="/timetable")
feeds_bp = Blueprint("ical", __name__)

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))
WEEKDAYS_SHORT = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
PHASES = {"no_school": _l("No lessons today"), "no_lessons": _l("No lessons today"),
          "before_lessons": _l("Before lessons"), "lesson": _l("Lesson"),
          "break": _l("Break"), "after_school": _l("Lessons are over")}
TARGET_KINDS = {"class": _l("Class"), "group": _l("Subgroup"), "teacher": _l("Teacher"),
                "room": _l("Room"), "building": _l("Building"), "school": _l("School")}
CALENDAR_KINDS = {"term": _l("Term"), "holiday": _l("Holiday"),
                  "school_day": _l("Extra school day"), "bells": _l("Other bells")}
EVENT_KINDS = {"event": _l("Event"), "parent_meeting": _l("Parent meeting")}
STATUS_NAMES = {"normal": "", "changed": _l("changed"), "cancelled": _l("cancelled"),
                "moved_out": _l("moved away"), "moved_in": _l("moved here"),
                "extra": _l("extra")}

#: Import problems in the reader's language, by code (params as in content.timetable_import).
IMPORT_TEXTS = {
    "encoding": _l("The line is not UTF-8 text (save the file as UTF-8 or Windows-1251, not "
                   "both mixed)."),
    "too_big": _l("The file is larger than %(limit)s MB."),
    "empty": _l("The file is empty."),
    "csv": _l("The file is not valid CSV: %(error)s."),
    "missing_column": _l("The header has no column for %(column)s (expected one of: "
                         "%(names)s)."),
    "too_many_rows": _l("The file has more than %(limit)s rows."),
    "weekday": _l("“%(value)s” is not a day of the week (Пн … Сб, Mon … Sat or 1 … 7)."),
    "period": _l("“%(value)s” is not a period number."),
    "class_key": _l("“%(value)s” is not a class (like 7Б) or a subgroup (like 7Б/1)."),
    "required": _l("The subject is empty."),
    "week": _l("“%(value)s” is not a week (empty for every week, A or B)."),
    "floor": _l("“%(value)s” is not a floor number."),
    "too_long": _l("The value is longer than %(limit)s characters."),
    "duplicate": _l("%(group)s already has a lesson then (row %(other)s)."),
    "unknown_class": _l("The school has no class %(value)s."),
    "period_range": _l("Period %(value)s is not in the bell schedule (1 … %(top)s)."),
    "no_bells": _l("The school has no bell schedule yet: set up the bells first."),
    "xml": _l("The file is not readable XML: %(error)s."),
    "not_asc": _l("This is not an aSc Timetables export (its root element is “%(root)s”, "
                  "expected “timetable”)."),
    "asc_period": _l("The period definition is incomplete (period, starttime, endtime)."),
    "asc_ref": _l("The card names lesson “%(value)s”, which the file does not define."),
    "asc_subject": _l("The subject “%(value)s” is not defined in the file."),
    "asc_class": _l("The lesson names class “%(value)s”, which the file does not define."),
    "asc_no_class": _l("The lesson has no class."),
    "asc_days": _l("The card has no day (days=“%(value)s”)."),
    "asc_empty": _l("The export has no cards (placed lessons): export the timetable after "
                    "generating it."),
    "unknown_building": _l("The school has no building “%(value)s”."),
}


def import_problem(problem: Any) -> str:
    """An import problem in the reader's language."""
    text = IMPORT_TEXTS.get(problem.code)
    if text is None:
        return str(problem.message)
    try:
        return str(text) % problem.params
    except (KeyError, TypeError, ValueError):
        return str(problem.message)


@bp.app_context_processor
def timetable_labels() -> dict[str, Any]:
    return {"weekday_long": WEEKDAYS, "weekday_short": WEEKDAYS_SHORT, "tt_phases": PHASES,
            "target_kinds": TARGET_KINDS, "calendar_kinds": CALENDAR_KINDS,
            "event_kinds": EVENT_KINDS, "change_kinds": tts.CHANGE_LABELS,
            "slot_status": STATUS_NAMES, "slot_sentence": tts.slot_sentence,
            "conflict_sentence": tts.conflict_sentence, "import_problem": import_problem}


def _school(school_id: int, action: str = TIMETABLE_VIEW) -> Organisation:
    return tts.get_school(request_ctx(), school_id, action)


def _day_arg(name: str, default: date) -> date:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _form_model(model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def _back(default: str) -> Any:
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return redirect(target)


# --- schools and overview ---------------------------------------------------------------

@bp.get("/")
@requires(TIMETABLE_VIEW)
def index() -> Any:
    """The schools whose timetable the person sees; straight to it when there is one."""
    found = tts.schools(request_ctx())
    if len(found) == 1:
        return redirect(url_for("timetable.school", school_id=found[0].id))
    return render_template("timetable/index.html", schools=found)


@bp.get("/<int:school_id>/")
@requires(TIMETABLE_VIEW)
def school(school_id: int) -> Any:
    """A school's timetable at a glance: the bell now, today's changes, clashes, targets."""
    ctx = request_ctx()
    org = _school(school_id)
    tt = tts.build(ctx.session, org)
    now = utcnow()
    day = tts.today(org)
    lk = tts.lookups(ctx.session, org)
    return render_template(
        "timetable/school.html", school=org, tt=tt, bell=bell_countdown(tt, now),
        today=day, changes=tt.changes(SCHOOL, day), conflicts=tts.conflicts_of(tt, [day]),
        classes=lk.classes, teachers=sorted(lk.teachers), rooms=sorted(lk.rooms),
        may_edit=tts.may_edit(ctx, org), lessons=sum(1 for _ in tt.lessons),
        schedules=tts.bell_schedules(ctx.session, org),
        next_day=tt.next_school_day(day))


# --- weekly grid and lessons -------------------------------------------------------------

@bp.get("/<int:school_id>/grid")
@requires(TIMETABLE_VIEW)
def grid(school_id: int) -> Any:
    """A week of a class, teacher or room, with that week's changes marked."""
    ctx = request_ctx()
    org = _school(school_id)
    raw = request.args.get("target", "")
    lk = tts.lookups(ctx.session, org)
    if not raw:
        first = lk.classes[0] if lk.classes else ""
        raw = f"class:{first}" if first else "school:"
    target = tts.parse_target(raw)
    monday = monday_of(_day_arg("week", tts.today(org)))
    tt = tts.build(ctx.session, org, monday)
    week_grid = tts.week_grid(tt, target, monday)
    weekly = tts.weekly_lessons(ctx.session, org, target) if target.kind != "school" else []
    return render_template(
        "timetable/grid.html", school=org, target=target, grid=week_grid, monday=monday,
        week=tt.week_of(monday), prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7), lk=lk, weekly=weekly,
        may_edit=tts.may_edit(ctx, org), raw_target=raw)


def _lesson_form(org: Organisation, form: dict[str, Any], errors: dict[str, str],
                 lesson_id: int | None, status: int) -> Any:
    lk = tts.lookups(request_ctx().session, org)
    return render_template("timetable/lesson.html", school=org, form=form, errors=errors,
                           lesson_id=lesson_id, lk=lk), status


_LESSON_FIELDS = ("weekday", "period", "group", "subject", "teacher", "room", "week")


def _lesson_data() -> LessonIn:
    data = {k: request.form.get(k, "").strip() for k in _LESSON_FIELDS}
    data = {k: v for k, v in data.items() if v != "" or k == "week"}
    return _form_model(LessonIn, data)  # type: ignore[no-any-return]


@bp.route("/<int:school_id>/lessons/new", methods=["GET", "POST"])
@requires(TIMETABLE_EDIT)
def lesson_new(school_id: int) -> Any:
    """Add a weekly lesson."""
    org = _school(school_id, TIMETABLE_EDIT)
    if request.method == "GET":
        form = {k: request.args.get(k, "") for k in _LESSON_FIELDS}
        return _lesson_form(org, form, {}, None, 200)
    try:
        row = tts.save_lesson(request_ctx(), org, _lesson_data())
    except Invalid as exc:
        return _lesson_form(org, dict(request.form), errors_by_field(exc), None, 422)
    flash(_("Lesson added: %(lesson)s", lesson=tts.describe_lesson(row)), "ok")
    return redirect(url_for("timetable.grid", school_id=org.id,
                            target=f"class:{class_of(row.group.key)}"))


@bp.route("/<int:school_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@requires(TIMETABLE_EDIT)
def lesson_edit(school_id: int, lesson_id: int) -> Any:
    """Change a weekly lesson."""
    ctx = request_ctx()
    org = _school(school_id, TIMETABLE_EDIT)
    row = tts.get_lesson(ctx, org, lesson_id)
    if request.method == "GET":
        form = {"weekday": row.weekday, "period": row.period, "group": row.group.key,
                "subject": row.subject.name, "teacher": row.teacher.name if row.teacher else "",
                "room": row.room.key if row.room else "", "week": row.week}
        return _lesson_form(org, form, {}, lesson_id, 200)
    try:
        row = tts.save_lesson(ctx, org, _lesson_data(), lesson_id)
    except Invalid as exc:
        return _lesson_form(org, dict(request.form), errors_by_field(exc), lesson_id, 422)
    flash(_("Lesson saved: %(lesson)s", lesson=tts.describe_lesson(row)), "ok")
    return redirect(url_for("timetable.grid", school_id=org.id,
                            target=f"class:{class_of(row.group.key)}"))


@bp.post("/<int:school_id>/lessons/<int:lesson_id>/delete")
@requires(TIMETABLE_EDIT)
def lesson_delete(school_id: int, lesson_id: int) -> Any:
    """Remove a weekly lesson (undo brings it back)."""
    org = _school(school_id, TIMETABLE_EDIT)
    tts.delete_lesson(request_ctx(), org, lesson_id)
    flash(_("The lesson was deleted."), "ok")
    return _back(url_for("timetable.grid", school_id=org.id))


@bp.post("/<int:school_id>/lessons/bulk")
@requires(TIMETABLE_EDIT)
def lesson_bulk(school_id: int) -> Any:
    """Delete the ticked lessons, or give them another teacher or room."""
    org = _school(school_id, TIMETABLE_EDIT)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    try:
        data = _form_model(LessonBulkIn, {
            "ids": ids, "action": request.form.get("action", ""),
            "teacher": request.form.get("teacher", "").strip() or None,
            "room": request.form.get("room", "").strip() or None})
        count = tts.bulk_lessons(request_ctx(), org, data)
    except Invalid as exc:
        db.session.rollback()
        flash("; ".join(e.reason for e in exc.errors) or _("Tick at least one lesson."),
              "error")
        return _back(url_for("timetable.grid", school_id=org.id))
    flash(_("%(count)s lessons changed.", count=count), "ok")
    return _back(url_for("timetable.grid", school_id=org.id))


# --- today's changes --------------------------------------------------------------------

_CHANGE_FIELDS = ("date", "kind", "group", "period", "teacher", "room", "subject", "new_date",
                  "new_period", "note")


def _change_data(source: Any) -> ChangeIn:
    data = {k: source.get(k, "").strip() for k in _CHANGE_FIELDS}
    return _form_model(ChangeIn, {k: v for k, v in data.items() if v != ""})  # type: ignore


def _changes_page(org: Organisation, day: date, form: dict[str, Any], errors: dict[str, str],
                  status: int, fresh_conflicts: list[Any] | None = None) -> Any:
    ctx = request_ctx()
    tt = tts.build(ctx.session, org, day)
    lk = tts.lookups(ctx.session, org)
    slots = tt.day(SCHOOL, day)
    by_class: dict[str, list[Any]] = {}
    for s in slots:
        by_class.setdefault(class_of(s.group), []).append(s)
    last = tts.last_action(ctx.session, org, ctx.actor_id)
    return render_template(
        "timetable/changes.html", school=org, day=day, form=form, errors=errors,
        by_class={k: by_class[k] for k in sorted(by_class, key=class_sort_key)},
        rows=tts.changes_on(ctx.session, org, day), conflicts=tts.conflicts_of(tt, [day]),
        fresh_conflicts=fresh_conflicts or [], lk=lk, last_action=last,
        day_off=tt.day_off_reason(day), prev_day=day - timedelta(days=1),
        next_day=tt.next_school_day(day) or day + timedelta(days=1),
        bells=tt.bells_for(day), may_edit=tts.may_edit(ctx, org),
        describe=tts.describe_change_row), status


@bp.get("/<int:school_id>/changes")
@requires(TIMETABLE_VIEW)
def changes(school_id: int) -> Any:
    """A day's changes: enter one in a few keystrokes, see clashes, undo the last."""
    org = _school(school_id)
    day = _day_arg("date", tts.today(org))
    form = {"date": day.isoformat(), "kind": "substitution"}
    return _changes_page(org, day, form, {}, 200)


@bp.post("/<int:school_id>/changes")
@requires(TIMETABLE_EDIT)
def change_add(school_id: int) -> Any:
    """Save a change; clashes it causes are shown at once (it is saved all the same)."""
    org = _school(school_id, TIMETABLE_EDIT)
    day = _day_arg("date", tts.today(org))
    try:
        data = _change_data(request.form)
        day = data.date
        row, clashes = tts.add_change(request_ctx(), org, data)
    except Invalid as exc:
        raw_day = request.form.get("date", "")
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            pass
        return _changes_page(org, day, dict(request.form), errors_by_field(exc), 422)
    flash(_("Saved: %(change)s", change=tts.describe_change_row(row)), "ok")
    for c in clashes:
        flash(tts.conflict_sentence(c), "warn")
    return redirect(url_for("timetable.changes", school_id=org.id, date=day.isoformat(),
                            kind=data.kind))


def _absence_page(org: Organisation, day: date, teacher: str, errors: dict[str, str],
                  status: int) -> Any:
    ctx = request_ctx()
    tt = tts.build(ctx.session, org, day)
    lk = tts.lookups(ctx.session, org)
    covers = tts.covers_for(tt, teacher, day) if teacher in lk.teachers else []
    return render_template("timetable/absence.html", school=org, day=day, teacher=teacher,
                           covers=covers, lk=lk, errors=errors,
                           day_off=tt.day_off_reason(day)), status


@bp.get("/<int:school_id>/absence")
@requires(TIMETABLE_EDIT)
def absence(school_id: int) -> Any:
    """A teacher is away: their lessons of the day, each with who is free to take it."""
    org = _school(school_id, TIMETABLE_EDIT)
    day = _day_arg("date", tts.today(org))
    teacher = request.args.get("teacher", "").strip()[:100]
    errors = {}
    if teacher and teacher not in tts.lookups(request_ctx().session, org).teachers:
        errors["teacher"] = _("No teacher called “%(name)s” in this school.", name=teacher)
    return _absence_page(org, day, teacher, errors, 200)


@bp.post("/<int:school_id>/absence")
@requires(TIMETABLE_EDIT)
def absence_save(school_id: int) -> Any:
    """Save the covers and cancellations chosen for an absent teacher, as one action."""
    org = _school(school_id, TIMETABLE_EDIT)
    teacher = request.form.get("teacher", "").strip()[:100]
    try:
        day = date.fromisoformat(request.form.get("date", ""))
    except ValueError:
        abort(400)
    note = request.form.get("note", "").strip()[:300]
    changes: list[ChangeIn] = []
    try:
        for index in range(int(request.form.get("rows", "0") or 0)):
            choice = request.form.get(f"choice_{index}", "")
            base = {"date": day.isoformat(), "group": request.form.get(f"group_{index}", ""),
                    "period": request.form.get(f"period_{index}", ""), "note": note}
            if choice == "cancel":
                changes.append(_form_model(ChangeIn, {**base, "kind": "cancellation"}))
            elif choice.startswith("sub:"):
                changes.append(_form_model(ChangeIn, {**base, "kind": "substitution",
                                                      "teacher": choice[4:]}))
        summary = _("%(teacher)s is away on %(day)s: %(count)s changes", teacher=teacher,
                    day=day.strftime("%d.%m"), count=len(changes))
        rows, clashes = tts.add_changes(request_ctx(), org, changes, summary)
    except (Invalid, ValueError) as exc:
        db.session.rollback()
        reasons = [e.reason for e in exc.errors] if isinstance(exc, Invalid) else [str(exc)]
        return _absence_page(org, day, teacher, {"_": "; ".join(reasons)}, 422)
    flash(ngettext("Saved %(num)s change for %(teacher)s's lessons.",
                   "Saved %(num)s changes for %(teacher)s's lessons.", len(rows),
                   teacher=teacher), "ok")
    for c in clashes:
        flash(tts.conflict_sentence(c), "warn")
    return redirect(url_for("timetable.changes", school_id=org.id, date=day.isoformat()))


@bp.get("/<int:school_id>/changes/check")
@requires(TIMETABLE_EDIT)
def change_check(school_id: int) -> Any:
    """What a change being typed would cause: the lesson it touches and any clashes (JSON)."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        data = _change_data(request.args)
        clashes = tts.check_change(request_ctx(), org, data)
    except Invalid as exc:
        return jsonify({"ok": False, "errors": {e.field or "_": e.reason
                                                for e in exc.errors}})
    return jsonify({"ok": True, "conflicts": [tts.conflict_sentence(c) for c in clashes]})


@bp.post("/<int:school_id>/changes/<int:change_id>/delete")
@requires(TIMETABLE_EDIT)
def change_delete(school_id: int, change_id: int) -> Any:
    """Remove a change (undo brings it back)."""
    org = _school(school_id, TIMETABLE_EDIT)
    tts.delete_change(request_ctx(), org, change_id)
    flash(_("The change was removed."), "ok")
    return _back(url_for("timetable.changes", school_id=org.id))


@bp.post("/<int:school_id>/undo")
@requires(TIMETABLE_EDIT)
def undo(school_id: int) -> Any:
    """Undo the person's last action on this timetable."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        summary = tts.undo_last(request_ctx(), org)
    except Invalid as exc:
        flash("; ".join(e.reason for e in exc.errors), "error")
    else:
        flash(_("Undone: %(what)s", what=summary), "ok")
    return _back(url_for("timetable.changes", school_id=org.id))


# --- import -----------------------------------------------------------------------------

#: A previewed import waits this long for its confirmation.
IMPORT_PREVIEW_TTL = timedelta(hours=12)


def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _forget_old_previews(folder: Path) -> None:
    """Remove previewed files nobody confirmed in time."""
    limit = datetime.now().timestamp() - IMPORT_PREVIEW_TTL.total_seconds()
    for old in folder.glob("*.upload"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink(missing_ok=True)
                old.with_suffix(".name").unlink(missing_ok=True)
        except OSError:
            continue


@bp.route("/<int:school_id>/import", methods=["GET", "POST"])
@requires(TIMETABLE_EDIT)
def import_(school_id: int) -> Any:
    """Upload a timetable file and see what it holds, with every problem by row."""
    ctx = request_ctx()
    org = _school(school_id, TIMETABLE_EDIT)
    if request.method == "GET":
        return render_template("timetable/import.html", school=org, result=None, token="")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("timetable/import.html", school=org, result=None, token="",
                               error=_("Choose a file.")), 422
    data = upload.read()
    result = tts.check_import(ctx, org, data, upload.filename)
    token = ""
    if result.ok:
        token = hashlib.sha256(data).hexdigest()
        _forget_old_previews(_upload_dir())
        (_upload_dir() / f"{org.id}-{token}.upload").write_bytes(data)
        (_upload_dir() / f"{org.id}-{token}.name").write_text(upload.filename[:200])
    existing = sum(1 for _ in tts.weekly_lessons(ctx.session, org, SCHOOL))
    return render_template("timetable/import.html", school=org, result=result, token=token,
                           existing=existing), (200 if result.ok else 422)


@bp.post("/<int:school_id>/import/apply")
@requires(TIMETABLE_EDIT)
def import_apply(school_id: int) -> Any:
    """Replace the school's weekly lessons with the previewed file (all or nothing)."""
    org = _school(school_id, TIMETABLE_EDIT)
    token = request.form.get("token", "")
    if len(token) != 64 or not all(c in "0123456789abcdef" for c in token):
        abort(400)
    path = _upload_dir() / f"{org.id}-{token}.upload"
    if not path.exists():
        flash(_("That preview has expired: upload the file again."), "error")
        return redirect(url_for("timetable.import_", school_id=org.id))
    name_path = path.with_suffix(".name")
    filename = name_path.read_text() if name_path.exists() else "timetable"
    try:
        result = tts.apply_import(request_ctx(), org, path.read_bytes(), filename)
    except Invalid as exc:
        db.session.rollback()
        flash("; ".join(e.reason for e in exc.errors), "error")
        return redirect(url_for("timetable.import_", school_id=org.id))
    path.unlink(missing_ok=True)
    name_path.unlink(missing_ok=True)
    flash(_("Imported %(count)s lessons from %(file)s.", count=len(result.lessons),
            file=filename), "ok")
    return redirect(url_for("timetable.school", school_id=org.id))


# --- bells, calendar and settings ---------------------------------------------------------

def _setup_page(org: Organisation, errors: dict[str, str], form: dict[str, Any],
                status: int) -> Any:
    ctx = request_ctx()
    st = tts.settings_of(ctx.session, org)
    return render_template(
        "timetable/setup.html", school=org, schedules=tts.bell_schedules(ctx.session, org),
        entries=tts.calendar_entries(ctx.session, org), st=st, errors=errors, form=form,
        rooms=sorted(tts.lookups(ctx.session, org).rooms.values(), key=lambda r: r.key),
        buildings=tts.buildings(ctx.session, org),
        groups=sorted(tts.lookups(ctx.session, org).groups.values(),
                      key=lambda g: (class_sort_key(class_of(g.key)), g.key)),
        may_edit=tts.may_edit(ctx, org)), status


@bp.get("/<int:school_id>/setup")
@requires(TIMETABLE_VIEW)
def setup(school_id: int) -> Any:
    """Bells, terms, holidays, special days and week A/B of a school."""
    return _setup_page(_school(school_id), {}, {}, 200)


@bp.post("/<int:school_id>/setup/bells")
@requires(TIMETABLE_EDIT)
def bells_save(school_id: int) -> Any:
    """Create or replace a bell schedule."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        tts.save_bells(request_ctx(), org, parse_form(BellsIn))
    except Invalid as exc:
        return _setup_page(org, errors_by_field(exc), dict(request.form), 422)
    flash(_("Bells saved."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/classes")
@requires(TIMETABLE_EDIT)
def classes_add(school_id: int) -> Any:
    """Add classes and subgroups."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        added = tts.add_classes(request_ctx(), org, request.form.get("classes", "")[:2000])
    except Invalid as exc:
        return _setup_page(org, errors_by_field(exc), dict(request.form), 422)
    flash(_("Classes added: %(keys)s", keys=", ".join(added)) if added
          else _("Those classes were there already."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/classes/<int:group_id>/delete")
@requires(TIMETABLE_EDIT)
def class_delete(school_id: int, group_id: int) -> Any:
    """Remove a class no lesson uses."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        key = tts.delete_class(request_ctx(), org, group_id)
    except Invalid as exc:
        flash("; ".join(e.reason for e in exc.errors), "error")
    else:
        flash(_("Class %(key)s removed.", key=key), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/rooms")
@requires(TIMETABLE_EDIT)
def room_save(school_id: int) -> Any:
    """Add a room or place it in a building and on a floor."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        row = tts.save_room(request_ctx(), org, parse_form(RoomIn))
    except Invalid as exc:
        return _setup_page(org, errors_by_field(exc), dict(request.form), 422)
    flash(_("Room %(key)s saved.", key=row.key), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/bells/<key>/delete")
@requires(TIMETABLE_EDIT)
def bells_delete(school_id: int, key: str) -> Any:
    """Remove a bell schedule no day uses."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        tts.delete_bells(request_ctx(), org, key)
    except Invalid as exc:
        flash("; ".join(e.reason for e in exc.errors), "error")
    else:
        flash(_("Bell schedule removed."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/settings")
@requires(TIMETABLE_EDIT)
def settings_save(school_id: int) -> Any:
    """Save school weekdays, week A and the bells of each weekday."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        data = _form_model(SettingsIn, {
            "school_weekdays": request.form.getlist("school_weekdays"),
            "week_a": request.form.get("week_a") or None,
            "default_bells": request.form.get("default_bells", ""),
            "weekday_bells": {str(d): request.form[f"bells_{d}"] for d in range(7)
                              if request.form.get(f"bells_{d}")}})
        tts.save_settings(request_ctx(), org, data)
    except Invalid as exc:
        return _setup_page(org, errors_by_field(exc), dict(request.form), 422)
    flash(_("Settings saved."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/calendar")
@requires(TIMETABLE_EDIT)
def calendar_add(school_id: int) -> Any:
    """Add a term, holiday, extra school day or day with other bells."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        tts.add_calendar_entry(request_ctx(), org, parse_form(CalendarEntryIn))
    except Invalid as exc:
        return _setup_page(org, errors_by_field(exc), dict(request.form), 422)
    flash(_("Calendar updated."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


@bp.post("/<int:school_id>/setup/calendar/<int:entry_id>/delete")
@requires(TIMETABLE_EDIT)
def calendar_delete(school_id: int, entry_id: int) -> Any:
    """Remove a calendar entry."""
    org = _school(school_id, TIMETABLE_EDIT)
    tts.delete_calendar_entry(request_ctx(), org, entry_id)
    flash(_("Calendar updated."), "ok")
    return redirect(url_for("timetable.setup", school_id=org.id))


# --- events -------------------------------------------------------------------------------

def _events_page(org: Organisation, form: dict[str, Any], errors: dict[str, str],
                 status: int) -> Any:
    ctx = request_ctx()
    since = datetime.combine(tts.today(org) - timedelta(days=1), datetime.min.time(),
                             tts.school_zone(org))
    return render_template("timetable/events.html", school=org,
                           events=tts.events(ctx.session, org, since), form=form,
                           errors=errors, may_edit=tts.may_edit(ctx, org)), status


@bp.get("/<int:school_id>/events")
@requires(TIMETABLE_VIEW)
def events(school_id: int) -> Any:
    """Events and parent meetings to come."""
    return _events_page(_school(school_id), {"kind": "event"}, {}, 200)


@bp.post("/<int:school_id>/events")
@requires(TIMETABLE_EDIT)
def event_add(school_id: int) -> Any:
    """Add an event or parent meeting."""
    org = _school(school_id, TIMETABLE_EDIT)
    zone = tts.school_zone(org)
    try:
        raw: dict[str, Any] = {k: request.form.get(k, "").strip()
                               for k in ("kind", "title", "place", "audience")}
        for k in ("starts_at", "ends_at"):
            value = request.form.get(k, "").strip()
            if value:
                try:
                    raw[k] = datetime.fromisoformat(value).replace(tzinfo=zone)
                except ValueError:
                    raise Invalid(_("Must be a date and time."), k) from None
        tts.add_event(request_ctx(), org, _form_model(EventIn, raw))
    except Invalid as exc:
        return _events_page(org, dict(request.form), errors_by_field(exc), 422)
    flash(_("Event added."), "ok")
    return redirect(url_for("timetable.events", school_id=org.id))


@bp.post("/<int:school_id>/events/<int:event_id>/delete")
@requires(TIMETABLE_EDIT)
def event_delete(school_id: int, event_id: int) -> Any:
    """Remove an event."""
    org = _school(school_id, TIMETABLE_EDIT)
    tts.delete_event(request_ctx(), org, event_id)
    flash(_("Event removed."), "ok")
    return redirect(url_for("timetable.events", school_id=org.id))


# --- calendar feeds -----------------------------------------------------------------------

def _feeds_page(org: Organisation, form: dict[str, Any], errors: dict[str, str],
                new_url: str, status: int) -> Any:
    ctx = request_ctx()
    return render_template("timetable/feeds.html", school=org,
                           feeds=tts.feeds(ctx.session, org),
                           lk=tts.lookups(ctx.session, org), form=form, errors=errors,
                           new_url=new_url), status


@bp.get("/<int:school_id>/feeds")
@requires(TIMETABLE_EDIT)
def feeds(school_id: int) -> Any:
    """Calendar links a phone can subscribe to, one per class, teacher or room."""
    return _feeds_page(_school(school_id, TIMETABLE_EDIT), {}, {}, "", 200)


@bp.post("/<int:school_id>/feeds")
@requires(TIMETABLE_EDIT)
def feed_create(school_id: int) -> Any:
    """Make a new calendar link (shown once)."""
    org = _school(school_id, TIMETABLE_EDIT)
    try:
        _row, token = tts.create_feed(request_ctx(), org, parse_form(FeedIn))
    except Invalid as exc:
        return _feeds_page(org, dict(request.form), errors_by_field(exc), "", 422)
    url = url_for("ical.feed", token=token, _external=True)
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    if base:
        url = base.rstrip("/") + url_for("ical.feed", token=token)
    return _feeds_page(org, {}, {}, url, 201)


@bp.post("/<int:school_id>/feeds/<int:feed_id>/revoke")
@requires(TIMETABLE_EDIT)
def feed_revoke(school_id: int, feed_id: int) -> Any:
    """Turn a calendar link off for good."""
    org = _school(school_id, TIMETABLE_EDIT)
    tts.revoke_feed(request_ctx(), org, feed_id)
    flash(_("The link no longer works."), "ok")
    return redirect(url_for("timetable.feeds", school_id=org.id))


@feeds_bp.get("/ical/<token>.ics")
@public
def feed(token: str) -> Any:
    """A class's, teacher's or room's timetable as iCalendar, for phone calendars."""
    session = db.session
    row = tts.feed_for_token(session, token)
    if row is None:
        abort(404)
    org = session.get(Organisation, row.org_id)
    assert org is not None
    day = tts.today(org)
    tt = tts.build(session, org, day)
    target = Target(row.target_kind, row.target_key)
    title = f"{org.name} — {row.target_key}"
    body = ical.feed_calendar(tt, target, org.id, title, day, tts.slot_sentence)
    row.last_used_at = utcnow()
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="timetable-{row.id}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- what screens show ----------------------------------------------------------------------

@bp.get("/<int:school_id>/screens")
@requires(TIMETABLE_VIEW)
def screens(school_id: int) -> Any:
    """What the school's screens show from the timetable: door signs, changes, bells, events."""
    ctx = request_ctx()
    org = _school(school_id)
    tt = tts.build(ctx.session, org)
    now = utcnow()
    lk = tts.lookups(ctx.session, org)
    room = request.args.get("room") or (sorted(lk.rooms)[0] if lk.rooms else "")
    cls = request.args.get("class") or (lk.classes[0] if lk.classes else "")
    day = tts.today(org)
    return render_template(
        "timetable/screens.html", school=org, now=now, lk=lk, room=room, cls=cls,
        sign=door_sign(tt, room, now) if room else None,
        class_day=tt.day(Target("class", cls), day) if cls else [],
        class_now=tt.now(Target("class", cls), now) if cls else None,
        board=changes_board(tt, now), bell=bell_countdown(tt, now),
        events=tt.upcoming_events(SCHOOL, now), today=day)


@bp.get("/<int:school_id>/screen.json")
@requires(TIMETABLE_VIEW)
def screen_data(school_id: int) -> Any:
    """The timetable slice a display of target gets in its manifest (JSON)."""
    ctx = request_ctx()
    org = _school(school_id)
    target = tts.parse_target(request.args.get("target", "school:"))
    tt = tts.build(ctx.session, org)
    return jsonify(screen_slice(tt, target, utcnow()))
