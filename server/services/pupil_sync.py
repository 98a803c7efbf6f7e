"""Sync runs: read a school's register and card list, plan, apply in one transaction, export.

The decisions are sync.plan's; this module reads and writes. A run is planned (a
dry run, stored with its input files), may be re-planned after people settle
proposals, and is applied all at once: Vitrina's pupils follow the register, its
mirror of the cards follows the card list, card changes are recorded as pending until
the card system's list shows them, and the export is built. Nothing is committed here:
the caller's transaction holds it all, so a failure (or a killed process) leaves the
database as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from server import faults
from server.errors import FieldError, Forbidden, Invalid, NotFound
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.pupils import (
    CardRow,
    MatchDecision,
    PupilPhoto,
    PupilRow,
    SyncAction,
    SyncExport,
    SyncInput,
    SyncRun,
    SyncSettings,
)
from server.rights import PUPIL_MANAGE, can
from server.services import audit
from server.services import photos as photo_service
from server.services.context import Ctx, after_commit
from server.services.sync_incremental import plan_from_last
from sync import stored
from sync.bulk import collector_paused
from sync.export import build_export
from sync.names import match_key
from sync.oneroster import is_oneroster, read_oneroster
from sync.plan import (
    CARD_KINDS,
    PERSON_KINDS,
    PUPIL_KINDS,
    Decisions,
    PlanError,
    Rules,
    SyncPlan,
    plan_sync,
    whole_register,
)
from sync.readers import CARD_COLUMNS, REGISTER_COLUMNS, read_cards, read_register
from sync.records import Card, Consent, PhotoInfo, Pupil
from sync.rest import PushError, push_export
from sync.tables import ReadError

#: progress(step, done, total): what a long run is doing.
Progress = Callable[[str, int, int], None]
PUPIL_FIELDS = ("surname", "first_name", "patronymic", "birth_date", "class_name",
                "school_name", "status", "enrolled_on", "left_on", "consent_given",
                "consent_on", "consent_source", "listed", "match_key")
#: Kinds a repeat of the last applied files no longer lists (applying it did them).
_SETTLED_KINDS = frozenset(stored.KIND_INDEX[k] for k in CARD_KINDS | PUPIL_KINDS)
#: Kinds apply needs of a stored plan: the card changes and what is left for a person.
_APPLY_KINDS = CARD_KINDS | PERSON_KINDS
CARD_FIELDS = ("pupil_register_id", "status", "issued_on", "surname", "first_name",
               "patronymic", "birth_date", "class_name", "photo")
#: Where each pupil and card is in the last applied files: kept up to date, but a row
#: that only moved is no change to report (nor to stamp as one).
PUPIL_PLACE, CARD_PLACE = ("register_row",), ("list_row",)


def _quiet(_step: str, _done: int, _total: int) -> None:
    pass


def school_for(ctx: Ctx, school_id: int) -> Organisation:
    """A school whose pupils the principal manages."""
    org = ctx.session.get(Organisation, school_id)
    if org is None or org.kind != "school":
        raise NotFound(_("No such school."))
    if ctx.principal is not None and not can(ctx.principal, PUPIL_MANAGE, org.path):
        raise Forbidden(_("This school is outside your part of the tree."))
    return org


def _rules(confirm_missing: bool) -> Rules:
    cfg = current_app.config
    return Rules(grace_days=int(cfg["SYNC_GRACE_DAYS"]),
                 photo_max_age_days=int(cfg["SYNC_PHOTO_MAX_AGE_DAYS"]),
                 max_missing_share=1.0 if confirm_missing else Rules.max_missing_share)


#: The records of the last files read, by their names and hashes: a run planned and then
#: applied in the same process reads its files once. (A cache only: any process reads
#: the stored files when it has not seen them.)
_last_read: dict[tuple[str, ...], tuple[list[Pupil], list[Card], bool]] = {}
Mappings = tuple[dict[str, str], dict[str, str]]


def read_inputs(register: tuple[str, bytes], cards: tuple[str, bytes],
                mappings: Mappings = ({}, {})) -> tuple[list[Pupil], list[Card], bool]:
    """Both files read (the register as CSV, XLSX or a OneRoster bundle), and whether the
    register holds changes only (a OneRoster delta); or Invalid listing every problem by
    file, row and column."""
    key = (register[0], hashlib.sha256(register[1]).hexdigest(), cards[0],
           hashlib.sha256(cards[1]).hexdigest(), repr(sorted(mappings[0].items())),
           repr(sorted(mappings[1].items())))
    if key in _last_read:
        return _last_read[key]
    found_pair = _read_inputs(register, cards, mappings)
    _last_read.clear()
    _last_read[key] = found_pair
    return found_pair


def _read_inputs(register: tuple[str, bytes], cards: tuple[str, bytes],
                 mappings: Mappings) -> tuple[list[Pupil], list[Card], bool]:
    errors: list[FieldError] = []
    pupils: list[Pupil] = []
    found: list[Card] = []
    delta = False
    try:
        if is_oneroster(register[1]):
            roster = read_oneroster(register[1], register[0])
            pupils, delta = roster.pupils, roster.mode == "delta"
        else:
            pupils = read_register(register[1], register[0], mappings[0])
    except ReadError as exc:
        errors += [FieldError("register", str(p)) for p in exc.problems]
    try:
        found = read_cards(cards[1], cards[0], mappings[1])
    except ReadError as exc:
        errors += [FieldError("cards", str(p)) for p in exc.problems]
    if errors:
        raise Invalid(errors)
    return pupils, found, delta


# --- column mappings -------------------------------------------------------------------

def mappings_of(session: Any, school_id: int) -> Mappings:
    """The school's saved column mappings (register, card list)."""
    row = session.get(SyncSettings, school_id)
    return (dict(row.register_mapping), dict(row.cards_mapping)) if row else ({}, {})


