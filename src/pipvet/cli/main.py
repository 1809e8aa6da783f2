"""The ``pipvet`` command line: parses arguments and dispatches to one command module.

Each command lives in ``pipvet.commands.<name>`` and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Registration only builds parsers; heavy imports happen inside the command when it runs, so that
``pipvet scan`` does not pay for loading the advisory index and vice versa.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pipvet import __version__
from pipvet.cli import console
from pipvet.core.errors import EXIT_USAGE, PipvetError

COMMANDS = ("lock", "install", "verify", "audit", "db", "scan", "check-names", "diff")

EPILOG = """exit codes:
  0  success
  1  refused by policy (hash mismatch, blocked package, vulnerabilities over the threshold)
  2  usage or input error
  3  network error (unreachable, timed out, incomplete download): retry later
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipvet",
        description="Safe-by-default Python package installs: locks with hashes, hash-checked "
        "installs, vulnerability audits and static malware inspection.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pipvet {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only what matters")
    parser.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"pipvet.commands.{name.replace('-', '_')}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console.configure(quiet=args.quiet, verbose=args.verbose, color=not args.no_color)
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
