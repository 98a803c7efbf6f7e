"""Signing in, with failed attempts throttled per user name and per address."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from server.errors import TooManyAttempts, Unauthorized
from server.models.base import utcnow
from server.models.users import LoginAttempt, User
from server.passwords import hash_password, needs_rehash, verify_password
from server.services.context import Ctx


def authenticate(ctx: Ctx, username: str, password: str) -> User:
    """Return the user whose credentials these are; raise Unauthorized or TooManyAttempts."""
    cfg = current_app.config
    username = username.strip().lower()[:64]
    address = (ctx.address or "unknown")[:64]
    window = timedelta(minutes=int(cfg["LOGIN_THROTTLE_MINUTES"]))
    since = utcnow() - window
    s = ctx.session
    by_user = s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.at >= since)) or 0
    by_address = s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.address == address, LoginAttempt.at >= since)) or 0
    if by_user >= int(cfg["LOGIN_MAX_FAILURES_PER_USER"]) or by_address >= int(
            cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        minutes = int(cfg["LOGIN_THROTTLE_MINUTES"])
        raise TooManyAttempts(
            _("Too many failed sign-in attempts. Try again in %(n)s minutes.", n=minutes),
            retry_after=minutes * 60,
        )
    user = s.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        s.add(LoginAttempt(username=username, address=address))
        s.commit()
        raise Unauthorized(_("Wrong user name or password."))
    s.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    s.commit()
    return user


def forget_old_attempts(ctx: Ctx) -> int:
    """Delete failed attempts older than the throttle window; returns how many."""
    window = timedelta(minutes=int(current_app.config["LOGIN_THROTTLE_MINUTES"]))
    result = ctx.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - window))
    return int(getattr(result, "rowcount", 0) or 0)
