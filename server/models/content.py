"""Content items for the screens: news, alerts, polls, links, Q&A and media slides."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.media import MediaAsset
from server.models.orgs import Organisation


class ContentItem(Base):
    """One item, from draft to archive; the pure rules live in content.publication."""

    __tablename__ = "content_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organisation the item belongs to; it can only target nodes inside it.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    #: draft, review, published or archived (scheduled/expired follow from the window).
    state: Mapped[str] = mapped_column(String(16), index=True, default="draft")
    title: Mapped[str] = mapped_column(String(200))
    #: Sanitised HTML (news), or plain text (alerts, media captions).
    body: Mapped[str] = mapped_column(Text, default="")
    #: Kind-specific data: link url, Q&A entries, media fit.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    severity: Mapped[str] = mapped_column(String(16), default="info")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_assets.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Days of the week as digits 0 (Monday) to 6, e.g. "01234"; empty means every day.
    weekdays: Mapped[str] = mapped_column(String(7), default="")
    daily_start: Mapped[time | None] = mapped_column(Time())
    daily_end: Mapped[time | None] = mapped_column(Time())
    priority: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[int] = mapped_column(Integer, default=10)
    #: "any": shown on displays in any target node or group; "all": in both.
    target_mode: Mapped[str] = mapped_column(String(8), default="any")
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Why a reviewer sent the item back.
    review_note: Mapped[str | None] = mapped_column(String(500))
    #: Random key of the public voting page of a poll.
    public_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[Organisation] = relationship(lazy="joined")
    media: Mapped[MediaAsset | None] = relationship(lazy="joined")
    targets: Mapped[list[ContentTarget]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContentTarget.id")
    options: Mapped[list[PollOption]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PollOption.position")


class ContentTarget(Base):
    """A node whose displays (its whole subtree) an item is meant for."""

    __tablename__ = "content_targets"
    __table_args__ = (UniqueConstraint("item_id", "org_id", name="item_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)

    org: Mapped[Organisation] = relationship(lazy="joined")


class PollOption(Base):
    """One answer of a poll."""

    __tablename__ = "poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))


class PollVote(Base):
    """One vote; voter is a hash of the voting device's session, one vote per poll each."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("item_id", "voter", name="item_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))
    #: A hash of the voter's address, for rate limiting (never the address itself).
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
