"""`vitrina demo`: an instance with realistic demo data, served at once."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from server import config
from server.cli import State, fail, instance_option, main, pass_state
from server.commands.serve_cmd import run_gunicorn
from server.extensions import db
from server.migrate import upgrade
from server.models.orgs import Organisation

DEMO_MARKER = "DEMO"


def start_helper(instance: Path, *command: str, env: dict[str, str] | None = None) -> None:
    """Run `vitrina COMMAND…` on the demo instance in a process of its own (a drop folder
    watcher, the background jobs), ended with the demo."""
    watcher = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", "from server.cli import main; main()", "--instance",
         str(instance), *command],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})

    def stop() -> None:
        if watcher.poll() is None:
            watcher.terminate()
            try:
                watcher.wait(5)
            except subprocess.TimeoutExpired:
                watcher.kill()

    atexit.register(stop)


@main.command("demo")
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Throw the demo instance away and start afresh.")
@click.option("--no-serve", is_flag=True, help="Only create the demo data, do not serve it.")
@pass_state
def demo(state: State, host: str, port: int, reset: bool, no_serve: bool) -> None:
    """Create an instance with demo data and serve it on http://HOST:PORT/."""
    from server import metrics
    from server.demo import seed_demo

    if not no_serve:
        metrics.prepare_multiprocess()   # before seeding can import prometheus_client
    path = state.instance_path
    marker = path / DEMO_MARKER
    # QR codes of polls must lead phones to where this demo really listens.
    os.environ.setdefault("VITRINA_PUBLIC_BASE_URL", f"http://{host}:{port}")
    if reset and path.exists():
        if not marker.exists() and any(path.iterdir()):
            fail(f"{path} is not a demo instance; refusing to delete it.")
        shutil.rmtree(path)
    config.ensure_instance(path)
    app = state.get_app()
    with app.app_context():
        upgrade(db.engine)
        has_orgs = db.session.scalar(select(func.count()).select_from(Organisation))
        if has_orgs and not marker.exists():
            fail(f"{path} already holds data that is not a demo; use another --instance.")
        if not has_orgs:
            logins = seed_demo(db.session)
            marker.write_text("This instance was created by `vitrina demo`.\n")
        else:
            from server.demo import DEMO_PASSWORD, DemoLogin

            logins = [DemoLogin(u, DEMO_PASSWORD, "", "") for u in
                      ("admin", "content", "dispatcher", "cards", "viewer")]
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"Vitrina demo — instance {path}")
    click.echo(f"Open {url} and sign in as one of:")
    for login in logins:
        role = f"  ({login.role} of {login.org_name})" if login.role else ""
        click.echo(f"  user {login.username:<11} password {login.password}{role}")
    click.echo(f"Drop pictures into {app.config['DROP_DIR']}/<organisation>/ to make slides.")
    click.echo(f"Drop register exports and card lists into {app.config['SYNC_DROP_DIR']}"
               "/<school>/ for a dry run;")
    click.echo(f"  sample files are in {path / 'demo-sync'}/.")
    click.echo("Stop with Ctrl+C. Start afresh with: vitrina demo --reset")
    click.echo("", nl=True)
    if no_serve:
        return
    start_helper(path, "content", "watch")
    start_helper(path, "sync", "watch")
    # The watchers take dropped files within seconds; the jobs do the rest.
    start_helper(path, "jobs", "run",
                 env={"VITRINA_JOBS_DISABLED": '["content.drop", "sync.drop"]'})
    run_gunicorn(str(path), {"bind": f"{host}:{port}", "workers": 2, "threads": 8})
