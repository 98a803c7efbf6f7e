"""`vitrina sync …` and `vitrina pupils purge`: reconcile a school's register with its card
list from the terminal, and remove personal data past its retention.

    vitrina sync plan  --register FILE|--register-url URL --cards FILE|--cards-url URL
                       [--school NODE] [--format text|json]
    vitrina sync apply --register FILE --cards FILE [--school NODE] [--confirm-missing]
                       [--export-dir DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from server.cli import State, fail, instance_option, main, pass_state, run_in_app
from server.commands.users_cmd import find_org
from server.extensions import db
from server.models.orgs import Organisation
from server.services import pupil_sync
from server.services.context import system_ctx

KIND_TITLES = {
    "conflict": "Conflicts for a person", "duplicate_pupil": "Possible duplicate pupils",
    "duplicate_cards": "Pupils with several active cards",
    "propose_match": "Proposed matches (a person confirms)", "issue_card": "Cards to issue",
    "unblock_card": "Cards to unblock", "block_card": "Cards to block",
    "update_card": "Card data to correct", "photo_missing": "Photos missing",
    "photo_outdated": "Photos outdated", "pupil_new": "New pupils",
    "pupil_update": "Pupil data changed", "pupil_left": "Pupils who left",
    "pupil_back": "Pupils back",
}


def _school(ref: str | None) -> Organisation:
    org = find_org(ref)
    if org is None and ref is None:
        from sqlalchemy import select

        schools = list(db.session.scalars(select(Organisation).where(
            Organisation.kind == "school")))
        if len(schools) == 1:
            return schools[0]
        fail("Several schools: say which with --school (its id or exact name).")
    if org is None or org.kind != "school":
        fail(f"No school {ref!r}.")
    assert org is not None
    return org


def _files(register: Path | None, cards: Path | None, register_url: str | None,
           cards_url: str | None) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    """Each input from its file or its REST source (auth from VITRINA_SYNC_AUTH_HEADER)."""
    import os

    from sync.rest import SourceError, fetch_all

    auth = os.environ.get("VITRINA_SYNC_AUTH_HEADER", "")
    out = []
    for role, path, url in (("register", register, register_url),
                            ("cards", cards, cards_url)):
        if (path is None) == (url is None):
            fail(f"Give the {role} as a file (--{role}) or a REST source (--{role}-url), "
                 "one of the two.")
        if path is not None:
            out.append((path.name, path.read_bytes()))
        else:
            assert url is not None
            try:
                out.append((f"{role}.json", fetch_all(url, auth)))
            except SourceError as exc:
                fail(f"{role}: {exc}")
    return out[0], out[1]


class _Bar:
    """A progress bar on a terminal (quiet when the output is a file or a pipe)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.step = ""
        self.enabled = sys.stderr.isatty()

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if step != self.step:
            if self.bar is not None:
                self.bar.close()
            self.step = step
            self.bar = tqdm(total=total, desc=step, unit="row", leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _print_plan(run: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"run": run.id, "status": run.status, "counts": run.counts,
                               "actions": run.plan, "report": run.report},
                              ensure_ascii=False, indent=1))
        return
    if not run.plan:
        click.echo("Nothing to do: the card system matches the register.")
    for kind, title in KIND_TITLES.items():
        rows = [a for a in run.plan if a["kind"] == kind]
        if not rows:
            continue
        click.echo(f"{title}: {len(rows)}")
        for a in rows[:20]:
            who = " ".join(x for x in (a["pupil_id"] or "", a["card_number"] or "") if x)
            changes = "; ".join(f"{f}: {o} → {n}" for f, o, n in a["changes"])
            click.echo(f"  {who:<24} {a['reason']}" + (f" ({changes})" if changes else ""))
        if len(rows) > 20:
            click.echo(f"  … and {len(rows) - 20} more")


@main.group("sync")
def sync_group() -> None:
    """Pupil-card sync: the register against the card system."""


def _common(fn: Any) -> Any:
    for option in reversed([
            instance_option,
            click.option("--register", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
                         help="The school register's export (CSV, XLSX or a OneRoster ZIP)."),
            click.option("--cards", type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path),
                         help="The card system's card list (CSV or XLSX)."),
            click.option("--register-url", help="The register from a REST source (JSON "
                         "pages); the auth header comes from VITRINA_SYNC_AUTH_HEADER."),
            click.option("--cards-url", help="The card list from a REST source."),
            click.option("--school", "school_ref", help="The school's id or exact name."),
            click.option("--confirm-missing", is_flag=True,
                         help="Confirm that many known pupils are missing from the register "
                              "on purpose (they have left).")]):
        fn = option(fn)
    return fn


