"""People and their role grants, managed by admins within their subtree."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from server.errors import Forbidden, Invalid, NotFound
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.users import RoleGrant, User
from server.passwords import hash_password, verify_password
from server.rights import USER_MANAGE, can, scope_paths
from server.schemas import GrantCreate, PasswordChange, UserCreate, UserQuery, UserUpdate
from server.services import audit
from server.services.context import Ctx


def _manageable(ctx: Ctx, org: Organisation) -> bool:
    return ctx.principal is None or can(ctx.principal, USER_MANAGE, org.path)


def _org_for_user(ctx: Ctx, org_id: int, field: str = "org_id") -> Organisation:
    org = ctx.session.get(Organisation, org_id)
    if org is None:
        raise Invalid(_("No such organisation."), field)
    if not _manageable(ctx, org):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    return org


def get_user(ctx: Ctx, user_id: int) -> User:
    """Load a user the principal may manage, or raise NotFound / Forbidden."""
    user = ctx.session.get(User, user_id, options=[selectinload(User.grants)])
    if user is None:
        raise NotFound(_("No such user."))
    if not _manageable(ctx, user.org):
        raise Forbidden(_("This person belongs to an organisation outside your part of the tree."))
    return user


def list_users(ctx: Ctx, query: UserQuery, per_page: int) -> tuple[list[User], int]:
    """Users whose organisation lies in the principal's admin scope, filtered and paged."""
    stmt = select(User).join(Organisation, Organisation.id == User.org_id)
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, USER_MANAGE)
        if not paths:
            raise Forbidden()
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    if query.org_id is not None:
        org = _org_for_user(ctx, query.org_id)
        stmt = stmt.where(Organisation.path.startswith(org.path))
    if query.q:
        like = f"%{query.q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like),
                              func.lower(User.display_name).like(like)))
    total = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = ctx.session.scalars(
        stmt.options(selectinload(User.grants))
        .order_by(func.lower(User.display_name), User.id)
        .limit(per_page).offset((query.page - 1) * per_page)
    ).all()
    return list(users), total


def create_user(ctx: Ctx, data: UserCreate) -> User:
    """Create an account in an organisation the principal manages."""
    org = _org_for_user(ctx, data.org_id)
    if ctx.session.scalar(select(User.id).where(User.username == data.username)):
        raise Invalid(_("This user name is taken."), "username")
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        password_hash=hash_password(data.password),
        org_id=org.id,
        locale=data.locale,
    )
    ctx.session.add(user)
    ctx.session.flush()
    audit.record(ctx, "user.create", ("user", user.id), org,
                 f"Created user {user.username}", username=user.username,
                 display_name=user.display_name)
    return user


def update_user(ctx: Ctx, user_id: int, data: UserUpdate) -> User:
    """Change a user's name, e-mail, organisation, language or whether they may sign in."""
    user = get_user(ctx, user_id)
    changes = data.model_dump(exclude_unset=True)
    for key in ("display_name", "org_id", "is_active"):
        if key in changes and changes[key] is None:
            raise Invalid(_("This field is required."), key)
    if changes.get("is_active") is False and ctx.actor_id == user.id:
        raise Invalid(_("You cannot deactivate your own account."), "is_active")
    before = {k: getattr(user, k) for k in changes}
    if "org_id" in changes and changes["org_id"] != user.org_id:
        user.org = _org_for_user(ctx, changes["org_id"])
    for key, value in changes.items():
        if key != "org_id":
            setattr(user, key, value)
    if changes.get("is_active") is False and before.get("is_active"):
        user.session_version += 1
    changed = {k: v for k, v in changes.items() if before.get(k) != v}
    if changed:
        audit.record(ctx, "user.update", ("user", user.id), user.org,
                     f"Changed user {user.username}", username=user.username,
                     before={k: before[k] for k in changed}, after=changed)
    return user


def set_password(ctx: Ctx, user_id: int, password: str) -> User:
    """Set another user's password (an admin reset); ends their open sessions."""
    user = get_user(ctx, user_id)
    _store_password(user, password)
    audit.record(ctx, "user.password_reset", ("user", user.id), user.org,
                 f"Reset the password of {user.username}", username=user.username)
    return user


def change_own_password(ctx: Ctx, user: User, data: PasswordChange) -> None:
    """Change the signed-in user's own password after checking the current one."""
    if not verify_password(user.password_hash, data.current_password):
        raise Invalid(_("The current password is wrong."), "current_password")
    if data.new_password == data.current_password:
        raise Invalid(_("The new password must differ from the current one."), "new_password")
    _store_password(user, data.new_password)
    audit.record(ctx, "user.password_change", ("user", user.id), user.org,
                 f"{user.username} changed their password", username=user.username)


def _store_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_version += 1


def add_grant(ctx: Ctx, user_id: int, data: GrantCreate) -> RoleGrant:
    """Give a user a role on a node; both must lie in the principal's admin scope."""
    user = get_user(ctx, user_id)
    org = _org_for_user(ctx, data.org_id)
    existing = ctx.session.scalar(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.org_id == org.id, RoleGrant.role == data.role))
    if existing is not None:
        raise Invalid(_("This person already has this role here."), "role")
    grant = RoleGrant(user_id=user.id, org_id=org.id, role=data.role,
                      granted_by_id=ctx.actor_id)
    ctx.session.add(grant)
    ctx.session.flush()
    audit.record(ctx, "grant.create", ("grant", grant.id), org,
                 f"Granted {data.role} on {org.name} to {user.username}",
                 user=user.username, role=data.role, org_name=org.name)
    return grant


def remove_grant(ctx: Ctx, user_id: int, grant_id: int) -> None:
    """Take a role back; an admin cannot remove their own admin role."""
    user = get_user(ctx, user_id)
    grant = ctx.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound(_("No such role grant."))
    if not _manageable(ctx, grant.org):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    if grant.role == "admin" and ctx.actor_id == user.id:
        raise Invalid(_("You cannot remove your own admin role; ask another admin."))
    audit.record(ctx, "grant.delete", ("grant", grant.id), grant.org,
                 f"Removed {grant.role} on {grant.org.name} from {user.username}",
                 user=user.username, role=grant.role, org_name=grant.org.name)
    ctx.session.delete(grant)
