"""Output formats of ``pipvet scan``: ``text`` (for people), ``json`` and ``sarif`` (for tools)."""

from __future__ import annotations

from collections.abc import Sequence

from pipvet.core.analysis.model import Finding
from pipvet.core.reports.scan import ScanReport, verdict_rank
from pipvet.core.severity import Severity
from pipvet.formats.registries import SCAN as FORMATS

__all__ = ["FORMATS", "render", "severity_rank", "shown_findings", "worst_first"]


def severity_rank(severity: str) -> int:
    """A scan finding's severity on the shared scale (``pipvet.core.severity``)."""
    return max(Severity.from_label(severity), Severity.NONE)


def worst_first(reports: Sequence[ScanReport]) -> list[ScanReport]:
    """Reports sorted by verdict, then score, worst first (stable for equal ones)."""
    return sorted(reports, key=lambda r: (-verdict_rank(r.verdict), -r.score))


def shown_findings(report: ScanReport, *, include_info: bool) -> list[Finding]:
    """Findings sorted by severity (worst first); ``info`` ones only when asked."""
    found = [f for f in report.findings if include_info or f.severity != "info"]
    return sorted(found, key=lambda f: (-severity_rank(f.severity), f.path, f.line or 0))


def render(
    fmt: str,
    reports: Sequence[ScanReport],
    *,
    verbose: bool,
    all_findings: bool,
    color: bool = False,
) -> str:
    return FORMATS.render(fmt, reports, verbose=verbose, all_findings=all_findings, color=color)