@sync_group.command("plan")
@_common
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_state
def plan(state: State, register: Path | None, cards: Path | None, register_url: str | None,
         cards_url: str | None, school_ref: str | None, confirm_missing: bool,
         fmt: str) -> None:
    """Show what a sync would do (a dry run; nothing changes but the run's record)."""

    def run() -> None:
        school = _school(school_ref)
        bar = _Bar()
        try:
            found = pupil_sync.plan_run(
                system_ctx(db.session, "cli"), school.id,
                *_files(register, cards, register_url, cards_url), confirm_missing, bar)
        finally:
            bar.close()
        db.session.commit()
        _print_plan(found, fmt)
        if fmt == "text":
            click.echo(f"Run {found.id} planned; apply it with `vitrina sync apply`.")

    run_in_app(state, run)


@sync_group.command("apply")
@_common
@click.option("--export-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write changes.csv and photos.zip for the card system here.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_state
def apply(state: State, register: Path | None, cards: Path | None, register_url: str | None,
          cards_url: str | None, school_ref: str | None, confirm_missing: bool,
          export_dir: Path | None, fmt: str) -> None:
    """Plan and apply in one transaction (the same files again change nothing)."""

    def run() -> None:
        school = _school(school_ref)
        ctx = system_ctx(db.session, "cli")
        bar = _Bar()
        try:
            planned = pupil_sync.plan_run(
                ctx, school.id, *_files(register, cards, register_url, cards_url),
                confirm_missing, bar)
            db.session.flush()
            click.echo(f"Applying run {planned.id} …", err=True)
            sys.stderr.flush()
            done = pupil_sync.apply_run(ctx, planned.id, bar)
        finally:
            bar.close()
        db.session.commit()
        pushed = None
        if pupil_sync.push_target(db.session, school.id)[0]:
            pushed = pupil_sync.push_run(ctx, done)
            db.session.commit()
        if export_dir is not None:
            export = pupil_sync.export_of(ctx, done)
            export_dir.mkdir(parents=True, exist_ok=True)
            (export_dir / "changes.csv").write_bytes(export.changes_csv)
            (export_dir / "photos.zip").write_bytes(export.photos_zip)
        if fmt == "json":
            _print_plan(done, fmt)
            return
        report = done.report
        click.echo(f"Run {done.id} applied: {report['pupils_added']} pupils added, "
                   f"{report['pupils_changed']} changed; {report['card_changes_sent']} card "
                   f"changes sent, {report['card_changes_done']} confirmed done; "
                   f"{len(report['left_for_a_person'])} left for a person.")
        if export_dir is not None:
            click.echo(f"Export: {export_dir / 'changes.csv'}, {export_dir / 'photos.zip'}")
        if pushed is not None:
            click.echo(f"Sent to the card system at {pushed['url']}." if pushed["ok"] else
                       f"Not sent to the card system: {pushed['error']}")

    run_in_app(state, run)


@sync_group.command("watch")
@instance_option
@click.option("--once", is_flag=True, help="Take what has settled in the folders and stop.")
@click.option("--settle", type=float, default=2.0, show_default=True,
              help="Seconds a file must stay unchanged before it is taken.")
@pass_state
def watch(state: State, once: bool, settle: float) -> None:
    """Watch the schools' sync drop folders: a new register or card list starts a dry run."""
    import logging

    from server.dropfolder import watch as watch_folder
    from server.sync_drop import prepare_folders, sync_drop_folder

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = state.get_app()
    folders = prepare_folders(app)
    folder = sync_drop_folder(app, settle=settle)
    click.echo(f"Sync drop folders under {folder.root} ({len(folders)} schools).")
    watch_folder(folder, once, settle, click.echo)


@main.group("pupils")
def pupils_group() -> None:
    """Pupils' personal data."""


@pupils_group.command("purge")
@instance_option
@pass_state
def purge(state: State) -> None:
    """Remove pupils past their retention, and old sync files (run it daily, e.g. from a
    systemd timer)."""

    def run() -> None:
        totals = pupil_sync.purge_expired(system_ctx(db.session, "retention"))
        db.session.commit()
        click.echo(f"Removed {totals['pupils']} pupils past retention (with "
                   f"{totals['cards']} cards, {totals['actions']} card actions, "
                   f"{totals['decisions']} decisions) and {totals['run_files']} old sync "
                   "files.")

    run_in_app(state, run)
