"""The processes a test started: the children of this process, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

HAS_PROC = Path("/proc/self/task").is_dir()


def children() -> set[int]:
    """The process ids of this process's children (running, or ended and not yet reaped)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:  # a thread that ended since the listing: it has no children to read
            continue
    return found
