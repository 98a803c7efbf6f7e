"""`vitrina orgs …`: the organisation tree from the command line."""

from __future__ import annotations

import click

from server.cli import State, instance_option, main, pass_state, run_in_app
from server.extensions import db
from server.services import orgs
from server.services.context import system_ctx


@main.group("orgs")
def orgs_group() -> None:
    """The organisation tree."""


@orgs_group.command("list")
@instance_option
@pass_state
def list_orgs(state: State) -> None:
    """Print the tree: id, kind, name and time zone, indented by depth."""

    def run() -> None:
        for row in orgs.as_tree(orgs.visible_orgs(system_ctx(db.session))):
            o = row.org
            click.echo(f"{o.id:>5}  {'  ' * row.depth}{o.name}  [{o.kind}, {o.timezone}]")

    run_in_app(state, run)