def parse_mapping(text: str, known: dict[str, tuple[str, ...]], name: str) -> dict[str, str]:
    """Lines of "Header = field" as a mapping; Invalid naming each wrong line."""
    out: dict[str, str] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        header, sep, target = line.rpartition("=")
        header, target = header.strip(), target.strip()
        if not sep or not header:
            errors.append(FieldError(name, _("Line %(n)s: write “column = field”.", n=number)))
        elif target not in known:
            errors.append(FieldError(name, _("Line %(n)s: “%(field)s” is not a field (%(known)s).",
                                             n=number, field=target,
                                             known=", ".join(sorted(known)))))
        else:
            out[header[:100]] = target
    if errors:
        raise Invalid(errors)
    return out


def save_mappings(ctx: Ctx, school_id: int, register_text: str, cards_text: str) -> Mappings:
    """Save a school's column mappings (audited)."""
    school = school_for(ctx, school_id)
    register = parse_mapping(register_text, REGISTER_COLUMNS, "register_mapping")
    cards = parse_mapping(cards_text, CARD_COLUMNS, "cards_mapping")
    row = ctx.session.get(SyncSettings, school.id)
    if row is None:
        row = SyncSettings(school_id=school.id)
        ctx.session.add(row)
    row.register_mapping, row.cards_mapping = register, cards
    audit.record(ctx, "sync.mapping", ("organisation", school.id), school,
                 f"Saved the sync column names of {school.name}", school=school.name,
                 register=register, cards=cards)
    return register, cards


# --- pushing the export to the card system -----------------------------------------------

def push_target(session: Any, school_id: int) -> tuple[str, str]:
    """Where the school's applied runs are sent (URL, auth header); ("", "") if nowhere."""
    row = session.get(SyncSettings, school_id)
    return (row.push_url, row.push_auth) if row else ("", "")


def save_push(ctx: Ctx, school_id: int, url: str, auth: str, forget_auth: bool = False
              ) -> None:
    """Set (or with an empty URL, stop) sending applied runs' exports to the card system.
    An empty auth keeps the saved one unless forget_auth; the secret is never shown or
    audited."""
    school = school_for(ctx, school_id)
    url, auth = url.strip(), auth.strip()
    if url and (not url.lower().startswith(("https://", "http://")) or len(url) > 500
                or any(c.isspace() for c in url)):
        raise Invalid(_("Give the card system's address as https://…"), "push_url")
    if auth:
        name, sep, value = auth.partition(":")
        if not sep or not name.strip() or not value.strip() or len(auth) > 500 \
                or "\n" in auth or "\r" in auth:
            raise Invalid(_("Write the header as “Authorization: Bearer …”."), "push_auth")
    row = ctx.session.get(SyncSettings, school.id)
    if row is None:
        row = SyncSettings(school_id=school.id, register_mapping={}, cards_mapping={})
        ctx.session.add(row)
    row.push_url = url
    if auth or forget_auth or not url:
        row.push_auth = auth if url else ""
    audit.record(ctx, "sync.push_settings", ("organisation", school.id), school,
                 f"Card system address of {school.name} "
                 f"{'set to ' + url if url else 'removed'}", school=school.name, url=url,
                 auth="set" if row.push_auth else "none")


