"""The organisation tree: region → municipality → school → building."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow

#: Kinds of node from the top of the tree down; a child is always one level below its parent.
ORG_KINDS = ("region", "municipality", "school", "building")


class Organisation(Base):
    """One node of the organisation tree; rights granted here hold for its whole subtree."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    #: Materialised path of ids, e.g. "/1/4/9/"; a subtree is every path with this prefix.
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    #: Content written below this node by someone who cannot publish here waits for review.
    requires_review: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def depth(self) -> int:
        """How many ancestors this node has."""
        return self.path.count("/") - 2
