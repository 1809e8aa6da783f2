"""What ``pipvet explain`` returns: catalogue entries, read as they are."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.analysis.catalogue import Rule


@dataclass(frozen=True)
class ExplainReport:
    rules: tuple[Rule, ...]  # the rule asked for, or every rule (``listing``)
    listing: bool  # True: ``pipvet explain`` without an id (a one-line list)
