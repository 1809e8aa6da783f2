"""One install at a time per environment: an exclusive ``flock`` on the target's prefix folder.

The lock is taken on the folder itself (no file is added to the environment), so every pipvet
process installing into the same prefix sees it, whatever its cache folder. A second install
waits for the first to finish (saying so once), and gives up with a clear line after ``wait``
seconds. The lock ends with the process, so a killed install never leaves it behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

from pipvet.core.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, installs are not serialised
    fcntl = None  # type: ignore[assignment]

DEFAULT_WAIT = 600.0


@contextlib.contextmanager
def locked(
    prefix: str,
    *,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the exclusive install lock of ``prefix`` for the duration of the block."""
    if fcntl is None:
        yield
        return
    if wait is None:
        raw = os.environ.get("PIPVET_LOCK_WAIT", "")
        try:
            wait = float(raw) if raw else DEFAULT_WAIT
        except ValueError:
            wait = DEFAULT_WAIT
    try:
        fd = os.open(prefix, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as e:
        raise InputError(f"cannot open the environment {prefix}: {e.strerror}") from None
    try:
        if not _try(fd):
            if on_wait is not None:
                on_wait(f"waiting for another pipvet install into {prefix} to finish")
            end = time.monotonic() + wait
            while not _try(fd):
                if time.monotonic() > end:
                    raise InputError(
                        f"another pipvet install into {prefix} is still running after "
                        f"{wait:.0f} s; try again when it has finished"
                    )
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
