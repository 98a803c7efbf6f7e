"""Background jobs' shared state: which node holds a job now, and when it is next due.

Every node may run `vitrina jobs run`; a job runs on the node that first takes its lease
(one conditional UPDATE, so two nodes never both win) and is due again only after its
interval, so each runs once across the cluster, not once per node.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class JobState(Base):
    """One background job's lease, schedule and last outcome."""

    __tablename__ = "job_states"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The node and process running it now ("host:pid"), empty when nobody is.
    holder: Mapped[str] = mapped_column(String(120), default="", server_default="")
    #: Until when the holder's claim stands; past it (a node died) another node may run it.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "ok" or "failed" (empty before the first run).
    last_status: Mapped[str] = mapped_column(String(10), default="", server_default="")
    last_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_node: Mapped[str] = mapped_column(String(120), default="", server_default="")
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
