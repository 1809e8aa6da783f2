"""The interface every dependency source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pipvet.core.models import PackageId, Skipped

__all__ = ["DependencyCollection", "DependencySource", "Skipped"]


@dataclass(frozen=True)
class DependencyCollection:
    """Resolved packages to audit, what was skipped, and where they came from."""

    packages: tuple[PackageId, ...]
    skipped: tuple[Skipped, ...] = ()
    description: str = ""  # e.g. "environment /usr/bin/python3", "lock pylock.toml"
    location: str | None = None  # the input file, for SARIF locations


class DependencySource(Protocol):
    """A place to read packages from."""

    def collect(self) -> DependencyCollection:
        """Read (and if needed resolve) the packages; never runs package code."""
        ...
