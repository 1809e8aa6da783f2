"""What ``check-names`` returns: one verdict per name, in the order given."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.names import NameCheck

__all__ = ["NamesReport"]


@dataclass(frozen=True)
class NamesReport:
    """One verdict per name, in the order given."""

    checks: tuple[NameCheck, ...]

    @property
    def flagged(self) -> tuple[NameCheck, ...]:
        return tuple(c for c in self.checks if c.flagged)
