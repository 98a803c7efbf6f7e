"""The player stays small and speaks JavaScript that old Smart TV browsers understand."""

from __future__ import annotations

from importlib import resources

import esprima
import pytest

PLAYER = resources.files("content").joinpath("player")


def test_the_player_is_small() -> None:
    total = sum(len(PLAYER.joinpath(n).read_bytes())
                for n in ("index.html", "player.js", "player.css", "sw.js"))
    assert total < 100 * 1024


@pytest.mark.parametrize("name", ["player.js", "sw.js"])
def test_the_scripts_are_es2017(name: str) -> None:
    # esprima 4 knows ECMAScript up to 2017: anything newer fails to parse.
    esprima.parseScript(PLAYER.joinpath(name).read_text("utf-8"))


@pytest.mark.parametrize("newer", ["var a = b?.c;", "var a = b ?? c;",
                                   "class A { #x = 1 }"])
def test_the_check_catches_newer_syntax(newer: str) -> None:
    with pytest.raises(esprima.Error):
        esprima.parseScript(newer)