def push_run(ctx: Ctx, run: SyncRun, session: Any = None) -> dict[str, Any]:
    """Send an applied run's export to the school's card system, and note how it went in
    the run's report (a failure is noted, never raised: the run stays applied)."""
    school = school_for(ctx, run.school_id)
    url, auth = push_target(ctx.session, school.id)
    if run.status != "applied" or not url:
        raise Invalid(_("This run is not applied, or the school has no card system address."))
    files = export_of(ctx, run)
    key = f"vitrina-{school.id}-run-{run.id}"
    at = utcnow().isoformat(timespec="seconds")
    try:
        status = push_export(url, files.changes_csv, files.photos_zip, key, auth,
                             session=session)
        result: dict[str, Any] = {"ok": True, "status": status, "at": at, "url": url}
    except PushError as exc:
        result = {"ok": False, "error": str(exc), "at": at, "url": url}
    run.report = {**run.report, "push": result}
    audit.record(ctx, "sync.push", ("sync_run", run.id), school,
                 f"Export of sync run {run.id} {'sent' if result['ok'] else 'not sent'} to "
                 "the card system", **{k: v for k, v in result.items() if k != "at"})
    return result


# --- what Vitrina knows ---------------------------------------------------------------

def known_pupils(session: Any, school_id: int) -> list[Pupil]:
    """The school's pupils as stored, as plain records (a Core query: ORM loading of
    100,000 rows costs more than the planning)."""
    t = PupilRow.__table__
    rows = session.connection().execute(select(
        t.c.register_id, t.c.surname, t.c.first_name, t.c.patronymic, t.c.birth_date,
        t.c.class_name, t.c.school_name, t.c.status, t.c.enrolled_on, t.c.left_on,
        t.c.consent_given, t.c.consent_on, t.c.consent_source).where(
        t.c.school_id == school_id))
    return [Pupil(*r[:10], Consent(bool(r[10]), r[11], r[12])  # type: ignore[misc]
                  if r[10] is not None else None) for r in rows]


def pending_keys(session: Any, school_id: int) -> set[str]:
    return set(session.scalars(select(SyncAction.key).where(
        SyncAction.school_id == school_id, SyncAction.state == "pending")))


def decisions_of(session: Any, school_id: int) -> Decisions:
    rows = list(session.scalars(select(MatchDecision).where(
        MatchDecision.school_id == school_id)))
    return Decisions(
        confirmed=frozenset((r.card_number, r.register_id) for r in rows
                            if r.verdict == "confirmed"),
        rejected=frozenset((r.card_number, r.register_id) for r in rows
                           if r.verdict == "rejected"),
        distinct=frozenset(frozenset((r.register_id, r.other_register_id)) for r in rows
                           if r.verdict == "distinct"))


def photos_of(session: Any, school_id: int) -> dict[str, PhotoInfo]:
    """Each pupil's current photo."""
    return photo_service.current_photos(session, school_id)


def _plan(ctx: Ctx, school: Organisation, pupils: list[Pupil], cards: list[Card],
          confirm_missing: bool, with_pending: bool = True,
          known: list[Pupil] | None = None) -> SyncPlan:
    session = ctx.session
    try:
        return plan_sync(pupils, cards, today=date.today(),
                         known=known if known is not None else known_pupils(session,
                                                                            school.id),
                         photos=photos_of(session, school.id),
                         pending=pending_keys(session, school.id) if with_pending else (),
                         decisions=decisions_of(session, school.id),
                         rules=_rules(confirm_missing))
    except PlanError as exc:
        raise _invalid(exc) from None


def _invalid(exc: PlanError) -> Invalid:
    text = str(exc)
    return Invalid([FieldError("register", text[:1].upper() + text[1:] + ".")])


