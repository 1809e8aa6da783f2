"""`pipvet lock` (not implemented yet)."""

from __future__ import annotations

import argparse

from pipvet.core.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lock", help="(not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("pipvet lock is not implemented yet")
