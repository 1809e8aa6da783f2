"""The ``pipvet`` command line: parses arguments and dispatches to one command module.

Each command lives in ``pipvet.commands.<name>`` and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code
(the command calls one service of ``pipvet.services`` and one formatter). Registration only builds
parsers; heavy imports happen inside the command when it runs, so that ``pipvet scan`` does not pay
for loading the advisory index and vice versa. Errors map to exit codes here: a ``PipvetError``
to its own (1, 2 or 3), anything else is a bug: one line, the traceback in a file, exit 4.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pipvet import __version__
from pipvet.cli import console
from pipvet.core.errors import EXIT_INTERNAL, EXIT_USAGE, PipvetError

COMMANDS = (
    "lock",
    "install",
    "verify",
    "audit",
    "db",
    "scan",
    "check-names",
    "diff",
    "explain",
    "report",
    "serve",
)

EPILOG = """exit codes:
  0  success
  1  refused by policy (hash mismatch, blocked package, known malware, vulnerabilities over
     the threshold, a name flagged by check-names)
  2  usage or input error (bad arguments, unreadable or malformed input, unwritable output)
  3  network: the index or another server could not be reached or timed out (retry later)
  4  internal error: a bug in pipvet (the traceback is written to a file, named on stderr)
130  interrupted (Ctrl-C, SIGTERM); an install in progress was rolled back
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of ``only`` (start-up: one command's imports)."""
    parser = argparse.ArgumentParser(
        prog="pipvet",
        description="Safe-by-default Python package installs: locks with hashes, hash-checked "
        "installs, vulnerability audits and static malware inspection.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pipvet {__version__}")
    _global_flags(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"pipvet.commands.{name.replace('-', '_')}")
        module.register(sub)
    for command in sub.choices.values():
        _global_flags(command, default=argparse.SUPPRESS)
    return parser


def _global_flags(parser: argparse.ArgumentParser, *, default: object) -> None:
    """-q, -v, --color and --no-color, before the command or after it (``pipvet scan X -v``).
    After it they default to SUPPRESS, so that leaving them out keeps what was given before."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="print only what matters"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="print more detail"
    )
    parser.add_argument(
        "--color",
        choices=console.COLOR_MODES,
        default=default if default is argparse.SUPPRESS else "auto",
        help="colour: auto (a terminal, unless NO_COLOR is set), always or never",
    )
    parser.add_argument(
        "--no-color", action="store_true", default=default, help="never colour (--color never)"
    )
    for action in parser._actions:  # nested actions (pipvet db update ...)
        if isinstance(action, argparse._SubParsersAction) and default is argparse.SUPPRESS:
            for nested in action.choices.values():
                _global_flags(nested, default=default)


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (its first word that is not a flag), when it is one."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    color = "never" if args.no_color else args.color
    console.configure(quiet=args.quiet, verbose=args.verbose, color=color)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args) or 0)
    except PipvetError as exc:
        console.error(exc.render())
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the traceback in a file
        console.error(f"internal error: {type(exc).__name__}: {exc} ({_write_traceback()})")
        return EXIT_INTERNAL
    finally:
        console.end_status()


def run() -> NoReturn:
    """The ``pipvet`` program (``python -m pipvet`` and the console script): ``main``, then
    exit. The process ends as the interpreter would end it, without the teardown: threads are
    joined (``threading._shutdown``: workers finish what they write), exit handlers run
    (temporary folders are removed, worker pools stopped), output is flushed, and then the
    process exits at once. Freeing every object one by one first took 10-15 ms after a lock, on
    every command. ``main`` itself stays callable any number of times in one process."""
    code = main()
    threading = sys.modules.get("threading")
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:  # what Py_FinalizeEx does first
        shutdown()
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


def _write_traceback() -> str:
    """Write the current exception's traceback to a new file; say where (or why not)."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="pipvet-traceback-", suffix=".txt")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(f"pipvet {__version__}, {sys.argv!r}\n")
            traceback.print_exc(file=f)
    except OSError as e:
        return f"the traceback could not be written: {e}"
    return f"traceback written to {path}"
