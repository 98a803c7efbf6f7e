"""The one place that decides what a principal may do on an organisation node.

A role is granted on a node and holds for its whole subtree. Views declare the
action they need (see server.access); services ask `can()` for the node of the
object at hand. Nothing else checks roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ROLES = ("admin", "content_manager", "schedule_dispatcher", "card_admin", "viewer")

# Actions, named "<area>.<verb>".
ORG_VIEW = "org.view"
ORG_MANAGE = "org.manage"
USER_MANAGE = "user.manage"
AUDIT_VIEW = "audit.view"
DASHBOARD_VIEW = "dashboard.view"
CONTENT_EDIT = "content.edit"
#: Publishing without review; checked on the reviewing node (see services.content).
CONTENT_PUBLISH = "content.publish"
TIMETABLE_VIEW = "timetable.view"
TIMETABLE_EDIT = "timetable.edit"
DISPLAY_VIEW = "display.view"
DISPLAY_MANAGE = "display.manage"
#: Pupils, cards and sync runs: personal data, for card administrators only.
PUPIL_MANAGE = "pupil.manage"
#: Seeing pupils' photos: their card administrators, and the school's admins.
PHOTO_VIEW = "photo.view"

ACTIONS = (ORG_VIEW, ORG_MANAGE, USER_MANAGE, AUDIT_VIEW, DASHBOARD_VIEW, CONTENT_EDIT,
           CONTENT_PUBLISH, TIMETABLE_VIEW, TIMETABLE_EDIT, DISPLAY_VIEW, DISPLAY_MANAGE,
           PUPIL_MANAGE, PHOTO_VIEW)

#: What each role may do, on its node and everything below it.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({ORG_VIEW, ORG_MANAGE, USER_MANAGE, AUDIT_VIEW, DASHBOARD_VIEW,
                        TIMETABLE_VIEW, DISPLAY_VIEW, DISPLAY_MANAGE, PHOTO_VIEW}),
    "content_manager": frozenset({ORG_VIEW, DASHBOARD_VIEW, CONTENT_EDIT, CONTENT_PUBLISH,
                                  TIMETABLE_VIEW, DISPLAY_VIEW}),
    "schedule_dispatcher": frozenset({ORG_VIEW, DASHBOARD_VIEW, TIMETABLE_VIEW,
                                      TIMETABLE_EDIT}),
    "card_admin": frozenset({ORG_VIEW, DASHBOARD_VIEW, PUPIL_MANAGE, PHOTO_VIEW}),
    "viewer": frozenset({ORG_VIEW, DASHBOARD_VIEW, TIMETABLE_VIEW, DISPLAY_VIEW}),
}


@dataclass(frozen=True)
class Grant:
    """A role on the node with the given materialised path (e.g. "/1/4/")."""

    role: str
    org_id: int
    org_path: str


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user id with the grants they hold."""

    user_id: int
    username: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def roles(self) -> frozenset[str]:
        """Every role the principal holds anywhere."""
        return frozenset(g.role for g in self.grants)


def is_within(path: str, ancestor_path: str) -> bool:
    """Whether the node at path is ancestor_path itself or lies below it."""
    return path.startswith(ancestor_path)


def can(principal: Principal | None, action: str, org_path: str) -> bool:
    """Whether principal may do action on the node with materialised path org_path."""
    if principal is None:
        return False
    return any(
        action in ROLE_ACTIONS[g.role] and is_within(org_path, g.org_path)
        for g in principal.grants
    )


def can_anywhere(principal: Principal | None, action: str) -> bool:
    """Whether principal may do action on at least one node."""
    if principal is None:
        return False
    return any(action in ROLE_ACTIONS[g.role] for g in principal.grants)


def scope_paths(principal: Principal | None, action: str) -> list[str]:
    """The topmost node paths where principal may do action (no path lies below another)."""
    if principal is None:
        return []
    paths = sorted({g.org_path for g in principal.grants if action in ROLE_ACTIONS[g.role]})
    top: list[str] = []
    for p in paths:
        if not any(is_within(p, t) for t in top):
            top.append(p)
    return top


def roles_grantable(principal: Principal | None, org_path: str) -> Iterable[str]:
    """Roles principal may hand out on the node at org_path (admins grant within their subtree)."""
    return ROLES if can(principal, USER_MANAGE, org_path) else ()
