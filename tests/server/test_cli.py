"""The `vitrina` command line: first admin, tree listing, demo data."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from server.app import create_app
from server.cli import main


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.output


def test_first_admin_on_an_empty_instance(tmp_path: Path) -> None:
    inst = str(tmp_path)
    assert _run("--instance", inst, "db", "upgrade")[0] == 0
    code, out = _run("users", "create-admin", "--instance", inst, "--username", "director",
                     "--password", "short")
    assert code == 1 and "--root-name" in out
    code, out = _run("users", "create-admin", "--instance", inst, "--username", "director",
                     "--password", "short", "--root-name", "Школа № 5", "--root-kind", "school")
    assert code == 1 and "password" in out  # too short; nothing created
    code, out = _run("users", "create-admin", "--instance", inst, "--username", "Director",
                     "--root-name", "Школа № 5", "--root-kind", "school",
                     input="long-enough-1\nlong-enough-1\n")
    assert code == 0, out
    assert "Created admin director of school 'Школа № 5'" in out
    code, out = _run("--instance", inst, "orgs", "list")
    assert re.search(r"1\s+Школа № 5\s+\[school, Europe/Moscow\]", out)
    app = create_app(instance_path=inst)
    r = app.test_client().post("/login", data={"username": "director",
                                               "password": "long-enough-1"})
    assert r.status_code == 400  # CSRF is on outside tests...
    app.config["WTF_CSRF_ENABLED"] = False
    r = app.test_client().post("/login", data={"username": "director",
                                               "password": "long-enough-1"})
    assert r.status_code == 302


def test_second_admin_for_a_named_node(tmp_path: Path) -> None:
    inst = str(tmp_path)
    _run("--instance", inst, "demo", "--no-serve")
    code, out = _run("--instance", inst, "users", "create-admin", "--username", "deputy",
                     "--password", "long-enough-1", "--org", "Школа № 41")
    assert code == 0 and "school 'Школа № 41'" in out
    code, out = _run("--instance", inst, "users", "create-admin", "--username", "deputy2",
                     "--password", "long-enough-1", "--org", "No Such School")
    assert code == 1 and "No organisation 'No Such School'" in out


def test_db_current(tmp_path: Path) -> None:
    inst = str(tmp_path)
    code, out = _run("--instance", inst, "db", "current")
    assert "database: empty" in out and "out of date" in out
    _run("--instance", inst, "db", "upgrade")
    code, out = _run("--instance", inst, "db", "current")
    assert "up to date" in out


def test_demo_prints_logins_that_work(tmp_path: Path) -> None:
    inst = str(tmp_path / "demo")
    code, out = _run("--instance", inst, "demo", "--no-serve")
    assert code == 0, out
    assert "Open http://127.0.0.1:8000/" in out
    logins = re.findall(r"user (\S+)\s+password (\S+)", out)
    assert {u for u, _ in logins} == {"admin", "content", "dispatcher", "cards", "viewer"}
    app = create_app(test_config={"WTF_CSRF_ENABLED": False}, instance_path=inst)
    for username, password in logins:
        client = app.test_client()
        r = client.post("/login", data={"username": username, "password": password})
        assert r.status_code == 302, username
        assert client.get("/").status_code == 200
    # Running it again keeps the data and still prints the logins.
    code, out = _run("--instance", inst, "demo", "--no-serve")
    assert code == 0 and "user admin" in out


def test_demo_refuses_a_real_instance(tmp_path: Path) -> None:
    inst = str(tmp_path)
    _run("--instance", inst, "db", "upgrade")
    _run("--instance", inst, "users", "create-admin", "--username", "boss", "--password",
         "long-enough-1", "--root-name", "Real school", "--root-kind", "school")
    code, out = _run("--instance", inst, "demo", "--no-serve")
    assert code == 1 and "not a demo" in out
    code, out = _run("--instance", inst, "demo", "--no-serve", "--reset")
    assert code == 1 and "refusing to delete" in out
