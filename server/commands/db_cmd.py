"""`vitrina db …`: schema migrations."""

from __future__ import annotations

import click

from server import migrate
from server.cli import State, instance_option, main, pass_state
from server.extensions import db


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@instance_option
@click.option("--revision", default="head", show_default=True)
@pass_state
def upgrade(state: State, revision: str) -> None:
    """Bring the database schema up to date (creates the database on first run)."""
    app = state.get_app()
    with app.app_context():
        before = migrate.schema_status(db.engine)
        migrate.upgrade(db.engine, revision)
        after = migrate.schema_status(db.engine)
    if before.database == after.database:
        click.echo(f"Database schema already at {after.database}.")
    else:
        click.echo(f"Database schema upgraded from {before.database or 'empty'} "
                   f"to {after.database}.")


@db_group.command("downgrade")
@instance_option
@click.argument("revision")
@pass_state
def downgrade(state: State, revision: str) -> None:
    """Take the schema back to REVISION (for rolling back a release)."""
    app = state.get_app()
    with app.app_context():
        migrate.downgrade(db.engine, revision)
        click.echo(f"Database schema at {migrate.schema_status(db.engine).database}.")


@db_group.command("current")
@instance_option
@pass_state
def current(state: State) -> None:
    """Show the schema revision of the database and of the code."""
    app = state.get_app()
    with app.app_context():
        status = migrate.schema_status(db.engine)
    click.echo(f"database: {status.database or 'empty'}")
    click.echo(f"code:     {status.code}")
    click.echo("up to date" if status.current else "out of date: run 'vitrina db upgrade'")
