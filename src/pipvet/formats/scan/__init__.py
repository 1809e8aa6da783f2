"""Output formats of ``pipvet scan``: ``text`` (for people), ``json`` and ``sarif`` (for tools)."""

from __future__ import annotations

from collections.abc import Sequence

from pipvet.core.analysis.model import SEVERITIES, Finding
from pipvet.core.reports.scan import ScanReport, verdict_rank

FORMATS = ("text", "json", "sarif")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def worst_first(reports: Sequence[ScanReport]) -> list[ScanReport]:
    """Reports sorted by verdict, then score, worst first (stable for equal ones)."""
    return sorted(reports, key=lambda r: (-verdict_rank(r.verdict), -r.score))


def shown_findings(report: ScanReport, *, include_info: bool) -> list[Finding]:
    """Findings sorted by severity (worst first); ``info`` ones only when asked."""
    found = [f for f in report.findings if include_info or f.severity != "info"]
    return sorted(found, key=lambda f: (-severity_rank(f.severity), f.path, f.line or 0))


def render(fmt: str, reports: Sequence[ScanReport], *, verbose: bool, all_findings: bool) -> str:
    if fmt == "json":
        from pipvet.formats.scan.json_format import render_json

        return render_json(reports, all_findings=all_findings)
    if fmt == "sarif":
        from pipvet.formats.scan.sarif import render_sarif

        return render_sarif(reports, all_findings=all_findings)
    from pipvet.formats.scan.text import render_text

    return render_text(reports, verbose=verbose, all_findings=all_findings)
