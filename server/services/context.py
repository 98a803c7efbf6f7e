"""What a service needs to know about the call: the session, who asks, and from where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, scoped_session

from server.models.orgs import Organisation
from server.models.users import RoleGrant, User
from server.rights import Grant, Principal


@dataclass
class Ctx:
    """The session, the principal (None for the system itself) and the caller's address."""

    session: Session
    principal: Principal | None
    actor_name: str
    address: str | None = None

    @property
    def actor_id(self) -> int | None:
        """The acting user's id, or None for the system."""
        return self.principal.user_id if self.principal else None


def principal_for(session: Session, user: User) -> Principal:
    """Build the principal of user from their grants (one query)."""
    rows = session.execute(
        select(RoleGrant.role, RoleGrant.org_id, Organisation.path)
        .join(Organisation, Organisation.id == RoleGrant.org_id)
        .where(RoleGrant.user_id == user.id)
    ).all()
    grants = tuple(Grant(role, org_id, path) for role, org_id, path in rows)
    return Principal(user_id=user.id, username=user.username, grants=grants)


def system_ctx(session: Session, name: str = "system") -> Ctx:
    """A context for the system itself (CLI, scheduled jobs): no principal, all rights."""
    return Ctx(session=session, principal=None, actor_name=name)


def after_commit(session: Session | scoped_session[Session], fn: Callable[[], None]) -> None:
    """Run fn once this session's transaction is committed (files that must outlive a
    rollback are removed this way). Bound to the one session, never to every session of a
    scoped_session's class."""
    real = session() if isinstance(session, scoped_session) else session
    event.listen(real, "after_commit", lambda _s: fn(), once=True)


def after_rollback(session: Session | scoped_session[Session], fn: Callable[[], None]) -> None:
    """Run fn if this session's transaction is rolled back before it is committed."""
    real = session() if isinstance(session, scoped_session) else session
    state = {"committed": False}

    def committed(_s: Session) -> None:
        state["committed"] = True

    def rolled_back(_s: Session, _previous: Any) -> None:
        if not state["committed"]:
            fn()

    event.listen(real, "after_commit", committed, once=True)
    event.listen(real, "after_soft_rollback", rolled_back, once=True)
