"""Browsing the audit log, filtered by node, person and date."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from server.access import request_ctx, requires
from server.i18n import select_timezone
from server.rights import AUDIT_VIEW
from server.schemas import AuditQuery
from server.services import audit, orgs
from server.web.forms import parse_args

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@requires(AUDIT_VIEW)
def index() -> Any:
    """The audit log of the admin's part of the tree."""
    query = parse_args(AuditQuery)
    per_page = int(current_app.config["PAGE_SIZE"])
    ctx = request_ctx()
    events, total = audit.query_events(ctx, query, per_page, select_timezone())
    org_rows = orgs.as_tree(orgs.visible_orgs(ctx, AUDIT_VIEW))
    return render_template("audit.html", events=events, total=total, query=query,
                           per_page=per_page, org_rows=org_rows)
