"""JSON in pip-audit's layout, so tools that read pip-audit read pipvet.

``{"dependencies": [{"name", "version", "vulns": [{"id", "aliases", "fix_versions",
"description"}]}], "fixes": [...]}`` as pip-audit writes it, plus ``severity`` (and ``cvss``) per
vuln and a top-level ``meta``; readers of pip-audit's output ignore keys they do not know.
Known malware is not a vulnerability: it leads as ``"malware": [{"name", "version", "id",
"aliases", "summary"}]``, and each such dependency also gets ``"malware": [ids]``.
"""

from __future__ import annotations

import json
from typing import Any

from pipvet import __version__
from pipvet.core.reports.audit import AuditReport, summary_line


def to_dict(report: AuditReport) -> dict[str, Any]:
    vulns: dict[Any, list[dict[str, Any]]] = {p: [] for p in report.packages}
    for f in report.findings:
        vulns.setdefault(f.package, []).append(
            {
                "id": f.id,
                "aliases": list(f.aliases),
                "fix_versions": [str(v) for v in f.fixed_in],
                "description": f.description,
                "severity": f.severity.label,
                "cvss": (
                    {"score": f.rating.score, "vector": f.rating.vector}
                    if f.rating.score is not None
                    else None
                ),
            }
        )
    deps: list[dict[str, Any]] = [
        {"name": p.name, "version": str(p.version), "vulns": vulns[p]} for p in sorted(vulns)
    ]
    deps += [{"name": s.subject, "skip_reason": s.reason} for s in report.skipped]
    fixes = [
        {
            "name": fx.package.name,
            "old_version": str(fx.package.version),
            "new_version": str(fx.version),
        }
        for fx in report.fixes
        if fx.version is not None
    ]
    counts = report.counts()
    malware = [
        {
            "name": m.package.name,
            "version": str(m.package.version),
            "id": m.id,
            "aliases": list(m.aliases),
            "summary": m.summary,
        }
        for m in report.malware
    ]
    ids_of: dict[tuple[str, str], list[str]] = {}
    for m in report.malware:
        ids_of.setdefault((m.package.name, str(m.package.version)), []).append(m.id)
    for d in deps:
        if (d.get("name"), d.get("version")) in ids_of:
            d["malware"] = ids_of[(d["name"], d["version"])]
    return {
        "malware": malware,
        "dependencies": deps,
        "fixes": fixes,
        "meta": {
            "tool": f"pipvet {__version__}",
            "source": report.source,
            "summary": summary_line(report),
            "counts": {s.label: n for s, n in sorted(counts.items(), reverse=True)},
            "advisory_data": report.data_source,
            "advisory_data_date": report.data_date,
            "osv": report.online,
            "ignored": [
                {
                    "id": f.id,
                    "package": f.package.name,
                    "reason": i.reason,
                    "expires": i.expires.isoformat() if i.expires else None,
                }
                for f, i in report.ignored
            ],
            "expired_ignores": [
                {
                    "id": i.id,
                    "expired": i.expires.isoformat() if i.expires else None,
                    "origin": i.origin,
                }
                for i in report.expired_ignores
            ],
            "notes": list(report.notes),
            "problems": [
                {"package": p.package.name, "advisory": p.advisory_id, "reason": p.reason}
                for p in report.problems
            ],
        },
    }


def render(report: AuditReport, *, color: bool = False) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
