"""What every page needs: navigation filtered by rights, labels, the signed-in person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from server.access import current_principal, current_user_obj
from server.rights import (
    AUDIT_VIEW,
    CONTENT_EDIT,
    DISPLAY_VIEW,
    ORG_VIEW,
    PUPIL_MANAGE,
    TIMETABLE_VIEW,
    USER_MANAGE,
    can_anywhere,
)
from server.web.audit_text import describe_event
from server.web.labels import KIND_LABELS, ROLE_HINTS, ROLE_LABELS


@dataclass(frozen=True)
class NavItem:
    """One entry of the side navigation; shown only to those holding `action` somewhere."""

    endpoint: str
    label: Any
    icon: str
    action: str | None = None


NAV = (
    NavItem("dashboard.index", _l("Overview"), "home"),
    NavItem("content.index", _l("Content"), "content", CONTENT_EDIT),
    NavItem("content.alerts", _l("Alerts"), "alert", CONTENT_EDIT),
    NavItem("timetable.index", _l("Timetable"), "clock", TIMETABLE_VIEW),
    NavItem("displays.index", _l("Displays"), "screen", DISPLAY_VIEW),
    NavItem("pupils.index", _l("Pupils and cards"), "people", PUPIL_MANAGE),
    NavItem("orgs.index", _l("Organisations"), "tree", ORG_VIEW),
    NavItem("users.index", _l("People and roles"), "people", USER_MANAGE),
    NavItem("audit.index", _l("Audit log"), "log", AUDIT_VIEW),
)

LANGUAGES = (("ru", "Русский"), ("en", "English"))


def nav_items() -> list[NavItem]:
    """The navigation entries the current person may use."""
    try:
        principal = current_principal()
    except SQLAlchemyError:
        return []
    if principal is None:
        return []
    return [item for item in NAV if item.action is None or can_anywhere(principal, item.action)]


def active_nav(items: list[NavItem], endpoint: str) -> str | None:
    """The entry to highlight: the one for this very page, else the one of its section."""
    for item in items:
        if item.endpoint == endpoint:
            return item.endpoint
    section = endpoint.split(".")[0]
    for item in items:
        if item.endpoint.split(".")[0] == section:
            return item.endpoint
    return None


def init_app(app: Flask) -> None:
    """Register the template context shared by every page."""

    app.jinja_env.filters["describe"] = describe_event

    @app.context_processor
    def ui_context() -> dict[str, Any]:
        try:
            me = current_user_obj()
        except SQLAlchemyError:
            me = None  # the error page for an unreachable database still renders
        return {
            "me": me,
            "nav_items": nav_items,
            "active_nav": active_nav,
            "role_labels": ROLE_LABELS,
            "role_hints": ROLE_HINTS,
            "kind_labels": KIND_LABELS,
            "languages": LANGUAGES,
            "current_locale": str(get_locale() or "ru"),
            "current_timezone": str(get_timezone()),
            "current_endpoint": request.endpoint or "",
        }
