"""Errors and the exit codes they map to.

Exit codes (documented in README.md and ``pipvet --help``):
    0  success
    1  refused by policy (hash mismatch, blocked package, vulnerabilities over the threshold)
    2  usage or input error (bad arguments, unreadable or malformed files, unwritable output)
    3  network: the index or another server could not be reached or timed out (retry later)
    4  internal error: a bug in pipvet (one line, the traceback written to a file)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_INTERNAL = 4


class PipvetError(Exception):
    """Base class: a failure with a message meant for a person, and an exit code."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(PipvetError):
    """Bad arguments or malformed input (exit 2)."""

    exit_code = EXIT_USAGE


class InputError(UsageError):
    """An input file, index or database could not be read or parsed (exit 2)."""


class PolicyRefusal(PipvetError):
    """pipvet refused to proceed because a check failed (exit 1)."""

    exit_code = EXIT_POLICY


class NetworkError(PipvetError):
    """The index or another server could not be reached or timed out; retry later (exit 3)."""

    exit_code = EXIT_NETWORK
