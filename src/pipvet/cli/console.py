"""Human-facing messages on stderr: one place decides colour, verbosity and prefixes.

Machine output (``--format json`` and friends) goes to stdout and never through here.
"""

from __future__ import annotations

import os
import re
import sys

_state = {"quiet": False, "verbose": False, "color": True}

_COLORS = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2", "magenta": "35"}


def configure(*, quiet: bool = False, verbose: bool = False, color: bool = True) -> None:
    _state["quiet"] = quiet
    _state["verbose"] = verbose
    _state["color"] = color and "NO_COLOR" not in os.environ


def use_color(stream=None) -> bool:
    stream = stream or sys.stderr
    return bool(_state["color"]) and hasattr(stream, "isatty") and stream.isatty()


def style(text: str, *names: str, stream=None) -> str:
    """Wrap text in ANSI styles when the stream is a terminal and colour is allowed."""
    if not names or not use_color(stream):
        return text
    codes = ";".join(_COLORS[n] for n in names)
    return f"\033[{codes}m{text}\033[0m"


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control, bidi and zero-width characters as ``\\xNN`` /
    ``\\uNNNN`` escapes (for anything that comes from a package or an advisory)."""
    return _UNPRINTABLE.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


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
