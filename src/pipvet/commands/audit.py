"""`pipvet audit` (not implemented yet)."""

from __future__ import annotations

import argparse

from pipvet.core.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="(not implemented yet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("pipvet audit is not implemented yet")
