"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import LoginManager, login_user, logout_user

from server.access import current_user_obj, public, request_ctx, signed_in
from server.errors import TooManyAttempts, Unauthorized
from server.extensions import db
from server.i18n import SESSION_LANG_KEY
from server.models.users import User
from server.services import auth

bp = Blueprint("auth", __name__)


def configure_login(manager: LoginManager) -> None:
    """Tell Flask-Login how to find the user of a session cookie."""
    manager.login_view = "auth.login"
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(".")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.is_active or user.session_version != int(version):
            return None
        return user


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    """Show the sign-in form and sign a person in."""
    if request.method == "GET":
        if current_user_obj() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    next_url = request.form.get("next", "")
    try:
        user = auth.authenticate(request_ctx(), username, password)
    except (Unauthorized, TooManyAttempts) as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        return render_template("login.html", error=str(exc), username=username[:64],
                               next=next_url), status
    lang = session.get(SESSION_LANG_KEY)
    session.clear()
    if lang:
        session[SESSION_LANG_KEY] = lang
    session.permanent = True
    login_user(user)
    return redirect(_safe_next(next_url))


@bp.post("/logout")
@signed_in
def logout() -> Any:
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang")
@public
def set_language() -> Any:
    """Switch the interface language (kept on the account when signed in)."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["SUPPORTED_LOCALES"]:
        return redirect(url_for("dashboard.index"))
    session[SESSION_LANG_KEY] = lang
    user = current_user_obj()
    if user is not None and user.locale != lang:
        user.locale = lang
    return redirect(_safe_next(request.form.get("next")))
