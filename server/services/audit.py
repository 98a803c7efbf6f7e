"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from server.errors import Forbidden
from server.models.audit import AuditEvent
from server.models.orgs import Organisation
from server.rights import AUDIT_VIEW, can, scope_paths
from server.schemas import AuditQuery
from server.services.context import Ctx


def record(
    ctx: Ctx,
    action: str,
    obj: tuple[str, object | None],
    org: Organisation | None,
    summary: str,
    **details: Any,
) -> None:
    """Add an audit event for a change made in ctx (committed with the change)."""
    object_type, object_id = obj
    ctx.session.add(
        AuditEvent(
            actor_id=ctx.actor_id,
            actor_name=ctx.actor_name,
            address=ctx.address,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            org_id=org.id if org else None,
            org_path=org.path if org else None,
            summary=summary[:300],
            details=details,
        )
    )


def query_events(
    ctx: Ctx, query: AuditQuery, per_page: int, tz_name: str = "UTC"
) -> tuple[list[AuditEvent], int]:
    """Events visible to ctx's principal, filtered as asked, newest first, and their count."""
    stmt = select(AuditEvent)
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, AUDIT_VIEW)
        if not paths:
            raise Forbidden()
        stmt = stmt.where(or_(*(AuditEvent.org_path.startswith(p) for p in paths)))
    if query.org_id is not None:
        org = ctx.session.get(Organisation, query.org_id)
        if org is None or (ctx.principal is not None and not can(ctx.principal, AUDIT_VIEW,
                                                                 org.path)):
            raise Forbidden()
        stmt = stmt.where(AuditEvent.org_path.startswith(org.path))
    if query.user_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == query.user_id)
    if query.action:
        stmt = stmt.where(AuditEvent.action.startswith(query.action))
    tz = ZoneInfo(tz_name)
    if query.date_from:
        start = datetime.combine(query.date_from, time.min, tz).astimezone(UTC)
        stmt = stmt.where(AuditEvent.at >= start)
    if query.date_to:
        end = datetime.combine(query.date_to + timedelta(days=1), time.min, tz).astimezone(UTC)
        stmt = stmt.where(AuditEvent.at < end)
    total = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = ctx.session.scalars(
        stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((query.page - 1) * per_page)
    ).all()
    return list(rows), total
