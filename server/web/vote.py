"""The public voting page a poll's QR code opens on a phone."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.access import public, request_ctx
from server.errors import Invalid
from server.services import content, votes

bp = Blueprint("vote", __name__, url_prefix="/vote")

COOKIE = "vitrina_voter"
COOKIE_AGE = 90 * 24 * 3600


def _voter_token() -> str:
    token = request.cookies.get(COOKIE, "")
    return token if 16 <= len(token) <= 64 else ""


def _page(key: str, status: int = 200, error: str | None = None) -> Any:
    ctx = request_ctx()
    item = votes.find_poll(ctx, key)
    token = _voter_token() or secrets.token_urlsafe(24)
    voted = votes.has_voted(ctx, item, token)
    results = content.poll_results(ctx, item) if voted or not votes.is_open(item) else None
    html = render_template("vote.html", item=item, open=votes.is_open(item), voted=voted,
                           results=results, total=sum((results or {}).values()), error=error)
    resp = make_response(html, status, {"Cache-Control": "no-store"})
    resp.set_cookie(COOKIE, token, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                    secure=request.is_secure)
    return resp


@bp.get("/<key>")
@public
def page(key: str) -> Any:
    """The question and its answers, or the results once this phone has voted."""
    return _page(key)


@bp.post("/<key>")
@public
def cast(key: str) -> Any:
    """Record this phone's vote."""
    ctx = request_ctx()
    item = votes.find_poll(ctx, key)
    token = _voter_token()
    raw = request.form.get("option_id", "")
    try:
        if not token:
            raise Invalid(_("Your browser did not keep our cookie; allow cookies and "
                            "try again."))
        if not raw.isdigit():
            raise Invalid(_("Choose one of the answers."), "option_id")
        votes.cast_vote(ctx, item, int(raw), token)
    except Invalid as exc:
        return _page(key, 422, "; ".join(e.reason for e in exc.errors))
    return redirect(url_for("vote.page", key=key))
