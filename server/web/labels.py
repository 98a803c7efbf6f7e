"""Translated names of roles and kinds of organisation, for pages."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "content_manager": _l("Content manager"),
    "schedule_dispatcher": _l("Schedule dispatcher"),
    "card_admin": _l("Pupil-card administrator"),
    "viewer": _l("Viewer"),
}

ROLE_HINTS = {
    "admin": _l("People, roles, organisations and screens."),
    "content_manager": _l("News, alerts, polls, links, Q&A and media for the screens."),
    "schedule_dispatcher": _l("Bells, timetable, today's changes and events."),
    "card_admin": _l("Pupils, cards, photos and synchronisation with the card system."),
    "viewer": _l("Read-only overview of the organisations."),
}

KIND_LABELS = {
    "region": _l("Region"),
    "municipality": _l("Municipality"),
    "school": _l("School"),
    "building": _l("Building"),
}
