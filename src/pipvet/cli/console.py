"""Human-facing messages on stderr: one place decides colour, verbosity and prefixes.

Machine output (``--format json`` and friends) goes to stdout and never through here.
"""

from __future__ import annotations

import os
import sys

_state = {"quiet": False, "verbose": False, "color": True}


def configure(*, quiet: bool = False, verbose: bool = False, color: bool = True) -> None:
    _state["quiet"] = quiet
    _state["verbose"] = verbose
    _state["color"] = color and "NO_COLOR" not in os.environ


def use_color(stream=None) -> bool:
    stream = stream or sys.stderr
    return bool(_state["color"]) and hasattr(stream, "isatty") and stream.isatty()


def style(text: str, *names: str, stream=None) -> str:
    """Wrap text in ANSI styles when the stream is a terminal and colour is allowed."""
    from pipvet.formats.style import paint

    return paint(text, *names, color=use_color(stream))


def printable(text: str) -> str:
    """``text`` safe for a terminal (``pipvet.core.text.escape_terminal``)."""
    from pipvet.core.text import escape_terminal

    return escape_terminal(text)


def info(message: str) -> None:
    if not _state["quiet"]:
        print(message, file=sys.stderr)


def detail(message: str) -> None:
    if _state["verbose"]:
        print(style(message, "dim"), file=sys.stderr)


def warn(message: str) -> None:
    print(f"{style('warning:', 'yellow', 'bold')} {message}", file=sys.stderr)


def error(message: str) -> None:
    print(f"{style('error:', 'red', 'bold')} {message}", file=sys.stderr)


def is_verbose() -> bool:
    return bool(_state["verbose"])


def is_quiet() -> bool:
    return bool(_state["quiet"])


def progress(level, message: str) -> None:
    """A service's ``Progress`` callback (``pipvet.core.progress``) printed here."""
    from pipvet.core.progress import Level

    {Level.INFO: info, Level.DETAIL: detail, Level.WARN: warn}[level](message)


def interactive() -> bool:
    """True when a person can answer a question (standard input and error are terminals)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; only "y" or "yes" is a yes."""
    return input(question).strip().lower() in ("y", "yes")
