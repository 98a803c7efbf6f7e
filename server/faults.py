"""A pause point for crash tests: kill the process while it is inside a transaction.

`VITRINA_PAUSE_AT=<point>` and `VITRINA_PAUSE_MARKER=<file>` in the environment make the
first process to reach that point create the marker file (holding its process ID) and
stop there for two minutes, with its writes made but not committed, so a test can kill it
(`kill -9`) at exactly that moment. Only the first arrival pauses (the marker already
exists for the next), so the work can be run again after the kill. Unset, a pause point
costs one dictionary lookup. The points: "content.publish", "sync.apply",
"photo_batch.apply".
"""

from __future__ import annotations

import os
import time

PAUSE_SECONDS = 120


def pause_point(name: str) -> None:
    """Stop here if this is the point the environment names (see the module's doc)."""
    if os.environ.get("VITRINA_PAUSE_AT") != name:
        return
    marker = os.environ.get("VITRINA_PAUSE_MARKER")
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(PAUSE_SECONDS)
