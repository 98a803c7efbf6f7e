"""Personal API tokens: created and revoked by their owner, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from server.errors import NotFound
from server.models.base import utcnow
from server.models.users import ApiToken, User
from server.schemas import TokenCreate
from server.services import audit
from server.services.context import Ctx

TOKEN_PREFIX = "vit_"
#: last_used_at is written at most this often per token, so API calls stay read-only.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: Ctx, user: User, data: TokenCreate) -> tuple[ApiToken, str]:
    """Create a token for user; returns the row and the secret, which is never shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    token = ApiToken(user_id=user.id, name=data.name, token_hash=_digest(secret),
                     prefix=secret[:10], expires_at=expires)
    ctx.session.add(token)
    ctx.session.flush()
    audit.record(ctx, "token.create", ("api_token", token.id), user.org,
                 f"{user.username} created API token {data.name}", name=data.name)
    return token, secret


def list_tokens(ctx: Ctx, user: User) -> list[ApiToken]:
    """The user's own tokens, newest first."""
    return list(ctx.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(ctx: Ctx, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    token = ctx.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such API token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(ctx, "token.revoke", ("api_token", token.id), user.org,
                     f"{user.username} revoked API token {token.name}", name=token.name)
    return token


def user_for_token(ctx: Ctx, secret: str) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = ctx.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        ctx.session.commit()
    return token.user
