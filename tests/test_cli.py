"""The command-line entry point itself."""

from __future__ import annotations

import subprocess
import sys

from pipvet.cli.main import build_parser, main


def test_every_command_is_registered() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"lock", "install", "verify", "audit", "db", "scan"}


def test_no_command_is_a_usage_error(capsys) -> None:
    assert main([]) == 2


def test_module_entry_point_prints_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipvet", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("pipvet ")
