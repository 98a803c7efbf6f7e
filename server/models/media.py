"""Display media: images and videos stored once by SHA-256 (never pupil photos)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow


class MediaAsset(Base):
    """A medium an organisation uploaded; the bytes live in the media store by hash."""

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("org_id", "sha256", name="org_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: "jpeg", "png", "webp", "mp4" or "webm".
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_video(self) -> bool:
        """Whether this is a video."""
        return self.kind in ("mp4", "webm")
