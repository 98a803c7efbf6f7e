"""The rights model as a pure function: roles hold on their node and its whole subtree."""

from __future__ import annotations

import pytest

from server.rights import (
    AUDIT_VIEW,
    ORG_MANAGE,
    ORG_VIEW,
    USER_MANAGE,
    Grant,
    Principal,
    can,
    can_anywhere,
    scope_paths,
)

REGION, MUNI, A, A1, B = "/1/", "/1/2/", "/1/2/3/", "/1/2/3/5/", "/1/2/4/"


def who(*grants: tuple[str, str]) -> Principal:
    return Principal(1, "x", tuple(Grant(role, int(p.strip("/").split("/")[-1]), p)
                                   for role, p in grants))


@pytest.mark.parametrize(("grants", "action", "path", "expected"), [
    ([("admin", A)], USER_MANAGE, A, True),
    ([("admin", A)], USER_MANAGE, A1, True),
    ([("admin", A)], USER_MANAGE, B, False),
    ([("admin", A)], USER_MANAGE, MUNI, False),
    ([("admin", MUNI)], ORG_MANAGE, A1, True),
    ([("viewer", MUNI)], ORG_VIEW, B, True),
    ([("viewer", MUNI)], ORG_MANAGE, B, False),
    ([("content_manager", A)], AUDIT_VIEW, A, False),
    ([("content_manager", A), ("admin", B)], USER_MANAGE, B, True),
    ([("content_manager", A), ("admin", B)], USER_MANAGE, A, False),
    ([], ORG_VIEW, A, False),
    # "/1/2/3/" must not be mistaken for an ancestor of "/1/2/30/"
    ([("admin", A)], USER_MANAGE, "/1/2/30/", False),
])
def test_can(grants: list[tuple[str, str]], action: str, path: str, expected: bool) -> None:
    assert can(who(*grants), action, path) is expected


def test_anonymous_can_nothing() -> None:
    assert not can(None, ORG_VIEW, A)
    assert not can_anywhere(None, ORG_VIEW)


def test_scope_paths_keeps_only_topmost_nodes() -> None:
    p = who(("viewer", A1), ("viewer", MUNI), ("admin", B))
    assert scope_paths(p, ORG_VIEW) == [MUNI]
    assert scope_paths(p, USER_MANAGE) == [B]