def state_stamp(session: Any, school_id: int, confirm_missing: bool) -> str:
    """A digest of everything a plan depends on besides its files: the day, the rules,
    the column mappings, and the school's pupils, cards, photos, decisions and card
    changes as far as any change to them shows (counts, highest IDs, last updates)."""
    sid = school_id
    parts: list[Any] = [date.today().isoformat(), repr(_rules(confirm_missing)),
                        repr(mappings_of(session, sid))]
    # One statement of single aggregates: each (but the counts) an index's first entry,
    # where one query of several aggregates would read every pupil.
    pupils, cards = PupilRow.school_id == sid, CardRow.school_id == sid
    aggregates = [
        (func.count(), pupils), (func.max(PupilRow.id), pupils),
        (func.max(PupilRow.updated_at), pupils),
        (func.count(), cards), (func.max(CardRow.id), cards),
        (func.count(), MatchDecision.school_id == sid),
        (func.max(MatchDecision.id), MatchDecision.school_id == sid),
        (func.count(), SyncAction.school_id == sid),
        (func.max(SyncAction.id), SyncAction.school_id == sid),
        (func.count(), and_(SyncAction.school_id == sid, SyncAction.state == "pending")),
        (func.max(SyncRun.id), and_(SyncRun.school_id == sid, SyncRun.status == "applied"))]
    subqueries = [select(value).where(where).scalar_subquery() for value, where in aggregates]
    photos = select(func.count(), func.sum(PupilPhoto.id), func.max(PupilPhoto.id)).join(
        PupilRow, PupilRow.id == PupilPhoto.pupil_id).where(PupilRow.school_id == sid,
                                                            PupilPhoto.current.is_(True))
    conn = session.connection()
    parts += [tuple(conn.execute(select(*subqueries)).one()), tuple(conn.execute(photos).one())]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _plan_state(ctx: Ctx, school: Organisation, pupils: list[Pupil], cards: list[Card],
                known: list[Pupil], confirm_missing: bool, stamp: str | None = None
                ) -> tuple[SyncPlan, dict[str, Any]]:
    """The plan (without card changes already sent and waiting) and what it was made
    from (see SyncRun.plan_state)."""
    whole = _plan(ctx, school, pupils, cards, confirm_missing, with_pending=False,
                  known=known)
    pending = pending_keys(ctx.session, school.id)
    waiting = sorted(a.key for a in whole.actions if a.kind in CARD_KINDS and a.key in pending)
    plan = SyncPlan(tuple(a for a in whole.actions
                          if a.kind not in CARD_KINDS or a.key not in pending))
    return plan, {"stamp": stamp or state_stamp(ctx.session, school.id, confirm_missing),
                  "waiting": waiting, "unplaced": sorted(whole.unplaced)}


def _store_plan(run: SyncRun, plan: SyncPlan) -> None:
    run.plan_data = stored.encode(plan.actions)
    run.counts = plan.counts()


# --- planning --------------------------------------------------------------------------

@collector_paused()
def plan_run(ctx: Ctx, school_id: int, register: tuple[str, bytes], cards: tuple[str, bytes],
             confirm_missing: bool = False, progress: Progress = _quiet,
             incremental: bool = True) -> SyncRun:
    """A dry run: read both files, plan, and keep the run (with its files) to apply later.
    (incremental=False plans everything even when only what changed could be planned.)"""
    school = school_for(ctx, school_id)
    progress("read", 0, 2)
    shas = (hashlib.sha256(register[1]).hexdigest(), hashlib.sha256(cards[1]).hexdigest())
    stamp = state_stamp(ctx.session, school.id, confirm_missing)
    last = _last_applied(ctx.session, school.id, stamp)
    same = last is not None and tuple(i["sha256"] for i in last.inputs) == shas
    run = SyncRun(school_id=school.id, created_by_id=ctx.actor_id,
                  created_by_name=ctx.actor_name, confirm_missing=confirm_missing,
                  inputs=[{"role": role, "name": name, "size": len(data), "sha256": sha}
                          for (role, (name, data)), sha in zip(
                              (("register", register), ("cards", cards)), shas,
                              strict=True)])
    planned = None
    if last is not None and not same and incremental:
        # New files after an applied run, and nothing else changed since: plan what the
        # files changed (sync.incremental), if that can be done exactly.
        mappings = mappings_of(ctx.session, school.id)
        try:
            planned = plan_from_last(ctx.session, school.id, last, register, cards, mappings,
                                     today=date.today(),
                                     decisions=decisions_of(ctx.session, school.id),
                                     rules=_rules(confirm_missing))
        except PlanError as exc:
            raise _invalid(exc) from None
    if planned is not None and last is not None:
        run.plan_data, run.counts = planned.plan, planned.counts
        run.plan_state = {"stamp": stamp, "from": last.id, "waiting": planned.waiting,
                          "unplaced": planned.unplaced, "scope": planned.scope}
    elif last is not None and same:
        # The same files as the run applied last, and nothing changed since: the plan is
        # that run's, less what applying it did (Vitrina's pupils follow the register now)
        # and its card changes, which now wait for the card system.
        sent = {a.key for a in stored.actions(last.plan_data, CARD_KINDS)}
        run.plan_data = last.rest
        run.counts = stored.counts(run.plan_data)
        run.plan_state = {"stamp": stamp, "same_as": last.id,
                          "waiting": sorted(set(last.plan_state["waiting"]) | sent),
                          "unplaced": last.plan_state.get("unplaced", [])}
    else:
        pupils, found, delta = read_inputs(register, cards,
                                           mappings_of(ctx.session, school.id))
        known = known_pupils(ctx.session, school.id)
        pupils = whole_register(known, pupils, delta)
        progress("plan", 1, 2)
        plan, run.plan_state = _plan_state(ctx, school, pupils, found, known,
                                           confirm_missing, stamp)
        _store_plan(run, plan)
    ctx.session.add(run)
    ctx.session.flush()
    for role, (name, data) in (("register", register), ("cards", cards)):
        ctx.session.add(SyncInput(run_id=run.id, role=role, name=name, data=data))
    audit.record(ctx, "sync.plan", ("sync_run", run.id), school,
                 f"Planned a sync of {school.name}", school=school.name, counts=run.counts)
    progress("plan", 2, 2)
    return run


