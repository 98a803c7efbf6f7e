"""People and role grants over the API (admins, within their subtree)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from server.access import request_ctx, requires
from server.api.framework import Api
from server.rights import USER_MANAGE
from server.schemas import (
    GrantCreate,
    GrantOut,
    Page,
    PasswordSet,
    UserCreate,
    UserOut,
    UserQuery,
    UserUpdate,
)
from server.services import users

api = Api("users", "users")


def _user_in_scope(user_id: int, **_: Any) -> None:
    users.get_user(request_ctx(), user_id)


@api.operation("/users", "GET", summary="List people", access=requires(USER_MANAGE),
               query=UserQuery, response=Page[UserOut])
def list_users(query: UserQuery) -> Any:
    """People whose organisation lies in the caller's admin scope."""
    per_page = int(current_app.config["PAGE_SIZE"])
    found, total = users.list_users(request_ctx(), query, per_page)
    return {"items": found, "total": total, "page": query.page, "per_page": per_page}


@api.operation("/users", "POST", summary="Create an account", access=requires(USER_MANAGE),
               body=UserCreate, response=UserOut, status=201)
def create_user(body: UserCreate) -> Any:
    """Create an account in an organisation the caller administers."""
    return users.create_user(request_ctx(), body)


@api.operation("/users/<int:user_id>", "GET", summary="Read an account",
               access=requires(USER_MANAGE), response=UserOut)
def get_user(user_id: int) -> Any:
    """One account with its roles."""
    return users.get_user(request_ctx(), user_id)


@api.operation("/users/<int:user_id>", "PATCH", summary="Change an account",
               access=requires(USER_MANAGE), guard=_user_in_scope,
               body=UserUpdate, response=UserOut)
def update_user(user_id: int, body: UserUpdate) -> Any:
    """Change an account's details or deactivate it."""
    return users.update_user(request_ctx(), user_id, body)


@api.operation("/users/<int:user_id>/password", "PUT", summary="Set an account's password",
               access=requires(USER_MANAGE), guard=_user_in_scope,
               body=PasswordSet)
def set_password(user_id: int, body: PasswordSet) -> Any:
    """Set a new password; the person's browser sessions end."""
    users.set_password(request_ctx(), user_id, body.password)


@api.operation("/users/<int:user_id>/grants", "POST", summary="Grant a role on a node",
               access=requires(USER_MANAGE), guard=_user_in_scope,
               body=GrantCreate, response=GrantOut, status=201)
def add_grant(user_id: int, body: GrantCreate) -> Any:
    """Give the person a role on a node in the caller's admin scope."""
    return users.add_grant(request_ctx(), user_id, body)


@api.operation("/users/<int:user_id>/grants/<int:grant_id>", "DELETE",
               summary="Take a role back", access=requires(USER_MANAGE))
def remove_grant(user_id: int, grant_id: int) -> Any:
    """Remove a role grant."""
    users.remove_grant(request_ctx(), user_id, grant_id)
