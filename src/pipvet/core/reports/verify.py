"""What ``verify`` returns: each distribution's RECORD check, and how the environment differs
from a lock."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.record import DistCheck


@dataclass(frozen=True)
class LockDiff:
    """How an environment differs from a lock."""

    missing: tuple[str, ...]  # "name==version" locked, not installed
    extra: tuple[str, ...]  # "name==version" installed, not locked
    other_version: tuple[tuple[str, str, str], ...]  # (name, installed, locked)
    lock_path: str

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.other_version)


@dataclass(frozen=True)
class VerifyReport:
    python: str
    prefix: str
    checks: tuple[DistCheck, ...]
    unverifiable: tuple[str, ...]  # egg-info installs: no RECORD hashes to check against
    lock: LockDiff | None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and (self.lock is None or self.lock.ok)
