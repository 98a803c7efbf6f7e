"""`vitrina content …`: content from the command line (drop folders)."""

from __future__ import annotations

import logging

import click

from server.cli import State, instance_option, main, pass_state
from server.dropfolder import drop_folder, prepare_folders
from server.dropfolder import watch as watch_folder


@main.group("content")
def content_group() -> None:
    """Content for the screens."""


@content_group.command("watch")
@instance_option
@click.option("--once", is_flag=True, help="Import what has settled in the folders and stop.")
@click.option("--settle", type=float, default=2.0, show_default=True,
              help="Seconds a file must stay unchanged before it is imported.")
@pass_state
def watch(state: State, once: bool, settle: float) -> None:
    """Watch the drop folders: files become draft media slides of their organisation."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = state.get_app()
    folders = prepare_folders(app)
    folder = drop_folder(app, settle=settle)
    click.echo(f"Drop folders under {folder.root} ({len(folders)} organisations).")
    watch_folder(folder, once, settle, click.echo)
