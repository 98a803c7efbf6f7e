"""The organisation tree over the API."""

from __future__ import annotations

from typing import Any

from server.access import request_ctx, requires
from server.api.framework import Api
from server.rights import ORG_MANAGE, ORG_VIEW
from server.schemas import EmptyQuery, OrgCreate, OrgOut, OrgUpdate
from server.services import orgs

api = Api("orgs", "organisations")


def _managed_org(org_id: int, **_: Any) -> None:
    orgs.get_org(request_ctx(), org_id, ORG_MANAGE)


@api.operation("/orgs", "GET", summary="List the nodes I can see, depth-first",
               access=requires(ORG_VIEW), query=EmptyQuery, response=list[OrgOut])
def list_orgs(query: EmptyQuery) -> Any:
    """Every visible node, parents before children."""
    return [row.org for row in orgs.as_tree(orgs.visible_orgs(request_ctx()))]


@api.operation("/orgs", "POST", summary="Create a node", access=requires(ORG_MANAGE),
               body=OrgCreate, response=OrgOut, status=201)
def create_org(body: OrgCreate) -> Any:
    """Create a node under a parent the caller administers."""
    return orgs.create_org(request_ctx(), body)


@api.operation("/orgs/<int:org_id>", "GET", summary="Read a node", access=requires(ORG_VIEW),
               response=OrgOut)
def get_org(org_id: int) -> Any:
    """One node."""
    return orgs.get_org(request_ctx(), org_id)


@api.operation("/orgs/<int:org_id>", "PATCH", summary="Change a node",
               access=requires(ORG_MANAGE), guard=_managed_org, body=OrgUpdate, response=OrgOut)
def update_org(org_id: int, body: OrgUpdate) -> Any:
    """Change a node's name, time zone or language."""
    return orgs.update_org(request_ctx(), org_id, body)


@api.operation("/orgs/<int:org_id>", "DELETE", summary="Delete an empty node",
               access=requires(ORG_MANAGE))
def delete_org(org_id: int) -> Any:
    """Delete a node with no children, people or roles."""
    orgs.delete_org(request_ctx(), org_id)
