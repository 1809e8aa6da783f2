"""Human-facing messages on stderr: one place decides colour, verbosity, width and progress.

Machine output (``--format json`` and friends) goes to stdout and never through here.

- Colour: ``--color always|never`` (``--no-color`` is ``never``), else ``NO_COLOR`` (set and not
  empty) turns it off, else ``FORCE_COLOR`` (not ``0``) turns it on, else colour when the stream
  is a terminal and ``TERM`` is not ``dumb``. The styles themselves are ``pipvet.formats.style``.
- Progress: a service's ``Level.STATUS`` messages become one live line (spinner, bar, elapsed
  time, drawn by rich) only when stderr is a terminal, ``TERM`` is not ``dumb``, no ``CI`` variable
  is set and ``-q`` was not given; anywhere else they are dropped. rich is imported only then, so
  start-up and pipes never load it.
- Width: on a terminal, text for people is broken at spaces to fit its width (``COLUMNS`` wins,
  ``wrap``); a pipe or a file gets every line whole.
"""

from __future__ import annotations

import os
import sys

_state: dict[str, object] = {"quiet": False, "verbose": False, "color": "auto"}
COLOR_MODES = ("auto", "always", "never")


def configure(*, quiet: bool = False, verbose: bool = False, color: str | bool = "auto") -> None:
    """Set -q, -v and the colour mode (``auto``, ``always``, ``never``; a bool is kept for
    callers that say only yes (auto) or no (never))."""
    if isinstance(color, bool):
        color = "auto" if color else "never"
    _state["quiet"] = quiet
    _state["verbose"] = verbose
    _state["color"] = color
    end_status()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _env_on(name: str) -> bool:
    value = os.environ.get(name, "")
    return value != "" and value.lower() not in ("0", "false", "no")


def use_color(stream=None) -> bool:
    """Whether text written to ``stream`` (default stderr) is coloured (see the module's rules)."""
    stream = stream or sys.stderr
    mode = _state["color"]
    if mode == "never":
        return False
    if mode == "always":
        return True
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if "FORCE_COLOR" in os.environ:
        return _env_on("FORCE_COLOR")
    return os.environ.get("TERM") != "dumb" and _isatty(stream)


def live_progress() -> bool:
    """Whether status lines are drawn: stderr is a terminal a person watches (not a CI log,
    not a dumb terminal) and -q was not given."""
    if _state["quiet"] or os.environ.get("TERM") == "dumb" or _env_on("CI"):
        return False
    return _isatty(sys.stderr)


def width(stream=None) -> int:
    """Columns of the terminal ``stream`` (default stdout) writes to (``COLUMNS`` wins); 100
    when it is not a terminal."""
    return fit_width(stream) or 100


def fit_width(stream=None) -> int | None:
    """The width lines written to the terminal ``stream`` (default stdout) must fit:
    ``COLUMNS`` when set, else the terminal's. None for a pipe or a file: lines are left whole
    there."""
    import shutil

    if not _isatty(stream or sys.stdout):
        return None
    return shutil.get_terminal_size((100, 30)).columns


