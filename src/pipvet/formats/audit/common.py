"""Helpers the audit formats share."""

from __future__ import annotations

from collections import defaultdict

from pipvet.core.matching.findings import Finding
from pipvet.core.models import PackageId
from pipvet.core.reports.audit import AuditReport


def by_package(report: AuditReport) -> dict[PackageId, list[Finding]]:
    """Findings grouped by package, packages in name order, worst finding first."""
    out: dict[PackageId, list[Finding]] = defaultdict(list)
    for f in report.findings:
        out[f.package].append(f)
    return {p: sorted(out[p], key=lambda f: (-f.severity, f.id)) for p in sorted(out)}


def fixed_in_text(f: Finding) -> str:
    return ", ".join(str(v) for v in f.fixed_in) if f.fixed_in else "no fix known"


def osv_url(vid: str) -> str:
    return f"https://osv.dev/vulnerability/{vid}"


def purl(p: PackageId) -> str:
    return f"pkg:pypi/{p.name}@{p.version}"
