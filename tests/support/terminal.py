"""Run pipvet as a person at a terminal would: in a real pseudo-terminal (``os.openpty``), as its
stdin, stdout and stderr, with a window size, answering a question when it is asked.

And the other side: the same command with stdout and stderr piped, where no escape code may
appear.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# any escape sequence: CSI (colours, cursor moves, erase), OSC, or a lone ESC
ESCAPE = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")


def screen(raw: bytes) -> str:
    """``raw`` terminal output played on a line-based screen (see ``TerminalRun.text``)."""
    text = raw.decode("utf-8", "replace")
    lines: list[list[str]] = [[]]
    row = col = 0
    i = 0
    csi = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":
            m = csi.match(text, i)
            if m is None:
                i += 1
                continue
            i = m.end()
            arg, final = m.group(1) or "", m.group(2)
            if final == "K":  # erase line (the part the argument names; all of it is enough)
                if arg in ("", "0"):
                    del lines[row][col:]
                else:
                    lines[row] = [] if arg == "2" else [" "] * col + lines[row][col:]
            elif final == "A":  # cursor up
                row = max(0, row - int(arg or "1"))
            elif final == "G":  # to a column
                col = int(arg or "1") - 1
            continue
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append([])
        else:
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return "\n".join("".join(line).rstrip() for line in lines).rstrip("\n") + "\n"


@dataclass(frozen=True)
class TerminalRun:
    code: int
    raw: bytes  # everything the terminal received, escape codes included

    @property
    def text(self) -> str:
        """What the screen shows at the end (and what scrolled off it): the output played on a
        small line-based terminal that knows carriage return, line feed, erase-line and
        cursor-up, the moves a live progress line makes; other escape codes are dropped."""
        return screen(self.raw)

    @property
    def transcript(self) -> str:
        """Everything written, escape codes removed, carriage returns as line ends (what a
        progress line ever showed is in here, even after it was erased)."""
        plain = ESCAPE.sub(b"", self.raw).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return plain.decode("utf-8", "replace")

    @property
    def has_escapes(self) -> bool:
        return b"\x1b" in self.raw


def child_env(**changes: str | None) -> dict[str, str]:
    """This environment without colour and CI switches, then ``changes`` (None removes)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "CI", "COLUMNS", "LINES")
    }
    env["TERM"] = "xterm-256color"
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_on_terminal(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    answer: str | None = None,
    prompt: bytes = b"[y/N]",
    columns: int = 100,
    rows: int = 30,
    timeout: float = 180,
) -> TerminalRun:
    """``python -m pipvet ARGV`` with a pseudo-terminal of ``columns`` x ``rows`` as its stdin,
    stdout and stderr; ``answer`` (then Enter) is typed once ``prompt`` appears."""
    import fcntl
    import struct
    import termios

    main_fd, child_fd = os.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipvet", *argv],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        cwd=cwd,
        env=env if env is not None else child_env(),
        close_fds=True,
        start_new_session=True,  # the pty becomes its controlling terminal
    )
    os.close(child_fd)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            out += chunk
            if answer is not None and not answered and prompt in out:
                os.write(main_fd, answer.encode() + b"\r")
                answered = True
        else:
            proc.kill()
    finally:
        os.close(main_fd)
    return TerminalRun(proc.wait(timeout=60), out)


@dataclass(frozen=True)
class PipedRun:
    code: int
    stdout: bytes
    stderr: bytes


def run_piped(
    argv: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> PipedRun:
    """``python -m pipvet ARGV`` with stdin closed and stdout and stderr piped."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipvet", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env=env if env is not None else child_env(),
        timeout=timeout,
    )
    return PipedRun(proc.returncode, proc.stdout, proc.stderr)
