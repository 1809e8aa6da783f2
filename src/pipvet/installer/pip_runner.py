"""Run the installer (uv or pip) so that it can install nothing but the verified files in the
staging directory.

pip: ``pip install --require-hashes --no-deps --no-index --find-links STAGING -r <hashed reqs>``
with ``--isolated``; uv: ``uv pip install`` with the same options and ``--no-config``. Both run in
the environment of ``pipvet.sources.pip_env`` (no ``PIP_*``/``UV_*`` variable, no config file, no
``PYTHONPATH``): config files and variables can add indexes and find-links, and must not.
pipvet's own pip runs inside the target interpreter (started with ``-I -S``), so the target needs
no pip; uv is given the target through a launcher that starts it with ``-I -S`` too
(``pipvet.sources.environment.no_site_launcher``), so no ``.pth`` file of the target runs.

uv unpacks into a cache of its own for this one install (a temporary folder, deleted after) and
links from there (``--link-mode hardlink``, or ``copy`` across filesystems): nothing of the user's
uv cache is read, and once the install is over no file of the target shares its inode with
anything else. uv does not compile bytecode itself here (its
``--compile-bytecode`` starts the target with ``site``): ``compile_command`` does it the way pip
does, with the target interpreter started with ``-I -S``.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipvet.sources.pip_env import scrubbed_env

if TYPE_CHECKING:  # the resolver starts uv through this module before any install code loads
    from types import FrameType

    from pipvet.installer.staging import StagedFile

BASE_OPTIONS = ("--isolated", "--disable-pip-version-check", "--no-input")
# signals that stop an install (besides Ctrl-C): SIGTERM, and SIGHUP where there is one
STOP_SIGNALS = tuple(s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s)
_lost: list[int] = []  # stop signals whose KeyboardInterrupt Python dropped (main thread only)
_deferred: list[int] = []  # stop signals that came inside ``stops_deferred`` (main thread only)
_deferring = 0  # how many ``stops_deferred`` blocks the main thread is in
_POLL = 0.2  # seconds between looks at a lost stop signal while a process runs
_REDELIVER = 0.05  # seconds before a stop that came inside the import system is delivered again


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM (and SIGHUP) raise ``KeyboardInterrupt`` like Ctrl-C does, so that an operation
    that is stopped still stops what it started (pip, uv) and undoes what it began (only in the
    main thread): an install restores the environment, a lock stops its resolver. Ctrl-C, unless
    it is ignored (a background job), is taken over too, for the two cases below.

    - A signal that comes while the import system runs its own code (a module lock's weakref
      callback) is not raised there: an exception between its lock's acquire and release leaves
      the import lock held, and the next import in another thread waits forever. It is
      delivered again a moment later (``_thread.interrupt_main``), and raised then.
    - Python drops an exception raised where it cannot propagate (a ``__del__``, a weakref
      callback): it would print "Exception ignored" and go on. Such a stop is recorded instead,
      and ``finish_group``, where an operation waits long, acts on it (``stop_requested``).
    - A signal that comes inside ``stops_deferred`` is raised as that block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if _deferring:
            _deferred.append(signum)
            return
        if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            timer = threading.Timer(_REDELIVER, _thread.interrupt_main, (signum,))
            timer.daemon = True
            timer.start()
            return
        raise _stop(signum)

    def unraisable(u: sys.UnraisableHookArgs) -> None:
        if isinstance(u.exc_value, KeyboardInterrupt) and getattr(u.exc_value, "stop", None):
            _lost.append(u.exc_value.stop)  # type: ignore[attr-defined]
        else:
            hook(u)

    sigs = list(STOP_SIGNALS)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        sigs.append(signal.SIGINT)
    _lost.clear()
    _deferred.clear()
    hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    old = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sys.unraisablehook = hook
        _lost.clear()
        _deferred.clear()


@contextlib.contextmanager
def stops_deferred() -> Iterator[None]:
    """A stop signal (under ``interruptible``) that comes inside the block is raised as the block
    ends, not in the middle of it: for bookkeeping that must not be cut in half. A thread pool
    starting a worker is one: an interruption while ``Thread.start`` waits for the new thread
    leaves a worker running that the pool does not know of, so its shutdown does not wait for
    it, and its download keeps the process from exiting. Main thread only; blocks nest."""
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _deferred:
            signum = _deferred[-1]
            _deferred.clear()
            raise _stop(signum)


def _stop(signum: int) -> KeyboardInterrupt:
    """The ``KeyboardInterrupt`` a stop signal raises: Ctrl-C's as Python's own, the others
    naming the signal."""
    args = () if signum == signal.SIGINT else (signal.Signals(signum).name,)
    exc = KeyboardInterrupt(*args)
    exc.stop = signum  # type: ignore[attr-defined]
    return exc


def stop_requested() -> None:
    """Raise the ``KeyboardInterrupt`` of a stop signal whose exception Python dropped (see
    ``interruptible``); nothing when there was none."""
    if _lost and threading.current_thread() is threading.main_thread():
        signum = _lost[-1]
        _lost.clear()
        raise _stop(signum)


def pip_command(python: str, *args: str) -> list[str]:
    """``pip <args>`` for the TARGET interpreter: pipvet's own pip, run inside it with ``-I -S``
    (so its ``.pth`` files and ``sitecustomize`` never run)."""
    from pipvet.sources.environment import pip_command as command

    return command(python, *args)


def write_requirements(staged: Iterable[StagedFile], path: Path, *, hashes: bool) -> Path:
    """The generated requirements: one ``name==version --hash=sha256:...`` line per package."""
    lines = []
    for s in sorted(staged, key=lambda s: s.name):
        if s.build_dependency:
            continue
        lines.append(f"{s.name}=={s.version}" + (f" --hash=sha256:{s.sha256}" if hashes else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def install_command(
    python: str,
    staging_dir: Path,
    requirements: Path,
    *,
    require_hashes: bool,
    sdists: Sequence[str] = (),
    verbose: bool = False,
    compile: bool = True,
) -> list[str]:
    args = [
        "install",
        *BASE_OPTIONS,
        "--no-cache-dir",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(staging_dir),
        "--only-binary",
        ":all:",
    ]
    for name in sdists:  # only these may be built; their build deps come from STAGING too
        args += ["--no-binary", name]
    if require_hashes:
        args.append("--require-hashes")
    if not compile:
        args.append("--no-compile")
    if not verbose:
        args.append("-q")
    args += ["-r", str(requirements)]
    return pip_command(python, *args)


def uv_install_command(
    uv: str,
    python: str,
    staging_dir: Path,
    requirements: Path,
    *,
    tmp: Path,
    require_hashes: bool,
    sdists: Sequence[str] = (),
    build_constraints: Path | None = None,
    verbose: bool = False,
) -> list[str]:
    """``uv pip install`` of the staged files only, into ``python`` (started without ``site``);
    ``tmp`` holds the launcher and uv's cache for this install."""
    from pipvet.sources.environment import no_site_launcher

    args = [
        uv, "pip", "install", "--no-config", "--no-python-downloads",
        "--python", no_site_launcher(python, tmp),
        "--cache-dir", str(tmp / "uv-cache"), "--link-mode", _link_mode(tmp, python),
        "--no-deps", "--no-index", "--find-links", str(staging_dir),
        "--only-binary", ":all:", "--color", "never", "--no-progress",
    ]  # fmt: skip
    for name in sdists:  # only these may be built; their build deps come from STAGING too
        args += ["--no-binary", name]
    if build_constraints is not None:
        args += ["--build-constraints", str(build_constraints)]
    if require_hashes:
        args.append("--require-hashes")
    if not verbose:
        args.append("--quiet")
    args += ["-r", str(requirements)]
    return args