def get_run(ctx: Ctx, run_id: int) -> SyncRun:
    run = ctx.session.get(SyncRun, run_id)
    if run is None:
        raise NotFound(_("No such sync run."))
    school_for(ctx, run.school_id)
    return run


def _inputs(ctx: Ctx, run: SyncRun) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    rows = {r.role: r for r in ctx.session.scalars(select(SyncInput).where(
        SyncInput.run_id == run.id))}
    if set(rows) != {"register", "cards"}:
        raise Invalid(_("This run's files are gone (kept for a limited time); start a new "
                        "run."))
    return (rows["register"].name, rows["register"].data), (rows["cards"].name,
                                                              rows["cards"].data)


@collector_paused()
def replan(ctx: Ctx, run: SyncRun) -> SyncRun:
    """Plan a run again from its files (after people settled proposals or conflicts)."""
    if run.status != "planned":
        raise Invalid(_("Only a run not yet applied can be planned again."))
    school = school_for(ctx, run.school_id)
    register, cards = _inputs(ctx, run)
    pupils, found, delta = read_inputs(register, cards, mappings_of(ctx.session, school.id))
    known = known_pupils(ctx.session, school.id)
    pupils = whole_register(known, pupils, delta)
    plan, run.plan_state = _plan_state(ctx, school, pupils, found, known, run.confirm_missing)
    _store_plan(run, plan)
    return run


def decide(ctx: Ctx, run: SyncRun, verdict: str, register_id: str, card_number: str = "",
           other_register_id: str = "") -> SyncRun:
    """Record a person's answer to a proposal or a possible duplicate; plan again."""
    if verdict not in ("confirmed", "rejected", "distinct"):
        raise Invalid(_("Unknown decision."), "verdict")
    listed = {(a["kind"], a["pupil_id"], a["card_number"]) for a in run.plan}
    if verdict in ("confirmed", "rejected") and (
            "propose_match", register_id, card_number) not in listed:
        raise Invalid(_("This run proposes no such match."), "card_number")
    if verdict == "distinct" and not any(
            a["kind"] == "duplicate_pupil" and {register_id, other_register_id}
            <= {a["pupil_id"], *a["others"]} for a in run.plan):
        raise Invalid(_("This run lists no such pair of pupils."), "register_id")
    school = school_for(ctx, run.school_id)
    ctx.session.add(MatchDecision(school_id=school.id, verdict=verdict,
                                  card_number=card_number, register_id=register_id,
                                  other_register_id=other_register_id,
                                  decided_by_id=ctx.actor_id))
    audit.record(ctx, "sync.decide", ("sync_run", run.id), school,
                 f"Sync decision: {verdict} {register_id} {card_number or other_register_id}",
                 verdict=verdict, register_id=register_id, card_number=card_number,
                 other=other_register_id)
    ctx.session.flush()
    return replan(ctx, run)


# --- applying --------------------------------------------------------------------------

def _pupil_values(p: Pupil, school_id: int, listed: bool = True) -> dict[str, Any]:
    return {"school_id": school_id, "register_id": p.register_id, "surname": p.surname,
            "listed": listed, "match_key": match_key(p.surname, p.first_name, p.birth_date)
            if listed else None,
            "first_name": p.first_name, "patronymic": p.patronymic,
            "birth_date": p.birth_date, "class_name": p.class_name, "school_name": p.school,
            "status": p.status, "enrolled_on": p.enrolled_on, "left_on": p.left_on,
            "consent_given": p.consent.given if p.consent else None,
            "consent_on": p.consent.on if p.consent else None,
            "consent_source": p.consent.source if p.consent else "",
            "register_row": p.source.row if listed and p.source else None}


