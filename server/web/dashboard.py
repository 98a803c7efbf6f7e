"""The start page: what each of the person's roles looks after, and where."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, or_, select

from server import jobs
from server.access import current_principal, request_ctx, signed_in
from server.models.audit import AuditEvent
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.users import User
from server.rights import AUDIT_VIEW, ROLES, USER_MANAGE, can_anywhere, scope_paths
from server.services import orgs

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@signed_in
def index() -> Any:
    """The dashboard of the signed-in person, one panel per role they hold."""
    ctx = request_ctx()
    principal = current_principal()
    assert principal is not None
    by_role: dict[str, list[Organisation]] = {}
    org_ids = {g.org_id for g in principal.grants}
    found = {o.id: o for o in ctx.session.scalars(
        select(Organisation).where(Organisation.id.in_(org_ids)))} if org_ids else {}
    for g in principal.grants:
        by_role.setdefault(g.role, []).append(found[g.org_id])
    roles = [r for r in ROLES if r in by_role]

    visible = orgs.visible_orgs(ctx)
    counts = {kind: sum(1 for o in visible if o.kind == kind)
              for kind in ("region", "municipality", "school", "building")}
    stats: dict[str, Any] = {"orgs": counts}
    if can_anywhere(principal, USER_MANAGE):
        paths = scope_paths(principal, USER_MANAGE)
        stats["users"] = ctx.session.scalar(
            select(func.count()).select_from(User).join(Organisation).where(
                or_(*(Organisation.path.startswith(p) for p in paths)))) or 0
    recent: list[AuditEvent] = []
    if can_anywhere(principal, AUDIT_VIEW):
        paths = scope_paths(principal, AUDIT_VIEW)
        recent = list(ctx.session.scalars(
            select(AuditEvent).where(or_(*(AuditEvent.org_path.startswith(p) for p in paths)))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(8)))
    backup = None
    if "admin" in by_role:
        last = ctx.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "backup.made").order_by(AuditEvent.at.desc()).limit(1)).first()
        limit = timedelta(hours=backup_max_age_hours(current_app.config))
        backup = {"last": last, "late": last is None or utcnow() - last.at > limit,
                  "hours": int(limit.total_seconds() // 3600)}
    return render_template("dashboard.html", roles=roles, by_role=by_role, stats=stats,
                           recent=recent, backup=backup,
                           jobs=_jobs_view() if "admin" in by_role else None)


def backup_max_age_hours(config: Any) -> float:
    """How old the newest backup may be before admins are warned: BACKUP_MAX_AGE_HOURS,
    else the backup job's interval and two hours' grace, else (no job) 26 hours."""
    if float(config["BACKUP_MAX_AGE_HOURS"]) > 0:
        return float(config["BACKUP_MAX_AGE_HOURS"])
    every = float(config["BACKUP_EVERY_HOURS"])
    return every + 2 if every > 0 else 26.0


def _jobs_view() -> dict[str, Any]:
    """The background jobs for admins: each with its last run; which failed last time,
    which are late (ran before, but not for twice their interval), and whether none runs
    at all (nobody runs `vitrina jobs run`). A job that never ran is not called late on
    its own: the nodes that run jobs may have it switched off (JOBS_DISABLED)."""
    now = utcnow()
    rows, failed, late, fresh = [], [], [], []
    for job, state, every in jobs.states(current_app):  # type: ignore[arg-type]
        rows.append({"job": job, "state": state, "every": every})
        if every is None:
            continue
        if state is not None and state.last_status == "failed":
            failed.append(job)
        last = state.last_started_at if state is not None else None
        if last is None:
            continue
        if now - last > every * 2 + timedelta(minutes=5):
            late.append(job)
        else:
            fresh.append(job)
    enabled = [r for r in rows if r["every"] is not None]
    return {"rows": rows, "failed": failed, "late": late,
            "stopped": bool(enabled) and not fresh}
