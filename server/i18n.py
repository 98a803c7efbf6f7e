"""Interface language and time zone: the user's choice, else the browser, else the organisation."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime
from sqlalchemy.exc import SQLAlchemyError

from server.access import current_user_obj

SESSION_LANG_KEY = "lang"


def select_locale() -> str:
    """The locale of this request."""
    supported: list[str] = current_app.config["SUPPORTED_LOCALES"]
    if not has_request_context():   # CLI commands and background work
        return str(current_app.config["DEFAULT_LOCALE"])
    chosen = session.get(SESSION_LANG_KEY)
    if chosen in supported:
        return str(chosen)
    try:
        user = current_user_obj()
    except SQLAlchemyError:
        user = None
    if user is not None and user.locale in supported:
        return str(user.locale)
    best = request.accept_languages.best_match(supported)
    if best:
        return best
    if user is not None and user.org.locale in supported:
        return user.org.locale
    return str(current_app.config["DEFAULT_LOCALE"])


def select_timezone() -> str:
    """Times are shown in the time zone of the user's organisation."""
    if not has_request_context():
        return str(current_app.config["DEFAULT_TIMEZONE"])
    try:
        user = current_user_obj()
    except SQLAlchemyError:
        user = None
    if user is not None:
        return user.org.timezone
    return str(current_app.config["DEFAULT_TIMEZONE"])


def init_app(app: Flask) -> None:
    """Expose date formatting and the language list to templates."""
    app.jinja_env.filters["datetime"] = lambda value, fmt="short": (
        format_datetime(value, fmt) if value else "—"
    )
    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else "—"
    )
    app.jinja_env.filters["isodate"] = lambda value: date.fromisoformat(value) if value else None
    # Clock times of the school's own day (bells), never shifted to the reader's zone.
    app.jinja_env.filters["hm"] = lambda value: value.strftime("%H:%M") if value else ""
    app.jinja_env.add_extension("jinja2.ext.i18n")
