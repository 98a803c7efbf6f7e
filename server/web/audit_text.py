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
    if action.startswith("content."):
        found = _content_sentence(action, str(_content_kind(d)).lower(), d.get("title", ""),
                                  d.get("reason", ""))
        if found:
            return found
    if action == "alert.raise":
        return _("Raised alert “%(title)s”", title=d.get("title", ""))
    if action == "alert.withdraw":
        return _("Withdrew alert “%(title)s”", title=d.get("title", ""))
    if action == "media.upload":
        return _("Uploaded “%(name)s”", name=d.get("name", ""))
    if action.startswith("display."):
        found = _display_sentence(action, d)
        if found:
            return found
    if action == "sync.plan":
        return _("Planned a sync of %(school)s", school=d.get("school", ""))
    if action == "sync.apply":
        return _("Applied a sync of %(school)s: %(added)s pupils added, %(changed)s changed, "
                 "%(sent)s card changes sent", school=d.get("school", ""),
                 added=d.get("pupils_added", 0), changed=d.get("pupils_changed", 0),
                 sent=d.get("card_changes_sent", 0))
    if action == "sync.mapping":
        return _("Saved the sync column names of %(school)s", school=d.get("school", ""))
    if action == "photo.add":
        return _("New photo of pupil %(id)s", id=d.get("register_id", ""))
    if action == "pupils.purge":
        return _("Removed %(n)s pupils past their retention", n=d.get("pupils", 0))
    if action == "sync.decide":
        return _("Sync decision “%(verdict)s”: %(who)s", verdict=d.get("verdict", ""),
                 who=" ".join(x for x in (d.get("register_id", ""), d.get("card_number", ""),
                                          d.get("other", "")) if x))
    if action.startswith("timetable."):
        found = _timetable_sentence(action, d)
        if found:
            return found
    return event.summary


def _display_sentence(action: str, d: dict[str, Any]) -> str | None:
    name = d.get("name", "")
    what = {"reload": _("reload the player"), "clear_cache": _("clear its cache")}.get(
        d.get("what", ""), d.get("what", ""))
    sentences = {
        "display.pair": lambda: _("Paired display “%(name)s”", name=name),
        "display.create": lambda: _("Added display “%(name)s” with a token", name=name),
        "display.update": lambda: _("Changed display “%(name)s”: %(fields)s", name=name,
                                    fields=", ".join(sorted(d.get("after", {})))),
        "display.dark": lambda: _("Display “%(name)s” went dark", name=name),
        "display.back": lambda: _("Display “%(name)s” is back", name=name),
        "display.revoke": lambda: _("Revoked display “%(name)s”", name=name),
        "display.unpair": lambda: _("Asked display “%(name)s” to pair again", name=name),
        "display.action": lambda: _("Asked display “%(name)s” to %(what)s", name=name,
                                    what=what),
        "display.action_done": lambda: _("Display “%(name)s” did: %(what)s", name=name,
                                         what=what),
    }
    sentence = sentences.get(action)
    return sentence() if sentence else None


def _timetable_sentence(action: str, d: dict[str, Any]) -> str | None:
    what = d.get("what", "")
    sentences = {
        "timetable.change.create": lambda: _("Timetable change: %(what)s", what=what),
        "timetable.change.delete": lambda: _("Removed timetable change: %(what)s", what=what),
        "timetable.undo": lambda: _("Undid: %(what)s", what=what),
        "timetable.lesson.create": lambda: _("Added lesson %(what)s", what=what),
        "timetable.lesson.update": lambda: _("Changed lesson %(what)s", what=what),
        "timetable.lesson.delete": lambda: _("Deleted lesson %(what)s", what=what),
        "timetable.lesson.bulk": lambda: _("Changed %(count)s lessons at once",
                                           count=d.get("count", 0)),
        "timetable.import": lambda: _("Imported %(count)s lessons from %(file)s",
                                      count=d.get("lessons", 0), file=d.get("filename", "")),
        "timetable.bells.save": lambda: _("Saved bells “%(name)s”", name=d.get("name", "")),
        "timetable.bells.delete": lambda: _("Removed bells “%(name)s”", name=d.get("name", "")),
        "timetable.settings": lambda: _("Changed the school week settings"),
        "timetable.calendar.add": lambda: _("Added to the calendar: %(first)s – %(last)s "
                                            "%(name)s", first=d.get("first", ""),
                                            last=d.get("last", ""), name=d.get("name", "")),
        "timetable.calendar.delete": lambda: _("Removed from the calendar: %(first)s – "
                                               "%(last)s %(name)s", first=d.get("first", ""),
                                               last=d.get("last", ""), name=d.get("name", "")),
        "timetable.classes.add": lambda: _("Added classes %(keys)s",
                                           keys=", ".join(d.get("classes", []))),
        "timetable.classes.delete": lambda: _("Removed class %(keys)s",
                                              keys=", ".join(d.get("classes", []))),
        "timetable.room.save": lambda: _("Saved room %(room)s", room=d.get("room", "")),
        "timetable.event.add": lambda: _("Added event “%(title)s”", title=d.get("title", "")),
        "timetable.event.delete": lambda: _("Removed event “%(title)s”",
                                            title=d.get("title", "")),
        "timetable.feed.create": lambda: _("Made a calendar link for %(target)s",
                                           target=d.get("target", "")),
        "timetable.feed.revoke": lambda: _("Turned off the calendar link for %(target)s",
                                           target=d.get("target", "")),
    }
    found = sentences.get(action)
    return found() if found else None


def _content_kind(details: dict[str, Any]) -> Any:
    from server.web.content import KIND_NAMES

    return KIND_NAMES.get(details.get("kind", ""), details.get("kind", ""))


def _content_sentence(action: str, kind: str, title: str, reason: str) -> str | None:
    if action == "content.create":
        return _("Created %(kind)s “%(title)s”", kind=kind, title=title)
    if action == "content.update":
        return _("Changed %(kind)s “%(title)s”", kind=kind, title=title)
    if action == "content.publish":
        return _("Published %(kind)s “%(title)s”", kind=kind, title=title)
    if action == "content.submit":
        return _("Sent %(kind)s “%(title)s” for review", kind=kind, title=title)
    if action == "content.approve":
        return _("Approved %(kind)s “%(title)s”", kind=kind, title=title)
    if action == "content.reject":
        return _("Sent %(kind)s “%(title)s” back: %(reason)s", kind=kind, title=title,
                 reason=reason)
    if action == "content.expire":
        return _("Took %(kind)s “%(title)s” off the screens", kind=kind, title=title)
    if action == "content.archive":
        return _("Archived %(kind)s “%(title)s”", kind=kind, title=title)
    return None
