"""What ``db update`` and ``db info`` return."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DbUpdateReport:
    source: str  # where the OSV data was read
    target: str  # the database written
    record_count: int
    not_pypi: int = 0  # valid records naming no PyPI package, left out
    skipped: tuple[tuple[str, str], ...] = ()  # (where, why) of each unusable record


@dataclass(frozen=True)
class DbInfoReport:
    path: str
    origin: str  # "snapshot" (bundled) or "update" (pipvet db update)
    source: str
    commit: str | None
    date: str | None
    age_days: int | None
    record_count: int
    skipped_count: int
    built_at: str | None
    notes: tuple[str, ...] = ()  # what opening it had to say (a rebuilt cache, ...)
