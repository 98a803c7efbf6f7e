"""The kiosk agent stands alone: it runs without the server's libraries, and ships what a
kiosk needs to start it (systemd units, the Chromium launcher, an example settings file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_client.config import ConfigError, load_config
from tests.helpers import ROOT

#: Imported by the server, never by the agent.
SERVER_ONLY = ("flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy", "alembic",
               "gunicorn", "PIL", "watchdog", "pydantic", "server", "sync")

BLOCKER = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ImportError("the kiosk must not need " + name)
sys.meta_path.insert(0, Block())
from kiosk_client import agent, cache, local, state
from kiosk_client.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_agent_runs_without_the_server_s_libraries() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCKER, "--version"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0.1.0"


def test_it_ships_its_units_and_launcher(capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk_client.cli import main

    assert main(["files"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    agent_unit = (folder / "vitrina-kiosk.service").read_text()
    assert "ExecStart=/opt/vitrina-kiosk/bin/vitrina-kiosk run" in agent_unit
    assert "Restart=always" in agent_unit and "User=vitrina-kiosk" in agent_unit
    browser_unit = (folder / "vitrina-kiosk-browser.service").read_text()
    assert "ExecStart=/opt/vitrina-kiosk/share/kiosk-browser.sh" in browser_unit
    launcher = folder / "kiosk-browser.sh"
    assert subprocess.run(["sh", "-n", str(launcher)]).returncode == 0
    assert "--kiosk" in launcher.read_text() and "127.0.0.1:${PORT}/player/" in \
        launcher.read_text()
    # The example settings file is a valid configuration as it stands.
    config = load_config(folder / "vitrina-kiosk.toml.example", environ={})
    assert (config.server, config.port, config.wait) == ("https://vitrina.example.org", 8765, 25)


@pytest.mark.parametrize(("text", "message"), [
    ('server = "https://v.example"\nport = 99999\n', "port: must be between 1 and 65535"),
    ('server = "https://v.example"\ncolour = "red"\n', "unknown setting 'colour'"),
    ('server = "https://v.example"\nwait = "soon"\n', "wait: must be a number"),
    ('port = 8000\n', "server: not set"),
    ('server = [broken\n', "not valid TOML"),
])
def test_a_wrong_setting_names_its_file_and_key(tmp_path: Path, text: str,
                                                message: str) -> None:
    file = tmp_path / "kiosk.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(file, environ={})
    assert message in str(caught.value) and (str(file) in str(caught.value)
                                             or "server: not set" in message)


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "kiosk.toml"
    file.write_text('server = "https://a.example/"\nport = 8000\n')
    config = load_config(file, environ={"VITRINA_KIOSK_PORT": "9000",
                                        "VITRINA_KIOSK_STATE_DIR": str(tmp_path / "s")})
    assert (config.server, config.port, config.state_dir) == ("https://a.example", 9000,
                                                              tmp_path / "s")
    with pytest.raises(ConfigError, match="VITRINA_KIOSK_WAIT: wait: must be between"):
        load_config(file, environ={"VITRINA_KIOSK_WAIT": "120"})
