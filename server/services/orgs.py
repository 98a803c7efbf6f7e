"""The organisation tree: reading it within a principal's scope and changing it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from server.errors import Forbidden, Invalid, NotFound
from server.models.orgs import ORG_KINDS, Organisation
from server.models.users import RoleGrant, User
from server.rights import ORG_MANAGE, ORG_VIEW, can, scope_paths
from server.schemas import OrgCreate, OrgUpdate
from server.services import audit
from server.services.context import Ctx


@dataclass(frozen=True)
class TreeRow:
    """A node with its depth below the topmost visible node, for indented lists."""

    org: Organisation
    depth: int


def _allowed(ctx: Ctx, action: str, org: Organisation) -> bool:
    return ctx.principal is None or can(ctx.principal, action, org.path)


def get_org(ctx: Ctx, org_id: int, action: str = ORG_VIEW) -> Organisation:
    """Load a node the principal may act on, or raise NotFound / Forbidden."""
    org = ctx.session.get(Organisation, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    if not _allowed(ctx, action, org):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    return org


def visible_orgs(ctx: Ctx, action: str = ORG_VIEW) -> list[Organisation]:
    """Every node where the principal may do action, unordered."""
    stmt = select(Organisation)
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, action)
        if not paths:
            return []
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    return list(ctx.session.scalars(stmt))


def as_tree(orgs: list[Organisation]) -> list[TreeRow]:
    """Order nodes depth-first with children by name, each with its depth in the list."""
    by_id = {o.id: o for o in orgs}
    children: dict[int | None, list[Organisation]] = {}
    for o in orgs:
        parent = o.parent_id if o.parent_id in by_id else None
        children.setdefault(parent, []).append(o)
    rows: list[TreeRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for o in sorted(children.get(parent, []), key=lambda x: (x.name.lower(), x.id)):
            rows.append(TreeRow(o, depth))
            walk(o.id, depth + 1)

    walk(None, 0)
    return rows


def ancestors(ctx: Ctx, org: Organisation) -> list[Organisation]:
    """The node's ancestors from the root down (not the node itself)."""
    ids = [int(p) for p in org.path.strip("/").split("/")[:-1] if p]
    if not ids:
        return []
    found = {o.id: o for o in ctx.session.scalars(select(Organisation).where(
        Organisation.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def create_root(ctx: Ctx, kind: str, name: str, timezone: str, locale: str) -> Organisation:
    """Create a top node of the tree (only the system does this, from the CLI)."""
    if ctx.principal is not None:
        raise Forbidden(_("Only the server's administrator creates a new tree root."))
    org = Organisation(parent_id=None, kind=kind, name=name, timezone=timezone, locale=locale)
    ctx.session.add(org)
    ctx.session.flush()
    org.path = f"/{org.id}/"
    audit.record(ctx, "org.create", ("organisation", org.id), org,
                 f"Created {kind} {name}", kind=kind, name=name)
    return org


def create_org(ctx: Ctx, data: OrgCreate) -> Organisation:
    """Create a node under a parent the principal manages; the kind must be one level down."""
    parent = ctx.session.get(Organisation, data.parent_id)
    if parent is None:
        raise Invalid(_("No such organisation."), "parent_id")
    if not _allowed(ctx, ORG_MANAGE, parent):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    expected = ORG_KINDS.index(parent.kind) + 1
    if expected >= len(ORG_KINDS) or ORG_KINDS[expected] != data.kind:
        if expected >= len(ORG_KINDS):
            raise Invalid(_("A building cannot contain other nodes."), "kind")
        raise Invalid(_("Inside a %(parent)s only a %(child)s can be created.",
                        parent=_kind_label(parent.kind),
                        child=_kind_label(ORG_KINDS[expected])), "kind")
    _check_unique_name(ctx, parent.id, data.name, None)
    org = Organisation(parent_id=parent.id, kind=data.kind, name=data.name,
                       timezone=data.timezone, locale=data.locale)
    ctx.session.add(org)
    ctx.session.flush()
    org.path = f"{parent.path}{org.id}/"
    audit.record(ctx, "org.create", ("organisation", org.id), org,
                 f"Created {data.kind} {data.name}", **data.model_dump())
    return org


def update_org(ctx: Ctx, org_id: int, data: OrgUpdate) -> Organisation:
    """Change a node's name, time zone or locale."""
    org = get_org(ctx, org_id, ORG_MANAGE)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True, exclude_none=True).items()
               if getattr(org, k) != v}
    if "name" in changes:
        _check_unique_name(ctx, org.parent_id, changes["name"], org.id)
    before = {k: getattr(org, k) for k in changes}
    for key, value in changes.items():
        setattr(org, key, value)
    if changes:
        audit.record(ctx, "org.update", ("organisation", org.id), org,
                     f"Changed {org.kind} {org.name}", kind=org.kind, name=org.name,
                     before=before, after=changes)
    return org


def delete_org(ctx: Ctx, org_id: int) -> None:
    """Remove an empty node (no children, no people, no roles on it)."""
    org = get_org(ctx, org_id, ORG_MANAGE)
    if org.parent_id is None:
        raise Invalid(_("The root of the tree cannot be deleted."))
    s = ctx.session
    if s.scalar(select(func.count()).where(Organisation.parent_id == org.id)):
        raise Invalid(_("Delete or move the nodes inside it first."))
    if s.scalar(select(func.count()).select_from(User).where(User.org_id == org.id)):
        raise Invalid(_("People still belong to this organisation; move them first."))
    if s.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.org_id == org.id)):
        raise Invalid(_("Roles are still granted on this organisation; remove them first."))
    audit.record(ctx, "org.delete", ("organisation", org.id), org,
                 f"Deleted {org.kind} {org.name}", kind=org.kind, name=org.name)
    s.delete(org)


def _check_unique_name(ctx: Ctx, parent_id: int | None, name: str, own_id: int | None) -> None:
    stmt = select(Organisation.id).where(
        Organisation.parent_id == parent_id, func.lower(Organisation.name) == name.lower()
    )
    for other in ctx.session.scalars(stmt):
        if other != own_id:
            raise Invalid(_("Another node here already has this name."), "name")


def _kind_label(kind: str) -> str:
    labels = {
        "region": _("region"),
        "municipality": _("municipality"),
        "school": _("school"),
        "building": _("building"),
    }
    return labels[kind]
