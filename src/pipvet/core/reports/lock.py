"""What ``lock`` returns: the ``Lock`` and how it was made."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.lockfile import Lock


@dataclass(frozen=True)
class LockReport:
    lock: Lock
    resolver: str  # "pip" or "uv"

    @property
    def file_count(self) -> int:
        """How many file hashes the lock records for its (non-build) packages."""
        return sum(len(p.files) for p in self.lock.packages)
