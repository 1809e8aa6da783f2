"""ANSI styles for text formats. Whether to colour is the caller's decision, passed in."""

from __future__ import annotations

COLORS = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2", "magenta": "35"}


def paint(text: str, *names: str, color: bool) -> str:
    """``text`` wrapped in the named styles when ``color`` is true."""
    if not names or not color:
        return text
    codes = ";".join(COLORS[n] for n in names)
    return f"\033[{codes}m{text}\033[0m"
