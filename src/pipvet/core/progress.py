"""How a service tells its caller what is happening while it works, without printing.

A service takes ``progress: Progress`` and calls ``progress(Level.WARN, "...")``; the command
hands in a function that prints through ``pipvet.cli.console``, another caller may collect or drop
the messages (``silent``). What a service *returns* is its report; these messages are only the
commentary people read on stderr while it runs.

``Level.STATUS`` is what the service is doing right now ("resolving 3 requirements with uv"),
replaced by the next status: the console shows it as a live line (a spinner, a bar when the
message is a ``Step`` that says how far along it is) on a terminal only, and drops it in a pipe,
a CI log or under ``-q``. An empty status means "done": the live line goes away. Nothing here
knows how it is drawn (no terminal library in a service).
"""

from __future__ import annotations

import enum
from collections.abc import Callable


class Level(enum.Enum):
    INFO = "info"  # normal progress (hidden by -q)
    DETAIL = "detail"  # more detail (shown by -v)
    WARN = "warn"  # something the user must hear
    STATUS = "status"  # what is being done now: a live line on a terminal, else nothing
    RESULT = "result"  # the outcome the user must see even under -q (what was blocked, done)


Progress = Callable[[Level, str], None]


class Step(str):
    """A status message that also says how far along the work is: ``done`` of ``total``.

    It is a ``str`` (the text alone), so a caller that only prints or collects messages needs
    nothing new; the console draws a bar from the two numbers."""

    done: int
    total: int

    def __new__(cls, text: str, done: int, total: int) -> Step:
        step = super().__new__(cls, text)
        step.done = done
        step.total = total
        return step


def step(text: str, done: int, total: int) -> Step:
    """The status ``text`` at ``done`` of ``total`` (items, files, bytes)."""
    return Step(text, done, total)


class Counter:
    """Counts finished items of a known total and reports each as a ``Step`` status (safe to
    call from several threads: each call reports the count it made)."""

    def __init__(self, progress: Progress, text: str, total: int) -> None:
        import threading

        self._progress = progress
        self._text = text
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        progress(Level.STATUS, Step(text, 0, total))

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._done += n
            done = self._done
        self._progress(Level.STATUS, Step(self._text, done, self._total))


def silent(level: Level, message: str) -> None:
    """A ``Progress`` that drops every message."""