def _card_values(c: Card, school_id: int) -> dict[str, Any]:
    return {"school_id": school_id, "number": c.number, "pupil_register_id": c.pupil_id,
            "status": c.status, "issued_on": c.issued_on, "surname": c.surname,
            "first_name": c.first_name, "patronymic": c.patronymic, "birth_date": c.birth_date,
            "class_name": c.class_name, "photo": c.photo,
            "list_row": c.source.row if c.source else None}


def _sync_table(ctx: Ctx, model: Any, key: str, fields: tuple[str, ...],
                wanted: dict[str, dict[str, Any]], school_id: int,
                progress: Progress, step: str, place: tuple[str, ...] = ()
                ) -> tuple[int, int]:
    """Make the school's rows of model equal wanted (by key): insert, update what differs.
    A row whose `place` fields alone differ is updated but not counted (nor stamped).
    Returns (inserted, updated)."""
    session = ctx.session
    t = model.__table__
    width = len(fields)
    current = {row[1]: row for row in session.connection().execute(
        select(t.c.id, t.c[key], *(t.c[f] for f in (*fields, *place))).where(
            t.c.school_id == school_id))}
    new, changed, moved = [], [], []
    stamp = {"updated_at": utcnow()} if hasattr(model, "updated_at") else {}
    for n, (k, values) in enumerate(wanted.items()):
        row = current.get(k)
        if row is None:
            new.append(values)
        elif tuple(row[2:2 + width]) != tuple([values[f] for f in fields]):
            changed.append({"row_id": row[0], **{f: values[f] for f in (*fields, *place)},
                            **stamp})
        elif tuple(row[2 + width:]) != tuple([values[f] for f in place]):
            moved.append({"row_id": row[0], **{f: values[f] for f in place}})
        if n % 5000 == 0:
            progress(step, n, len(wanted))
    if new:
        session.execute(insert(model), new)
    for rows, names in ((changed, (*fields, *place, *stamp)), (moved, place)):
        if rows:
            stmt = update(model).where(model.id == bindparam("row_id")).values(
                **{f: bindparam(f) for f in names})
            session.connection().execute(stmt, rows)
    progress(step, len(wanted), len(wanted))
    return len(new), len(changed)


