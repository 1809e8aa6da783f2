"""Where a command's report goes: stdout, or a file written atomically (one writer for all)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from pipvet.core.errors import InputError


def write_output(text: str, output: str | os.PathLike[str] | None, *, fit: bool = False) -> None:
    """Write ``text`` to the file ``output`` (atomically: a temp file, then a rename), or to
    stdout when no file is named. A path that cannot be written is an ``InputError`` (exit 2).
    A live status line on the terminal is taken away first. ``fit`` (text for people): on
    stdout, lines longer than the terminal's width (``COLUMNS``) are broken at spaces."""
    from pipvet.cli import console

    console.end_status()
    if not output:
        sys.stdout.write(console.wrap(text, console.fit_width(sys.stdout)) if fit else text)
        return
    path = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as e:
        raise InputError(f"cannot write {path}: {e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {e}") from None
