"""The audit log over the API."""

from __future__ import annotations

from typing import Any

from flask import current_app

from server.access import request_ctx, requires
from server.api.framework import Api
from server.rights import AUDIT_VIEW
from server.schemas import AuditOut, AuditQuery, Page
from server.services import audit

api = Api("audit", "audit")


@api.operation("/audit", "GET", summary="Browse the audit log", access=requires(AUDIT_VIEW),
               query=AuditQuery, response=Page[AuditOut])
def list_events(query: AuditQuery) -> Any:
    """Changes in the caller's part of the tree, newest first (dates in UTC)."""
    per_page = int(current_app.config["PAGE_SIZE"])
    events, total = audit.query_events(request_ctx(), query, per_page)
    return {"items": events, "total": total, "page": query.page, "per_page": per_page}