def wrap(text: str, columns: int | None) -> str:
    """``text`` with every line longer than ``columns`` broken at spaces; the rest of a broken
    line is indented under it (four more spaces). A word longer than a line is cut. Colour
    codes take no room."""
    if not columns:
        return text
    columns = max(columns, 20)
    out: list[str] = []
    for line in text.split("\n"):
        if _visible(line) <= columns:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip(" "))
        hang = " " * min(indent + 4, columns // 3)
        current, size = " " * indent, indent
        fresh = True  # nothing on the current line yet but its indent
        for word in line[indent:].split(" "):
            n = _visible(word)
            if not fresh and size + 1 + n > columns:
                out.append(current.rstrip())
                current, size, fresh = hang, len(hang), True
            while n > columns - size and "\x1b" not in word:  # a path or URL longer than a line
                room = columns - size - (0 if fresh else 1)
                if room < 10:
                    break
                out.append(current + ("" if fresh else " ") + word[:room])
                word, n = word[room:], n - room
                current, size, fresh = hang, len(hang), True
            current += ("" if fresh else " ") + word
            size += (0 if fresh else 1) + n
            fresh = False
        out.append(current.rstrip())
    return "\n".join(out)


def _visible(text: str) -> int:
    """Columns ``text`` takes on a terminal (colour codes take none)."""
    if "\x1b" not in text:
        return len(text)
    import re

    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def style(text: str, *names: str, stream=None) -> str:
    """``text`` in the named styles (``pipvet.formats.style``) when ``stream`` is coloured."""
    from pipvet.formats.style import paint

    return paint(text, *names, color=use_color(stream))


def printable(text: str) -> str:
    """``text`` safe for a terminal (``pipvet.core.text.escape_terminal``)."""
    from pipvet.core.text import escape_terminal

    return escape_terminal(text)


def _say(message: str) -> None:
    end_status()
    print(wrap(message, fit_width(sys.stderr)), file=sys.stderr, flush=True)


def info(message: str) -> None:
    if not _state["quiet"]:
        _say(message)


def result(message: str) -> None:
    """The outcome of a command (``done: 2 installed: ...``): printed even under -q."""
    _say(message)


def detail(message: str) -> None:
    if _state["verbose"]:
        _say(style(message, "dim"))


def warn(message: str) -> None:
    _say(f"{style('warning:', 'warning')} {message}")


def error(message: str) -> None:
    _say(f"{style('error:', 'error')} {message}")


def is_verbose() -> bool:
    return bool(_state["verbose"])


def is_quiet() -> bool:
    return bool(_state["quiet"])


def progress(level, message: str) -> None:
    """A service's ``Progress`` callback (``pipvet.core.progress``) printed here."""
    from pipvet.core.progress import Level

    if level is Level.STATUS:
        status(message)
        return
    {Level.INFO: info, Level.DETAIL: detail, Level.WARN: warn, Level.RESULT: result}[level](message)


# -- the live status line ------------------------------------------------------------------------

_live: dict[str, object] = {}  # the live line's rich objects, and its lock once there is one


def _live_lock():
    """The lock around the live line (threading is loaded only when a live line is drawn; the
    first status comes from the main thread, before any worker starts)."""
    lock = _live.get("lock")
    if lock is None:
        import threading

        lock = _live.setdefault("lock", threading.RLock())
    return lock


def status(message: str) -> None:
    """Show ``message`` as the live status line (a ``Step`` gets a bar); an empty message ends
    it. Dropped unless ``live_progress()``."""
    if not message:
        end_status()
        return
    if not live_progress():
        return
    with _live_lock():
        bar = _live.get("bar")
        if bar is None:
            bar = _start_live()
        done = getattr(message, "done", None)
        total = getattr(message, "total", None)
        text = fit(printable(str(message)), max(20, width(sys.stderr) - 45))
        if _live.get("text") != text:  # a new step: its own count and time, drawn at once
            if "task" in _live:
                bar.remove_task(_live["task"])
            _live["text"] = text
            _live["task"] = bar.add_task(text, total=total, completed=done or 0)
            if bar.live.is_started:
                bar.refresh()
            else:
                bar.start()
        else:  # the same step further along: drawn at the next tick (10 a second)
            bar.update(_live["task"], total=total, completed=done or 0)


def _start_live():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):  # "3/12" when the status says how far along, else nothing
        def render(self, task):
            return Text(f"{int(task.completed)}/{int(task.total)}" if task.total else "")

    term = Console(
        file=sys.stderr,
        no_color=not use_color(sys.stderr),
        highlight=False,
        width=width(sys.stderr),
    )
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=20),
        Count(),
        TimeElapsedColumn(),
        console=term,
        transient=True,
        redirect_stdout=False,  # the report on stdout never goes through the live display
        redirect_stderr=False,
    )
    _live["bar"] = bar
    return bar


def end_status() -> None:
    """Take the live status line away (before anything else is printed, a question is asked,
    or the command ends)."""
    if "lock" not in _live:
        return  # nothing was ever drawn
    with _live_lock():
        bar = _live.pop("bar", None)
        _live.pop("task", None)
        _live.pop("text", None)
        if bar is not None:
            bar.stop()


def fit(line: str, columns: int | None = None) -> str:
    """``line`` cut to ``columns`` (default: the terminal's width) with "..." at the end."""
    columns = columns or width()
    if len(line) <= columns:
        return line
    return line[: max(0, columns - 3)] + "..."


def interactive() -> bool:
    """True when a person can answer a question (standard input and error are terminals)."""
    return _isatty(sys.stdin) and _isatty(sys.stderr)


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; only "y" or "yes" is a yes."""
    end_status()
    return input(question).strip().lower() in ("y", "yes")
