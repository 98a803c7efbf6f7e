"""One mapping from errors to answers: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from server.access import is_api_request
from server.errors import DomainError, Invalid, TooManyAttempts, Unauthorized

log = logging.getLogger(__name__)


def _default_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You do not have the right to do this here."),
        404: _("This page does not exist."),
        405: _("This action is not possible here."),
        413: _("The upload is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait a little."),
        500: _("Something went wrong on our side. The error has been logged."),
        503: _("The service is temporarily unavailable. Please try again shortly."),
    }
    return messages.get(status, _("The request could not be completed."))


CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 429: "too_many_requests", 500: "internal_error", 503: "unavailable"}


def error_response(status: int, message: str | None = None,
                   fields: list[dict[str, str]] | None = None) -> Any:
    """Answer an error as JSON for the API and as a page for people."""
    message = message or _default_message(status)
    if is_api_request() or request.path.startswith("/api/"):
        body = {"error": CODES.get(status, "error"), "message": message, "fields": fields or []}
        resp = jsonify(body)
        resp.status_code = status
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="vitrina"'
        return resp
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", status=status, message=message, fields=fields or []), \
        status


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        fields = None
        if isinstance(exc, Invalid):
            fields = [{"field": e.field, "reason": e.reason} for e in exc.errors]
            message = _default_message(422) if len(exc.errors) > 1 or exc.errors[0].field \
                else exc.errors[0].reason
        else:
            message = str(exc) or None
        resp = error_response(exc.status, message, fields)
        if isinstance(exc, TooManyAttempts) and isinstance(resp, Response):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return error_response(
            400, _("This form has expired or did not come from this site. "
                   "Go back, reload the page and try again."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(exc: Exception) -> Any:
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        # The page must not ask the database again (who is signed in, in what language).
        g._login_user = AnonymousUserMixin()
        g.vitrina_user = g.vitrina_principal = None
        resp = error_response(503, _("The database cannot be reached just now. Screens keep "
                                     "showing what they have; please try again in a minute."))
        if isinstance(resp, tuple):
            resp = app.make_response(resp)
        resp.headers["Retry-After"] = "10"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status == 401:
            return error_response(401, str(Unauthorized()) or None)
        return error_response(status)

    if app.testing:
        return  # let tests see the real traceback

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
