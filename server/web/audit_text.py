"""Audit events told in the reader's language (the stored summary is English)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from server.models.audit import AuditEvent
from server.web.labels import KIND_LABELS, ROLE_LABELS


def _kind(details: dict[str, Any]) -> str:
    return str(KIND_LABELS.get(details.get("kind", ""), details.get("kind", "")))


def _role(details: dict[str, Any]) -> str:
    return str(ROLE_LABELS.get(details.get("role", ""), details.get("role", "")))


def describe_event(event: AuditEvent) -> str:
    """A sentence saying what happened, in the current locale."""
    d = event.details or {}
    action = event.action
    if action == "org.create":
        return _("Created %(kind)s “%(name)s”", kind=_kind(d).lower(), name=d.get("name", ""))
    if action == "org.update":
        return _("Changed %(kind)s “%(name)s”: %(fields)s", kind=_kind(d).lower(),
                 name=d.get("name", ""), fields=", ".join(sorted(d.get("after", {}))))
    if action == "org.delete":
        return _("Deleted %(kind)s “%(name)s”", kind=_kind(d).lower(), name=d.get("name", ""))
    if action == "user.create":
        return _("Created account %(user)s", user=d.get("username", ""))
    if action == "user.update":
        return _("Changed account %(user)s: %(fields)s", user=d.get("username", ""),
                 fields=", ".join(sorted(d.get("after", {}))))
    if action == "user.password_reset":
        return _("Set a new password for %(user)s", user=d.get("username", ""))
    if action == "user.password_change":
        return _("%(user)s changed their password", user=d.get("username", ""))
    if action == "grant.create":
        return _("Granted role “%(role)s” on “%(org)s” to %(user)s", role=_role(d),
                 org=d.get("org_name", ""), user=d.get("user", ""))
    if action == "grant.delete":
        return _("Removed role “%(role)s” on “%(org)s” from %(user)s", role=_role(d),
                 org=d.get("org_name", ""), user=d.get("user", ""))
    if action == "token.create":
        return _("Created API token “%(name)s”", name=d.get("name", ""))
    if action == "token.revoke":
        return _("Revoked API token “%(name)s”", name=d.get("name", ""))
    return event.summary