def _link_mode(tmp: Path, python: str) -> str:
    """``hardlink`` when uv's cache for this install (deleted after it) and the target are on
    one filesystem: once the cache is gone, every installed file is the only link to its data.
    ``copy`` otherwise (a hard link cannot cross filesystems)."""
    try:
        same = os.stat(tmp).st_dev == os.stat(Path(python).parent).st_dev
    except OSError:
        same = False
    return "hardlink" if same else "copy"


# Compile the given .py files (one path a line on stdin) as pip does after an install: each file
# on its own, errors ignored (a module may hold Python 2 code), in a few processes at once.
_COMPILE = r"""
import compileall, os, sys, warnings
from concurrent.futures import ProcessPoolExecutor
warnings.filterwarnings("ignore")
paths = [p for p in sys.stdin.read().splitlines() if p]
def one(chunk):
    import io, contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        for p in chunk:
            try:
                compileall.compile_file(p, force=True, quiet=2)
            except Exception:
                pass
n = max(1, min(os.cpu_count() or 1, 8, len(paths) // 200))
import multiprocessing
try:
    fork = multiprocessing.get_context("fork")
except ValueError:
    fork, n = None, 1
if n == 1:
    one(paths)
else:
    with ProcessPoolExecutor(n, mp_context=fork) as pool:
        list(pool.map(one, [paths[i::n] for i in range(n)]))
"""


