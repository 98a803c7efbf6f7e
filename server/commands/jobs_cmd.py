"""`vitrina jobs`: background jobs (expiry checks, drop folders, retention, backups), run
once across the cluster however many nodes run them."""

from __future__ import annotations

import logging
import signal
import threading

import click

from server.cli import State, fail, instance_option, main, pass_state
from server.commands.serve_cmd import check_schema


@main.group("jobs")
def jobs_group() -> None:
    """Background jobs."""


def _names(given: tuple[str, ...]) -> list[str]:
    from server.jobs import BY_NAME

    unknown = [n for n in given if n not in BY_NAME]
    if unknown:
        fail(f"No such job: {', '.join(unknown)}. Jobs: {', '.join(BY_NAME)}.")
    return list(given)


@jobs_group.command("run")
@instance_option
@click.option("--once", is_flag=True, help="Run what is due now, then stop.")
@click.option("--job", "names", multiple=True, metavar="NAME",
              help="Only this job (may be given more than once).")
@click.option("--force", is_flag=True, help="Run the named jobs even if they are not due.")
@click.option("--tick", type=float, default=15.0, show_default=True,
              help="Seconds between looks at what is due.")
@pass_state
def run(state: State, once: bool, names: tuple[str, ...], force: bool, tick: float) -> None:
    """Run background jobs as they fall due, until stopped. Run it on every node: each job
    runs on one of them at a time."""
    from server import jobs

    chosen = _names(names)
    if force and not chosen:
        fail("--force needs --job NAME.")
    check_schema(state)
    app = state.get_app()
    logging.basicConfig(level=logging.WARNING if once else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    if once:
        outcomes = jobs.run_due(app, chosen or None, force=force)
        for o in outcomes:
            click.echo(f"{o.job}: {'ok' if o.ok else 'FAILED'} in {o.seconds:.1f} s — "
                       f"{o.message}")
        if not outcomes:
            click.echo("Nothing was due (or another node is running it).")
        if any(not o.ok for o in outcomes):
            raise SystemExit(1)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Running background jobs as {jobs.node_name()}; stop with Ctrl+C.")
    jobs.run_forever(app, stop, tick)


@jobs_group.command("list")
@instance_option
@pass_state
def list_jobs(state: State) -> None:
    """Every job: how often, when it last ran, how it went, when it is next due."""
    from server import jobs

    check_schema(state)
    app = state.get_app()

    def when(t: object) -> str:
        return t.strftime("%Y-%m-%d %H:%M") if t is not None else "—"  # type: ignore[attr-defined]

    with app.app_context():
        found = jobs.states(app)
    for job, st, every in found:
        often = jobs.describe_every(every)
        if st is None or st.last_started_at is None:
            click.echo(f"{job.name:<16} {often:<20} never ran")
            continue
        running = f" RUNNING on {st.holder}" if st.holder else ""
        click.echo(f"{job.name:<16} {often:<20} last {when(st.last_started_at)} "
                   f"{st.last_status or '…'} ({st.runs} runs, {st.failures} failed), "
                   f"next {when(st.next_due_at)}{running}: {st.last_message}")
