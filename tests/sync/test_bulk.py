"""The collector is paused for bulk work and comes back as it was, also after an error."""

from __future__ import annotations

import gc

import pytest

from sync.bulk import collector_paused


def test_paused_inside_and_back_after_nesting_and_errors() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()          # the inner block does not turn it back on
    assert gc.isenabled()
    with pytest.raises(ValueError, match="a bad file"), collector_paused():
        raise ValueError("a bad file")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
