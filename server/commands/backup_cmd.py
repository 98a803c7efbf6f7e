"""`vitrina backup` and `vitrina restore`: a consistent snapshot of an instance (database
rows and both file stores, checksummed), and putting one back into an empty instance."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli import State, fail, instance_option, main, pass_state


@main.command("backup")
@instance_option
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the backup (default: <instance>/backups).")
@pass_state
def backup(state: State, to: Path | None) -> None:
    """Back up the database and the media and photo stores, while the server runs. The
    backup's path is the last line printed."""
    from server.backup import BackupError, make_backup

    try:
        path = make_backup(state.get_app(), to)
    except (BackupError, OSError) as exc:
        fail(str(exc))
        return
    click.echo(f"Backup written ({path.stat().st_size / 2**20:.1f} MB):", err=True)
    click.echo(str(path))


@main.command("restore")
@instance_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def restore(state: State, file: Path) -> None:
    """Restore FILE into this (empty) instance, after checking every byte of it."""
    from server.backup import BackupError
    from server.backup import restore as do_restore

    try:
        done = do_restore(state.get_app(), file)
    except BackupError as exc:
        fail(str(exc))
        return
    click.echo(f"Restored {done.rows} rows and {done.files} files (schema {done.schema}, "
               "upgraded to this version's).")
