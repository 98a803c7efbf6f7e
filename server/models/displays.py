"""Displays (kiosks and Smart TVs), their pairing, and the change counter they poll.

A display authenticates as itself with a device token (kept only as a hash),
never as a person. Every change that may alter what a screen shows bumps the
counter in `screen_versions`, which every app process reads cheaply to know
whether a cached manifest still holds.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.orgs import Organisation

DISPLAY_STATUSES = ("pending", "active", "revoked")


class Display(Base):
    """A screen placed in the tree, with how it looks and when it is on."""

    __tablename__ = "displays"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Where it hangs: a school or one of its buildings (or any node above).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    floor: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(32), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    orientation: Mapped[str] = mapped_column(String(10), default="landscape")
    width: Mapped[int] = mapped_column(Integer, default=1920)
    height: Mapped[int] = mapped_column(Integer, default=1080)
    layout: Mapped[str] = mapped_column(String(16), default="standard")
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    power_on: Mapped[time | None] = mapped_column(Time())
    power_off: Mapped[time | None] = mapped_column(Time())
    off_when_no_school: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What its timetable widgets are about: "room:204", "class:7Б", "school:" or "".
    timetable_target: Mapped[str] = mapped_column(String(120), default="")
    #: How one item gives way to the next: "fade", "slide" or "none".
    transition: Mapped[str] = mapped_column(String(8), default="fade")
    #: A touch screen: polls take votes on the screen itself (one per kiosk session).
    touch: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    #: SHA-256 of the device token; the token itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the display last reported.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_etag: Mapped[str | None] = mapped_column(String(40))
    client_version: Mapped[str | None] = mapped_column(String(40))
    uptime: Mapped[int | None] = mapped_column(Integer)
    free_disk: Mapped[int | None] = mapped_column(Integer)
    cache_size: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Was dark (no heartbeat for a while) when last checked; for "came back" notices.
    dark: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A remote action waiting for the display ("reload", "clear_cache", "repair"), sent in
    #: heartbeat replies until the display reports action_id done.
    action: Mapped[str | None] = mapped_column(String(16))
    action_id: Mapped[int] = mapped_column(Integer, default=0)
    action_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[Organisation] = relationship(lazy="joined")


class DisplayScreenshot(Base):
    """The last picture of its screen a kiosk sent (downscaled JPEG, one per display)."""

    __tablename__ = "display_screenshots"

    display_id: Mapped[int] = mapped_column(ForeignKey("displays.id", ondelete="CASCADE"),
                                            primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


class PairingRequest(Base):
    """A code a new display shows until an admin places it.

    The display keeps a secret claim (stored hashed) and asks with it whether it
    has been paired; on the first answer after pairing it receives its token.
    """

    __tablename__ = "pairing_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), index=True)
    claim_hash: Mapped[str] = mapped_column(String(64), unique=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    display_id: Mapped[int | None] = mapped_column(ForeignKey("displays.id", ondelete="CASCADE"))
    #: When the display fetched its token (the claim is used up then).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PairingAttempt(Base):
    """A code an admin typed, for rate limiting wrong guesses."""

    __tablename__ = "pairing_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ScreenVersion(Base):
    """One counter bumped by every change that may alter what some screen shows."""

    __tablename__ = "screen_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
