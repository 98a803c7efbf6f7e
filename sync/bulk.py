"""Bulk work that builds hundreds of thousands of small objects (a register's records, a
plan's actions) without the cyclic garbage collector running over and over.

Each collection walks every live object; reading 100,000 register rows makes many of
them and, with the collector on, takes about twice as long. None of these objects form
cycles, so nothing is lost by pausing it for the few seconds the work lasts (reference
counting still frees everything as usual).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (nested blocks are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