@collector_paused()
def apply_run(ctx: Ctx, run_id: int, progress: Progress = _quiet) -> SyncRun:
    """Apply a planned run in the caller's transaction; idempotent (the same files again
    write nothing but the run's own record)."""
    run = get_run(ctx, run_id)
    if run.status != "planned":
        raise Invalid(_("This run is %(status)s already.", status=run.status))
    school = school_for(ctx, run.school_id)
    session = ctx.session
    state = run.plan_state or {}
    reuse = state.get("stamp") == state_stamp(session, school.id, run.confirm_missing) \
        and stored.is_stored(run.plan_data)
    # The database already holds exactly these files' pupils and cards when the run
    # repeats the files of the run applied last and nothing has changed since.
    settled = reuse and state.get("same_as") is not None
    pupils: list[Pupil] = []
    made = changed = card_made = card_changed = 0
    gone: list[str] = []
    if not settled:
        register, cards = _inputs(ctx, run)
        progress("read", 0, 1)
        pupils, found, delta = read_inputs(register, cards, mappings_of(session, school.id))
        known = known_pupils(session, school.id)
        pupils = whole_register(known, pupils, delta)
    if reuse:
        # Nothing the plan depends on changed since the dry run: its actions stand (the
        # card changes and what a person must settle are all apply needs of them).
        data = run.plan_data
        plan = SyncPlan(tuple(stored.actions(data, _APPLY_KINDS)))
        still = {a.key for a in plan.actions if a.kind in CARD_KINDS} | set(state["waiting"])
    else:
        plan, run.plan_state = _plan_state(ctx, school, pupils, found, known,
                                           run.confirm_missing)
        still = {a.key for a in plan.actions if a.kind in CARD_KINDS} | set(
            run.plan_state["waiting"])
    if not settled:
        today = date.today()
        # Vitrina's pupils follow the register; one gone from it has left today.
        wanted = {p.register_id: _pupil_values(p, school.id) for p in pupils}
        for p in known:
            if p.register_id not in wanted:
                values = _pupil_values(p, school.id, listed=False)
                if values["status"] == "enrolled":
                    values.update(status="left", left_on=today)
                wanted[p.register_id] = values
        made, changed = _sync_table(ctx, PupilRow, "register_id", PUPIL_FIELDS, wanted,
                                    school.id, progress, "pupils", PUPIL_PLACE)
        card_made, card_changed = _sync_table(
            ctx, CardRow, "number", CARD_FIELDS, {c.number: _card_values(c, school.id)
                                                  for c in found}, school.id, progress,
            "cards", CARD_PLACE)
        listed = {c.number for c in found}
        gone = [n for n in session.scalars(select(CardRow.number).where(
            CardRow.school_id == school.id)) if n not in listed]
        if gone:
            session.execute(delete(CardRow).where(CardRow.school_id == school.id,
                                                  CardRow.number.in_(gone)))
    # Card changes wait for the card system; earlier ones its list now shows are done.
    progress("actions", 0, 1)
    finished = [row_id for row_id, key in session.execute(
        select(SyncAction.id, SyncAction.key).where(SyncAction.school_id == school.id,
                                                    SyncAction.state == "pending"))
                if key not in still]
    for start in range(0, len(finished), 500):
        session.execute(update(SyncAction).where(
            SyncAction.id.in_(finished[start:start + 500])).values(state="done",
                                                                   done_at=utcnow()))
    done = len(finished)
    sent = [a for a in plan.actions if a.kind in CARD_KINDS]
    if sent:
        session.execute(insert(SyncAction), [
            {"school_id": school.id, "run_id": run.id, "key": a.key, "kind": a.kind,
             "pupil_register_id": a.pupil_id, "card_number": a.card_number}
            for a in sent])
    if settled and sent:        # (a repeat sends nothing new; this is only for safety)
        pupils = known_pupils(session, school.id)
    by_id = {p.register_id: p for p in pupils}
    export = build_export(sent, by_id,
                          lambda pid: photo_service.photo_bytes_of(session, school.id, pid))
    session.add(SyncExport(run_id=run.id, changes_csv=export.changes_csv,
                           photos_zip=export.photos_zip))
    if not reuse and run.plan_data != stored.encode(plan.actions):
        _store_plan(run, plan)      # something changed since the dry run
    run.rest = stored.without(run.plan_data, _SETTLED_KINDS)
    run.status = "applied"
    run.applied_at = utcnow()
    run.report = {
        "pupils_added": made, "pupils_changed": changed, "cards_added": card_made,
        "cards_changed": card_changed, "cards_gone": len(gone), "card_changes_sent": len(sent),
        "card_changes_done": done, "photos_exported": export.photos,
        "photos_without_consent": export.photos_without_consent,
        "left_for_a_person": [
            {"kind": a.kind, "pupil_id": a.pupil_id, "card_number": a.card_number,
             "reason": a.reason} for a in plan.actions if a.needs_person],
    }
    audit.record(ctx, "sync.apply", ("sync_run", run.id), school,
                 f"Applied a sync of {school.name}", school=school.name,
                 **{k: v for k, v in run.report.items() if isinstance(v, int)})
    # What the school's state is now these files are applied: a later run of the same
    # files finding it unchanged has nothing to read, plan or write.
    session.flush()
    run.plan_state = {**(run.plan_state or {}),
                      "after": state_stamp(session, school.id, run.confirm_missing)}
    session.flush()
    faults.pause_point("sync.apply")
    progress("done", 1, 1)
    return run


def _last_applied(session: Any, school_id: int, stamp: str) -> SyncRun | None:
    """The run applied last, if nothing has changed since (its "after" stamp holds) and
    what it left planned is stored in the current form. (Its plan and what it left — a
    hundred thousand actions each in a big school — are loaded only when used.)"""
    last: SyncRun | None = session.scalars(select(SyncRun).where(
        SyncRun.school_id == school_id, SyncRun.status == "applied")
        .order_by(SyncRun.id.desc()).limit(1)).first()
    if last is None or not last.plan_state or last.plan_state.get("after") != stamp:
        return None
    return last if stored.is_stored(last.rest) else None


def export_of(ctx: Ctx, run: SyncRun) -> SyncExport:
    found = ctx.session.get(SyncExport, run.id)
    if found is None:
        raise NotFound(_("This run has no export (it is not applied)."))
    return found


