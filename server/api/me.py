"""The API caller's own account."""

from __future__ import annotations

from typing import Any

from server.access import current_principal, current_user_obj, request_ctx, signed_in
from server.api.framework import Api
from server.rights import ACTIONS, scope_paths
from server.schemas import MeOut, PasswordChange, PreferencesUpdate, UserOut
from server.services import users

api = Api("me", "account")


def _me_payload() -> dict[str, Any]:
    user = current_user_obj()
    principal = current_principal()
    assert user is not None and principal is not None
    by_path = {g.org_path: g.org_id for g in principal.grants}
    permissions = {a: [by_path[p] for p in scope_paths(principal, a)] for a in ACTIONS}
    return {**UserOut.model_validate(user).model_dump(), "permissions": permissions}


@api.operation("/me", "GET", summary="Who am I, and where may I do what", access=signed_in,
               response=MeOut)
def get_me() -> Any:
    """The caller's account, roles and the topmost nodes of each permission."""
    return _me_payload()


@api.operation("/me", "PATCH", summary="Change my preferences", access=signed_in,
               body=PreferencesUpdate, response=MeOut)
def update_me(body: PreferencesUpdate) -> Any:
    """Change the caller's interface language."""
    user = current_user_obj()
    assert user is not None
    if "locale" in body.model_fields_set:
        user.locale = body.locale
    return _me_payload()


@api.operation("/me/password", "POST", summary="Change my password", access=signed_in,
               body=PasswordChange)
def change_password(body: PasswordChange) -> Any:
    """Change the caller's password (ends their browser sessions; tokens stay valid)."""
    user = current_user_obj()
    assert user is not None
    users.change_own_password(request_ctx(), user, body)
