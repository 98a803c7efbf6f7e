"""`vitrina users …`: accounts from the command line (the first admin comes from here)."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from server.cli import State, fail, instance_option, main, pass_state, run_in_app
from server.extensions import db
from server.models.orgs import ORG_KINDS, Organisation
from server.schemas import GrantCreate, UserCreate
from server.services import orgs, users
from server.services.context import system_ctx


@main.group("users")
def users_group() -> None:
    """People and roles."""


def find_org(ref: str | None) -> Organisation | None:
    """A node by id or exact name; the root of the tree when ref is None."""
    s = db.session
    if ref is None:
        return s.scalars(select(Organisation).where(Organisation.parent_id.is_(None))
                         .order_by(Organisation.id)).first()
    if ref.isdigit():
        return s.get(Organisation, int(ref))
    found = list(s.scalars(select(Organisation).where(Organisation.name == ref)))
    if len(found) > 1:
        fail(f"Several organisations are named {ref!r}; give the id instead.")
    return found[0] if found else None


@users_group.command("create-admin")
@instance_option
@click.option("--username", required=True, help="The user name to sign in with.")
@click.option("--name", "display_name", help="Full name (default: the user name).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="VITRINA_ADMIN_PASSWORD", help="At least 10 characters.")
@click.option("--org", "org_ref", help="Node id or exact name (default: the tree's root).")
@click.option("--root-name", help="If the tree is empty: name of its root node to create.")
@click.option("--root-kind", type=click.Choice(ORG_KINDS), default="region", show_default=True)
@click.option("--timezone", default="Europe/Moscow", show_default=True)
@click.option("--locale", type=click.Choice(["ru", "en"]), default="ru", show_default=True)
@pass_state
def create_admin(state: State, username: str, display_name: str | None, password: str,
                 org_ref: str | None, root_name: str | None, root_kind: str, timezone: str,
                 locale: str) -> None:
    """Create an administrator of a node (and the tree's root if there is none yet)."""

    def run() -> None:
        ctx = system_ctx(db.session, "cli")
        empty = not db.session.scalar(select(func.count()).select_from(Organisation))
        if empty:
            if not root_name:
                fail("The organisation tree is empty: give --root-name (and --root-kind).")
            org = orgs.create_root(ctx, root_kind, root_name, timezone, locale)
        else:
            org = find_org(org_ref)
            if org is None:
                fail(f"No organisation {org_ref!r}.")
        assert org is not None
        user = users.create_user(ctx, UserCreate(
            username=username, display_name=display_name or username, password=password,
            org_id=org.id))
        users.add_grant(ctx, user.id, GrantCreate(org_id=org.id, role="admin"))
        db.session.commit()
        click.echo(f"Created admin {user.username} of {org.kind} {org.name!r}.")

    run_in_app(state, run)
