"""Votes in polls: one per voting device, rate-limited per network address, anonymous."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.errors import Invalid, NotFound, TooManyAttempts
from server.models.base import utcnow
from server.models.content import ContentItem, PollVote
from server.services.content import item_state
from server.services.context import Ctx

#: How long the per-address count of votes looks back.
RATE_WINDOW = timedelta(minutes=10)


def _digest(kind: str, value: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def find_poll(ctx: Ctx, key: str) -> ContentItem:
    """The poll behind a public voting key."""
    item = ctx.session.scalar(select(ContentItem).where(ContentItem.public_key == key,
                                                        ContentItem.kind == "poll"))
    if item is None:
        raise NotFound(_("There is no such poll."))
    return item


def is_open(item: ContentItem) -> bool:
    """Whether the poll takes votes now (it is on screen)."""
    return item_state(item) == "published"


def has_voted(ctx: Ctx, item: ContentItem, voter_token: str) -> bool:
    """Whether this voting device has voted in the poll already."""
    voter = _digest("voter", voter_token)
    return ctx.session.scalar(select(func.count()).select_from(PollVote).where(
        PollVote.item_id == item.id, PollVote.voter == voter)) != 0


def cast_vote(ctx: Ctx, item: ContentItem, option_id: int, voter_token: str) -> None:
    """Record one vote of a device; a second vote from it, or a flood from one address, fails."""
    if not is_open(item):
        raise Invalid(_("This poll is closed."))
    if option_id not in {o.id for o in item.options}:
        raise Invalid(_("Choose one of the answers."), "option_id")
    voter = _digest("voter", voter_token)
    address = _digest("address", ctx.address or "unknown")
    limit = int(current_app.config["VOTES_PER_ADDRESS"])
    recent = ctx.session.scalar(select(func.count()).select_from(PollVote).where(
        PollVote.item_id == item.id, PollVote.address_hash == address,
        PollVote.at > utcnow() - RATE_WINDOW)) or 0
    if recent >= limit:
        raise TooManyAttempts(_("Too many votes from this network just now; try again "
                                "in a few minutes."), int(RATE_WINDOW.total_seconds()))
    if has_voted(ctx, item, voter_token):
        raise Invalid(_("You have voted in this poll already."))
    try:
        with ctx.session.begin_nested():
            ctx.session.add(PollVote(item_id=item.id, option_id=option_id, voter=voter,
                                     address_hash=address))
    except IntegrityError:
        raise Invalid(_("You have voted in this poll already.")) from None