def compile_command(python: str) -> list[str]:
    """The target interpreter, without ``site``, compiling the ``.py`` files given on stdin."""
    from pipvet.sources.environment import interpreter_path

    return [interpreter_path(python), "-I", "-S", "-c", _COMPILE]


def run(
    cmd: list[str],
    *,
    timeout: float = 1800,
    build_constraints: Path | None = None,
    uv_cache: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a pip command with the scrubbed environment; output captured for messages.

    pip runs in a process group of its own: when pipvet is interrupted (Ctrl-C, SIGTERM raised
    as ``KeyboardInterrupt``) or pip overruns ``timeout``, the whole group (pip, its build
    backends and anything they started) is stopped before the exception goes on, so nothing
    keeps writing into the environment while pipvet restores it. After pip ends, whatever it
    left running in its group is killed too.

    ``build_constraints`` holds pip's isolated build environment to the locked build
    dependencies. pip 25.3 and newer take it as ``--build-constraint`` (and no longer pass
    ``PIP_CONSTRAINT`` on to the build environment); older pips read ``PIP_CONSTRAINT`` in the
    pip that installs build dependencies (it runs without ``--isolated``), while the main pip
    (``--isolated``) ignores it. Both are given, so either kind of pip is held.
    """
    env = scrubbed_env(uv_cache=uv_cache)
    if uv_cache is not None:  # uv: its build constraints are in the command already
        return run_group(cmd, env=env, timeout=timeout)
    if build_constraints is not None:
        env["PIP_CONSTRAINT"] = str(build_constraints)
        if _pip_has_build_constraint():
            cmd = [*cmd, "--build-constraint", str(build_constraints)]
    return run_group(cmd, env=env, timeout=timeout)


def _pip_has_build_constraint() -> bool:
    """True when pipvet's own pip (the one that runs installs) knows ``--build-constraint``."""
    import pip
    from packaging.version import InvalidVersion, Version

    try:
        return Version(pip.__version__) >= Version("25.3")
    except InvalidVersion:
        return False


def run_group(
    cmd: Sequence[str], *, env: dict[str, str], timeout: float, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in a process group of its own, output captured. On an interruption or when
    ``timeout`` passes (``subprocess.TimeoutExpired``), the whole group is stopped before the
    exception goes on; after a normal end, whatever the command left running is killed."""
    proc = start_group(cmd, env=env, stdin=subprocess.PIPE if input is not None else None)
    return finish_group(proc, timeout=timeout, input=input)


def start_group(
    cmd: Sequence[str], *, env: dict[str, str], stdin: int | IO[bytes] | None = None
) -> subprocess.Popen[str]:
    """Start ``cmd`` in a process group of its own, output captured, reading ``stdin`` (an open
    file, ``subprocess.PIPE``, or nothing). ``finish_group`` waits for it; a caller that gives
    up before that calls ``stop_group``."""
    return subprocess.Popen(
        list(cmd),
        env=env,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish_group(
    proc: subprocess.Popen[str], *, timeout: float, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Wait for a ``start_group`` process (at most ``timeout`` seconds) and collect its output;
    as ``run_group`` on an interruption, a timeout and a normal end."""
    end = time.monotonic() + timeout
    try:
        while True:  # in slices: a stop signal whose exception was lost is acted on here
            try:
                out, err = proc.communicate(
                    input=input, timeout=min(_POLL, max(0.0, end - time.monotonic()))
                )
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= end:
                    raise subprocess.TimeoutExpired(proc.args, timeout) from None
                input = None  # sent once: communicate() goes on with what it began
                stop_requested()
    except BaseException:
        with signals_held():
            stop_group(proc)
        raise
    _kill_group(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL it after ``grace`` seconds, reap it."""
    _kill_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    _kill_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=grace)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP for the block (stopping pip, restoring the
    environment: a second Ctrl-C must not leave either half-done). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = [signal.SIGINT, signal.SIGTERM, *STOP_SIGNALS[1:]]
    old = {s: signal.signal(s, signal.SIG_IGN) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _kill_group(pgid: int, sig: int) -> None:
    killpg = getattr(os, "killpg", None)
    if killpg is None:  # pragma: no cover - Windows: no process groups, stop pip itself
        with contextlib.suppress(OSError):
            os.kill(pgid, signal.SIGTERM)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        killpg(pgid, sig)
