"""How a service tells its caller what is happening while it works, without printing.

A service takes ``progress: Progress`` and calls ``progress(Level.WARN, "...")``; the command
hands in a function that prints through ``pipvet.cli.console``, another caller may collect or drop
the messages (``silent``). What a service *returns* is its report; these messages are only the
commentary people read on stderr while it runs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable


class Level(enum.Enum):
    INFO = "info"  # normal progress (hidden by -q)
    DETAIL = "detail"  # more detail (shown by -v)
    WARN = "warn"  # something the user must hear


Progress = Callable[[Level, str], None]


def silent(level: Level, message: str) -> None:
    """A ``Progress`` that drops every message."""
