"""The organisation tree in the admin UI."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.access import current_principal, request_ctx, requires
from server.errors import Invalid
from server.models.orgs import ORG_KINDS
from server.rights import ORG_MANAGE, ORG_VIEW, can
from server.schemas import OrgCreate, OrgUpdate
from server.services import orgs
from server.web.forms import errors_by_field, parse_form

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

_TIMEZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def _may_manage(org: Any) -> bool:
    return can(current_principal(), ORG_MANAGE, org.path)


@bp.get("/")
@requires(ORG_VIEW)
def index() -> Any:
    """The organisation tree within the person's scope."""
    rows = orgs.as_tree(orgs.visible_orgs(request_ctx()))
    return render_template("orgs/index.html", rows=rows, may_manage=_may_manage)


@bp.get("/<int:org_id>")
@requires(ORG_VIEW)
def show(org_id: int) -> Any:
    """One node: its place in the tree, settings and children."""
    ctx = request_ctx()
    org = orgs.get_org(ctx, org_id)
    children = [r.org for r in orgs.as_tree(orgs.visible_orgs(ctx)) if r.org.parent_id == org.id]
    return render_template("orgs/show.html", org=org, ancestors=orgs.ancestors(ctx, org),
                           children=children, may_manage=_may_manage(org),
                           child_kind=_child_kind(org.kind))


def _child_kind(kind: str) -> str | None:
    i = ORG_KINDS.index(kind) + 1
    return ORG_KINDS[i] if i < len(ORG_KINDS) else None


@bp.route("/<int:parent_id>/new", methods=["GET", "POST"])
@requires(ORG_MANAGE)
def create(parent_id: int) -> Any:
    """Add a node below parent_id."""
    ctx = request_ctx()
    parent = orgs.get_org(ctx, parent_id, ORG_MANAGE)
    kind = _child_kind(parent.kind)
    if kind is None:
        raise Invalid(_("A building cannot contain other nodes."))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            data = parse_form(OrgCreate)
            org = orgs.create_org(ctx, data)
        except Invalid as exc:
            errors = errors_by_field(exc)
        else:
            flash(_("“%(name)s” has been created.", name=org.name), "ok")
            return redirect(url_for("orgs.show", org_id=org.id))
    form = request.form if request.method == "POST" else {
        "timezone": parent.timezone, "locale": parent.locale}
    return render_template("orgs/form.html", parent=parent, kind=kind, org=None, form=form,
                           errors=errors, timezones=_TIMEZONES), 422 if errors else 200


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@requires(ORG_MANAGE)
def edit(org_id: int) -> Any:
    """Change a node's name, time zone or language."""
    ctx = request_ctx()
    org = orgs.get_org(ctx, org_id, ORG_MANAGE)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            data = parse_form(OrgUpdate)
            orgs.update_org(ctx, org.id, data)
        except Invalid as exc:
            errors = errors_by_field(exc)
        else:
            flash(_("Changes saved."), "ok")
            return redirect(url_for("orgs.show", org_id=org.id))
    form = request.form if request.method == "POST" else {
        "name": org.name, "timezone": org.timezone, "locale": org.locale,
        "requires_review": org.requires_review}
    return render_template("orgs/form.html", parent=None, kind=org.kind, org=org, form=form,
                           errors=errors, timezones=_TIMEZONES), 422 if errors else 200


@bp.post("/<int:org_id>/delete")
@requires(ORG_MANAGE)
def delete(org_id: int) -> Any:
    """Delete an empty node."""
    ctx = request_ctx()
    org = orgs.get_org(ctx, org_id, ORG_MANAGE)
    parent_id = org.parent_id
    name = org.name
    try:
        orgs.delete_org(ctx, org_id)
    except Invalid as exc:
        flash(str(exc.errors[0].reason), "error")
        return redirect(url_for("orgs.show", org_id=org_id))
    flash(_("“%(name)s” has been deleted.", name=name), "ok")
    return redirect(url_for("orgs.show", org_id=parent_id))
