"""Verdict and 0-100 score of one artifact, from its findings.

Severity already encodes *where* code runs and *intent* (rules raise it for install-time and
import-time code and for combinations), so the verdict follows the worst finding, with code in
tests, docs and examples counting one level less. Counts of capability hits do not add up to intent.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipvet.core.analysis.model import SEVERITIES, Finding
from pipvet.core.analysis.rules import is_peripheral

_BAND = {
    "critical": (90, 100),
    "high": (60, 89),
    "medium": (30, 59),
    "low": (10, 29),
    "info": (1, 9),
}
_VERDICT = {
    "critical": "malicious",
    "high": "suspicious",
    "medium": "risky",
    "low": "risky",
    "info": "clean",
}


def effective_severity(f: Finding) -> str:
    """The severity a finding counts with: one level less in tests, docs and examples."""
    if f.path and is_peripheral(f.path) and f.severity != "info":
        return SEVERITIES[SEVERITIES.index(f.severity) - 1]
    return f.severity


def judge(findings: Iterable[Finding]) -> tuple[str, int]:
    """(verdict, score) for an artifact's findings."""
    levels = [SEVERITIES.index(effective_severity(f)) for f in findings]
    if not levels:
        return "clean", 0
    top = max(levels)
    top_name = SEVERITIES[top]
    at_top = levels.count(top)
    low, high = _BAND[top_name]
    score = min(high, low + 2 * (at_top - 1) + sum(1 for lv in levels if lv == top - 1))
    return _VERDICT[top_name], score
