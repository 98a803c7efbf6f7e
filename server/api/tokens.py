"""Personal API tokens over the API."""

from __future__ import annotations

from typing import Any

from server.access import current_user_obj, request_ctx, signed_in
from server.api.framework import Api
from server.models.users import User
from server.schemas import TokenCreate, TokenCreated, TokenOut
from server.services import tokens

api = Api("tokens", "account")


def _me() -> User:
    user = current_user_obj()
    assert user is not None
    return user


@api.operation("/tokens", "GET", summary="List my API tokens", access=signed_in,
               response=list[TokenOut])
def list_tokens() -> Any:
    """The caller's tokens (never their secrets)."""
    return tokens.list_tokens(request_ctx(), _me())


@api.operation("/tokens", "POST", summary="Create an API token", access=signed_in,
               body=TokenCreate, response=TokenCreated, status=201)
def create_token(body: TokenCreate) -> Any:
    """Create a token; the answer holds its secret, shown only this once."""
    token, secret = tokens.create_token(request_ctx(), _me(), body)
    return {**TokenOut.model_validate(token).model_dump(), "token": secret}


@api.operation("/tokens/<int:token_id>", "DELETE", summary="Revoke an API token",
               access=signed_in)
def revoke_token(token_id: int) -> Any:
    """Revoke one of the caller's tokens."""
    tokens.revoke_token(request_ctx(), _me(), token_id)