def list_runs(ctx: Ctx, school_id: int, limit: int = 50) -> list[SyncRun]:
    school = school_for(ctx, school_id)
    return list(ctx.session.scalars(select(SyncRun).where(SyncRun.school_id == school.id)
                                    .order_by(SyncRun.id.desc()).limit(limit)))


# --- retention -------------------------------------------------------------------------

def purge_expired(ctx: Ctx, today: date | None = None) -> dict[str, int]:
    """Remove what retention no longer allows: pupils who left more than
    PUPIL_RETENTION_DAYS ago (with their card data, pending actions and decisions), and the
    input files and detailed plans of runs older than SYNC_INPUT_RETENTION_DAYS. Each school
    purged is audited with counts, never names."""
    from datetime import timedelta

    today = today or date.today()
    session = ctx.session
    cfg = current_app.config
    cutoff = today - timedelta(days=int(cfg["PUPIL_RETENTION_DAYS"]))
    input_cutoff = utcnow() - timedelta(days=int(cfg["SYNC_INPUT_RETENTION_DAYS"]))
    totals = {"pupils": 0, "photos": 0, "cards": 0, "actions": 0, "decisions": 0,
              "run_files": 0, "photo_batches": 0}
    unused: set[str] = set()
    expired = session.execute(select(PupilRow.school_id, PupilRow.register_id).where(
        PupilRow.status == "left", PupilRow.left_on.is_not(None),
        PupilRow.left_on < cutoff)).all()
    by_school: dict[int, list[str]] = {}
    for school_id, rid in expired:
        by_school.setdefault(school_id, []).append(rid)
    for school_id, ids in sorted(by_school.items()):
        counts = dict.fromkeys(totals, 0)
        del counts["photo_batches"]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            gone_ids = select(PupilRow.id).where(PupilRow.school_id == school_id,
                                                 PupilRow.register_id.in_(chunk))
            shas = set(session.scalars(select(PupilPhoto.sha256).where(
                PupilPhoto.pupil_id.in_(gone_ids))))
            counts["photos"] += session.execute(delete(PupilPhoto).where(
                PupilPhoto.pupil_id.in_(gone_ids))).rowcount
            unused.update(shas)
            counts["pupils"] += session.execute(delete(PupilRow).where(
                PupilRow.school_id == school_id, PupilRow.register_id.in_(chunk))).rowcount
            counts["cards"] += session.execute(delete(CardRow).where(
                CardRow.school_id == school_id, CardRow.pupil_register_id.in_(chunk))
            ).rowcount
            counts["actions"] += session.execute(delete(SyncAction).where(
                SyncAction.school_id == school_id,
                SyncAction.pupil_register_id.in_(chunk))).rowcount
            counts["decisions"] += session.execute(delete(MatchDecision).where(
                MatchDecision.school_id == school_id,
                (MatchDecision.register_id.in_(chunk))
                | (MatchDecision.other_register_id.in_(chunk)))).rowcount
        school = session.get(Organisation, school_id)
        audit.record(ctx, "pupils.purge", ("organisation", school_id), school,
                     f"Removed {counts['pupils']} pupils past retention", **counts)
        for k in counts:
            totals[k] += counts[k]
    # Photo files nobody refers to any more go with them (after the rows, in this
    # transaction's view; a file shared with a pupil still here stays).
    still_used = set(session.scalars(select(PupilPhoto.sha256).where(
        PupilPhoto.sha256.in_(unused)))) if unused else set()
    orphans = sorted(unused - still_used)
    if orphans:
        # Removed once the transaction is committed: a rollback must not lose a file.
        store = photo_service.store()

        def _remove_files() -> None:
            for sha in orphans:
                store.path_for(sha, "jpeg").unlink(missing_ok=True)

        after_commit(session, _remove_files)
    # Runs past the cutoff that still hold their files (the files and the plan go together).
    old_runs = list(session.scalars(select(SyncRun).where(
        SyncRun.created_at < input_cutoff,
        SyncRun.id.in_(select(SyncInput.run_id)))))
    for run in old_runs:
        totals["run_files"] += session.execute(delete(SyncInput).where(
            SyncInput.run_id == run.id)).rowcount
        session.execute(delete(SyncExport).where(SyncExport.run_id == run.id))
        run.plan_data, run.rest = [], None   # its changes name pupils; counts, report stay
        run.report = {k: v for k, v in run.report.items() if k != "left_for_a_person"}
    from server.services import photo_batches  # it builds on this module

    totals["photo_batches"] = photo_batches.purge_batches(ctx)
    return totals
