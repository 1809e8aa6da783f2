"""The one place text gets colour. Whether to colour is the caller's decision, passed in
(``pipvet.cli.console.use_color`` decides it for a stream).

A style is named by what it means (a severity, a verdict, ``warning``) or by a plain colour, and
drawn by rich, which is imported only when colour is on: a pipe, a file or ``NO_COLOR`` never
loads it and never gets an escape code.
"""

from __future__ import annotations

from functools import lru_cache

STYLES = {
    # plain
    "red": "red",
    "yellow": "yellow",
    "green": "green",
    "magenta": "magenta",
    "cyan": "cyan",
    "bold": "bold",
    "dim": "dim",
    # messages
    "warning": "bold yellow",
    "error": "bold red",
    "blocked": "bold red",
    # severities (advisories: critical high moderate low unknown; scan findings: medium, info)
    "critical": "bold magenta",
    "high": "bold red",
    "moderate": "yellow",
    "medium": "yellow",
    "low": "cyan",
    "unknown": "dim",
    "info": "dim",
    # verdicts
    "malicious": "bold red",
    "suspicious": "bold magenta",
    "risky": "yellow",
    "clean": "green",
    "error-verdict": "bold red",
}


def paint(text: str, *names: str, color: bool) -> str:
    """``text`` in the named styles when ``color`` is true; unknown names add nothing."""
    if not color or not text:
        return text
    spec = " ".join(STYLES[n] for n in names if n in STYLES)
    if not spec:
        return text
    return _style(spec).render(text, color_system=_standard())


def severity(text: str, level: str, *, color: bool) -> str:
    """``text`` coloured as the severity ``level`` (``critical`` ... ``info``)."""
    return paint(text, str(level).lower(), color=color)


def verdict(text: str, value: str, *, color: bool) -> str:
    """``text`` coloured as the scan verdict ``value`` (``malicious`` ... ``clean``)."""
    value = str(value).lower()
    return paint(text, value if value in STYLES else "error-verdict", color=color)


@lru_cache(maxsize=64)
def _style(spec: str):
    from rich.style import Style

    return Style.parse(spec)


@lru_cache(maxsize=1)
def _standard():
    from rich.color import ColorSystem

    return ColorSystem.STANDARD
