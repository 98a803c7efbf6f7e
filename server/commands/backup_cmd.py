"""`vitrina backup` and `vitrina restore`: a consistent snapshot of an instance (database
rows and both file stores, checksummed), and putting one back into an empty instance."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli import State, fail, instance_option, main, pass_state


@main.command("backup")
@instance_option
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the backup (default: BACKUP_DIR, else <instance>/backups).")
@click.option("--prune", is_flag=True,
              help="Then remove the folder's backups the retention does not keep "
                   "(BACKUP_KEEP_DAILY, _WEEKLY, _QUARTERLY).")
@pass_state
def backup(state: State, to: Path | None, prune: bool) -> None:
    """Back up the database and the media and photo stores, while the server runs (run it
    daily, e.g. from a systemd timer, with --prune). The backup's path is the last line
    printed."""
    from server.backup import BackupError, back_up

    app = state.get_app()
    if to is None and app.config["BACKUP_DIR"]:
        to = Path(app.config["BACKUP_DIR"])
    try:
        path, removed = back_up(app, to, prune)
    except (BackupError, OSError) as exc:
        fail(str(exc))
        return
    size = path.stat().st_size
    for old in removed:
        click.echo(f"Removed {old.name} (retention).", err=True)
    click.echo(f"Backup written ({size / 2**20:.1f} MB):", err=True)
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
