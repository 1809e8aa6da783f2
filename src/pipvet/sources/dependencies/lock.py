"""Packages pinned in a lock (``--lock FILE``): a hashed requirements lock or ``pylock.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipvet.sources.dependencies.base import DependencyCollection


@dataclass(frozen=True)
class LockSource:
    path: Path

    def collect(self) -> DependencyCollection:
        from pipvet.core.lockfile_io import read_lock

        lock = read_lock(Path(self.path))
        # Every pin is audited, whatever its marker: a lock serves every platform it lists.
        return DependencyCollection(
            packages=tuple(sorted({p.id for p in lock.packages})),
            description=f"lock {self.path}",
            location=str(self.path),
        )
