"""The resolvers' processes: finding uv, the command line and input of ``uv pip compile``, and one
run of pip or uv in a process group of its own, collected within the resolver's deadline.

Light to import (no ``packaging``, no index client): ``pipvet lock`` starts uv's first run from
here before the requirements are parsed (``EarlyRun``); ``pipvet.sources.resolver`` resolves
with these runs and reads what they chose.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pipvet.core.errors import NetworkError
from pipvet.sources.pip_env import scrubbed_env


@functools.lru_cache(maxsize=1)  # found once, and in one thread: sysconfig is not thread-safe
def find_uv() -> str | None:
    """The ``uv`` pipvet depends on (the ``uv`` package's binary, next to this interpreter), else
    ``uv`` on PATH; None when there is neither."""
    with _FIND_UV_LOCK:
        return _find_uv()


_FIND_UV_LOCK = threading.Lock()


def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    local = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    if local.exists():
        return str(local)
    return shutil.which("uv")


def write_constraints(constraints: Sequence[str], tmp: Path) -> list[str]:
    """``-c FILE`` for the resolver's command line, the file written in ``tmp`` (none: [])."""
    if not constraints:
        return []
    path = tmp / "constraints.txt"
    path.write_text("\n".join(constraints) + "\n", encoding="utf-8")
    return ["-c", str(path)]


def uv_command(
    uv: str,
    index_url: str,
    sdists: Sequence[str],
    python: str | None,
    tmp: Path,
    constraints: Sequence[str] = (),
    extra_index_urls: Sequence[str] = (),
) -> list[str]:
    """The ``uv pip compile`` command line (it reads the requirements from stdin, ``-``); files
    it names (constraints, a launcher) are written in ``tmp``."""
    cmd = [
        uv, "pip", "compile", "-", "--no-config", "--no-header", "--annotation-style", "split",
        "--index-url", index_url, "--only-binary", ":all:", "--no-python-downloads",
        "--python", _uv_python(python, tmp), "--color", "never", "--quiet",
    ]  # fmt: skip
    for url in extra_index_urls:
        cmd += ["--extra-index-url", url]
    if extra_index_urls:  # pip's behaviour; the install gate refuses names both indexes serve
        cmd += ["--index-strategy", "unsafe-best-match"]
    for name in sdists:
        cmd += ["--no-binary", name]
    return cmd + write_constraints(constraints, tmp)


def requirements_text(reqs: Sequence[str]) -> str:
    """The requirements as a resolver reads them (uv on stdin, pip from a file): one a line."""
    return "\n".join(reqs) + "\n"


def _launch_uv(cmd: list[str], text: str, index_url: str, tmp: Path) -> ResolverRun:
    """Start uv's ``cmd`` reading ``text`` on its stdin (a file in ``tmp``)."""
    stdin = tmp / "requirements-stdin.in"  # read by uv as ``-``, so its annotations stay ``-r -``
    stdin.write_text(text, encoding="utf-8")
    return ResolverRun(cmd, index_url, stdin)


def start_uv(
    uv: str,
    reqs: Sequence[str],
    index_url: str,
    sdists: Sequence[str],
    python: str | None,
    tmp: Path,
    constraints: Sequence[str] = (),
    extra_index_urls: Sequence[str] = (),
    *,
    early: EarlyRun | None = None,
) -> ResolverRun:
    """Start ``uv pip compile`` for ``reqs``, or take ``early`` (a run started before the inputs
    were parsed) when its command line and input are exactly these; ``early`` is stopped
    otherwise."""
    cmd = uv_command(uv, index_url, sdists, python, tmp, constraints, extra_index_urls)
    text = requirements_text(reqs)
    if early is not None:
        adopted = early.adopt(cmd, text)
        if adopted is not None:
            return adopted
    return _launch_uv(cmd, text, index_url, tmp)


class ResolverRun:
    """pip or uv resolving, started in a process group of its own (reading ``stdin``, a file,
    when given). ``wait()`` collects it within the resolver's overall deadline, counted from its
    start: pip's and uv's per-read timeouts never fire on a server that drips bytes; Ctrl-C stops
    the whole group. ``stop()`` ends it unwaited."""

    def __init__(self, cmd: list[str], index_url: str, stdin: Path | None = None) -> None:
        from pipvet.installer.pip_runner import start_group

        self.index_url = index_url
        self.done = False
        self.waited = False  # collected by wait() (not stopped)
        self._began = time.monotonic()
        if stdin is None:
            self._proc = start_group(cmd, env=scrubbed_env())
        else:
            with stdin.open("rb") as f:
                self._proc = start_group(cmd, env=scrubbed_env(), stdin=f)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def wait(self) -> subprocess.CompletedProcess[str]:
        from pipvet.installer.pip_runner import finish_group

        seconds = resolve_deadline()
        left = max(0.0, seconds - (time.monotonic() - self._began))
        try:
            proc = finish_group(self._proc, timeout=left)
        except subprocess.TimeoutExpired:
            raise NetworkError(
                f"resolving against {self.index_url} did not finish within {seconds:.0f} s (the "
                "index is stalled or too slow); retry later"
            ) from None
        finally:
            self.done = True
        self.waited = True
        return proc

    def stop(self) -> None:
        """End the process (and whatever it started) if it was never waited for."""
        if self.done:
            return
        from pipvet.installer.pip_runner import signals_held, stop_group

        self.done = True
        with signals_held():
            stop_group(self._proc)


class EarlyRun:
    """uv's first run for ``pipvet lock``, started as soon as its whole command line and input are
    certainly known, before the requirements are parsed and the index client is loaded (the
    caller decides when that is). ``adopt`` hands it to the resolver only when the resolver would
    start exactly this run; ``close`` stops it unless it was collected, and removes its folder."""

    def __init__(self, uv: str, reqs: Sequence[str], index_url: str) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="pipvet-resolve-")
        self.adopted = False
        try:
            tmp = Path(self._tmp.name)
            self.cmd = uv_command(uv, index_url, (), None, tmp)
            self.text = requirements_text(reqs)
            self.run = _launch_uv(self.cmd, self.text, index_url, tmp)
        except BaseException:
            self._tmp.cleanup()
            raise

    def adopt(self, cmd: list[str], text: str) -> ResolverRun | None:
        """This run, when ``cmd`` and ``text`` are byte for byte what it was started with (and it
        was not adopted or stopped before); else None, and it is stopped."""
        if not self.adopted and not self.run.done and cmd == self.cmd and text == self.text:
            self.adopted = True
            return self.run
        self.run.stop()
        return None

    def stop(self) -> None:
        """Stop the process if it was never collected (and reap it)."""
        self.run.stop()

    def close(self) -> None:
        """Stop the process if it was never collected (and reap it); remove its folder."""
        try:
            self.run.stop()
        finally:
            self._tmp.cleanup()


def own_python_as_is(python: str | None) -> bool:
    """Whether uv may start ``python`` (None: pipvet's own) as it is (``_uv_python``)."""
    return python is None and not sys.flags.no_site


def _uv_python(python: str | None, tmp: Path) -> str:
    """What uv is told to start for its interpreter query: another interpreter through the
    no-site launcher (its ``.pth`` files must not run), pipvet's own as it is when ``site`` ran
    in this process: starting it with ``site`` again runs nothing that has not run already, and
    uv reuses what it learned about it (the launcher is a new file each time: ~60 ms a run)."""
    if own_python_as_is(python):
        return sys.executable
    from pipvet.sources.environment import no_site_launcher

    return no_site_launcher(python, tmp)


def resolve_deadline() -> float:
    """How long one resolver run (pip or uv, reading the index itself) may take in all: five
    times the deadline of one request (``PIPVET_NETWORK_DEADLINE``), ten minutes by default."""
    from pipvet.sources.index import deadline_seconds

    return 5 * deadline_seconds()
