"""The signed-in person's own account: password, language and personal API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from server.access import current_user_obj, request_ctx, signed_in
from server.errors import Invalid
from server.models.users import User
from server.schemas import PasswordChange, TokenCreate
from server.services import tokens, users
from server.web.forms import errors_by_field, parse_form

bp = Blueprint("account", __name__, url_prefix="/account")


def _me() -> User:
    user = current_user_obj()
    assert user is not None  # guaranteed by @signed_in
    return user


def _page(status: int = 200, **extra: Any) -> Any:
    user = _me()
    return render_template(
        "account.html", user=user, tokens=tokens.list_tokens(request_ctx(), user), **extra
    ), status


@bp.get("/")
@signed_in
def index() -> Any:
    """The account page."""
    return _page()


@bp.post("/password")
@signed_in
def change_password() -> Any:
    """Change one's own password; other sessions end, this one stays signed in."""
    user = _me()
    try:
        data = parse_form(PasswordChange)
        users.change_own_password(request_ctx(), user, data)
    except Invalid as exc:
        return _page(422, password_errors=errors_by_field(exc))
    lang = session.get("lang")
    login_user(user)
    if lang:
        session["lang"] = lang
    flash(_("Your password has been changed. Other sessions have been signed out."), "ok")
    return redirect(url_for("account.index"))


@bp.post("/tokens")
@signed_in
def create_token() -> Any:
    """Create a personal API token and show its secret once."""
    user = _me()
    try:
        data = parse_form(TokenCreate)
        token, secret = tokens.create_token(request_ctx(), user, data)
    except Invalid as exc:
        return _page(422, token_errors=errors_by_field(exc))
    return _page(201, new_secret=secret, new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@signed_in
def revoke_token(token_id: int) -> Any:
    """Revoke one of one's own API tokens."""
    token = tokens.revoke_token(request_ctx(), _me(), token_id)
    flash(_("Token “%(name)s” has been revoked.", name=token.name), "ok")
    return redirect(url_for("account.index"))
