"""Russian and English: every string translated; the locale from choice, browser, organisation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AuthActions, World

ROOT = Path(__file__).resolve().parents[2]


def test_every_interface_string_has_a_russian_translation() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compiled_catalog_is_up_to_date() -> None:
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    def plain(value: object) -> object:
        """Plural ids and strings come as lists from one reader and tuples from the other."""
        return tuple(value) if isinstance(value, list | tuple) else value

    folder = ROOT / "server" / "translations" / "ru" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as fh:
        po = {plain(m.id): plain(m.string) for m in read_po(fh) if m.id}
    with (folder / "messages.mo").open("rb") as fh:
        mo = {plain(m.id): plain(m.string) for m in read_mo(fh) if m.id}
    assert po == mo, "run: .venv/bin/python scripts/i18n.py"


def test_browser_language_decides_for_anonymous(client: FlaskClient) -> None:
    ru = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Войти" in ru.get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert "Sign in" in en.get_data(as_text=True)


def test_organisation_language_when_browser_says_nothing(app: Flask, world: World) -> None:
    client = app.test_client()
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    AuthActions(client).login("viewer")
    page = client.get("/", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert "Обзор" in page  # School A is a Russian-speaking organisation


def test_choice_overrides_browser_and_is_kept_on_the_account(app: Flask, world: World) -> None:
    client = app.test_client()
    AuthActions(client).login("viewer")
    assert "Overview" in client.get("/").get_data(as_text=True)
    r = client.post("/lang", data={"lang": "ru", "next": "/orgs/"})
    assert r.headers["Location"] == "/orgs/"
    assert "Организации" in client.get("/orgs/").get_data(as_text=True)
    # A new session on another browser (asking for English) still gets Russian.
    other = app.test_client()
    AuthActions(other).login("viewer")
    assert "Обзор" in other.get("/").get_data(as_text=True)


def test_validation_messages_are_translated(client: FlaskClient, world: World) -> None:
    from tests.conftest import bearer

    h = {**bearer(world.tokens["admin"]), "Accept-Language": "ru"}
    r = client.post("/api/v1/orgs", headers=h, json={"parent_id": world.ids["a"],
                                                     "kind": "building", "name": "",
                                                     "timezone": "Nowhere/City"})
    reasons = {f["field"]: f["reason"] for f in r.get_json()["fields"]}
    assert reasons == {"name": "Это поле обязательно.",
                       "timezone": "Неизвестный часовой пояс; укажите имя вроде Europe/Moscow."}
