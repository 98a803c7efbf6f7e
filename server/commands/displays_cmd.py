"""`vitrina displays …`: provision, list and revoke displays from scripts."""

from __future__ import annotations

import click
from sqlalchemy import select

from server.cli import State, fail, instance_option, main, pass_state, run_in_app
from server.commands.users_cmd import find_org
from server.extensions import db
from server.models.base import utcnow
from server.models.displays import Display
from server.services import displays
from server.services.context import system_ctx


@main.group("displays")
def displays_group() -> None:
    """Screens: kiosks and Smart TVs."""


@displays_group.command("add")
@instance_option
@click.argument("name")
@click.option("--org", "org_ref", help="Node id or exact name (default: the tree's root).")
@click.option("--group", "groups", multiple=True, help="A screen group, e.g. lobby (repeatable).")
@click.option("--timetable", "timetable_target", default="",
              help='What its timetable widgets show, e.g. "room:204" or "class:7Б".')
@click.option("--print-token", is_flag=True, help="Print the device token as the last line.")
@pass_state
def add(state: State, name: str, org_ref: str | None, groups: tuple[str, ...],
        timetable_target: str, print_token: bool) -> None:
    """Add an active display and make its device token (shown only now)."""

    def run() -> None:
        org = find_org(org_ref)
        if org is None:
            fail(f"No organisation {org_ref!r}." if org_ref else "The organisation tree is "
                 "empty: create it first (vitrina users create-admin).")
        assert org is not None
        cleaned = sorted({g.strip().lower() for g in groups if g.strip()})
        display, token = displays.create_with_token(system_ctx(db.session, "cli"), {
            "org_id": org.id, "name": name.strip()[:100], "groups": cleaned,
            "timetable_target": timetable_target})
        db.session.commit()
        click.echo(f"Added display {display.name!r} (id {display.id}) in {org.name!r}.")
        if print_token:
            click.echo("Its device token (kept nowhere else; keep it safe):")
            click.echo(token)

    run_in_app(state, run)


def health(display: Display) -> str:
    """online, stale, offline or never (by the age of its last heartbeat)."""
    if display.status != "active":
        return display.status
    return displays.health_of(display.last_seen_at, utcnow())


@displays_group.command("list")
@instance_option
@pass_state
def list_(state: State) -> None:
    """Print every display with its place, status and last heartbeat."""

    def run() -> None:
        rows = list(db.session.scalars(select(Display).order_by(Display.name, Display.id)))
        if not rows:
            click.echo("No displays yet.")
        for d in rows:
            seen = d.last_seen_at.strftime("%Y-%m-%d %H:%M") if d.last_seen_at else "never"
            click.echo(f"{d.id:>5}  {d.name:<30} {d.org.name:<30} {health(d):<8} "
                       f"seen {seen}  groups {','.join(d.groups or []) or '-'}")

    run_in_app(state, run)


@displays_group.command("revoke")
@instance_option
@click.argument("name")
@pass_state
def revoke(state: State, name: str) -> None:
    """Revoke a display's token (by name or id); it falls back to its pairing screen."""

    def run() -> None:
        found = list(db.session.scalars(select(Display).where(
            (Display.name == name) | (Display.id == (int(name) if name.isdigit() else -1)))))
        active = [d for d in found if d.status != "revoked"]
        if not found:
            fail(f"No display {name!r}.")
        if len(active) > 1:
            fail(f"Several displays are named {name!r}; give the id instead.")
        if not active:
            click.echo(f"Display {name!r} is revoked already.")
            return
        displays.revoke(system_ctx(db.session, "cli"), active[0])
        db.session.commit()
        click.echo(f"Revoked display {active[0].name!r} (id {active[0].id}).")

    run_in_app(state, run)


@displays_group.command("check")
@instance_option
@pass_state
def check(state: State) -> None:
    """Note displays that went dark (run it every few minutes, e.g. from a systemd timer)."""

    def run() -> None:
        went = displays.mark_dark(db.session, utcnow())
        db.session.commit()
        for d in went:
            heard = d.last_seen_at.strftime("%Y-%m-%d %H:%M") if d.last_seen_at else "never"
            click.echo(f"Went dark: {d.name!r} (id {d.id}), last heard {heard}")
        if not went:
            click.echo("No display went dark since the last check.")

    run_in_app(state, run)
