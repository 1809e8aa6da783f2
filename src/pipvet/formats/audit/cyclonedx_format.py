"""CycloneDX 1.5 JSON: every audited package as a component, findings as vulnerabilities."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pipvet import __version__
from pipvet.core.matching.severity import Severity
from pipvet.core.reports.audit import AuditReport
from pipvet.formats.audit.common import osv_url, purl

_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "high",
    Severity.MODERATE: "medium",
    Severity.LOW: "low",
    Severity.NONE: "none",
    Severity.UNKNOWN: "unknown",
}


def _method(vector: str | None) -> str:
    if not vector:
        return "other"
    if vector.startswith("CVSS:4."):
        return "CVSSv4"
    if vector.startswith("CVSS:3.1"):
        return "CVSSv31"
    if vector.startswith("CVSS:3."):
        return "CVSSv3"
    return "other"


def to_dict(report: AuditReport, *, serial: str | None = None) -> dict[str, Any]:
    components = [
        {
            "type": "library",
            "bom-ref": purl(p),
            "name": p.name,
            "version": str(p.version),
            "purl": purl(p),
        }
        for p in report.packages
    ]
    vulns: list[dict[str, Any]] = [
        {
            "bom-ref": f"malware-{n}-{m.id}",
            "id": m.id,
            "source": {"name": "OSV", "url": osv_url(m.id)},
            "references": [
                {"id": a, "source": {"name": "OSV", "url": osv_url(a)}} for a in m.aliases
            ],
            "ratings": [{"source": {"name": "OSV"}, "severity": "critical", "method": "other"}],
            "cwes": [506],  # Embedded Malicious Code
            "description": f"Known malware: {m.summary}",
            "recommendation": "Remove this package; rotate any secrets it could read.",
            "affects": [{"ref": purl(m.package)}],
            "properties": [{"name": "pipvet:kind", "value": "malware"}],
        }
        for n, m in enumerate(report.malware)
    ]
    for n, f in enumerate(report.findings):
        rating: dict[str, Any] = {"source": {"name": "OSV"}, "severity": _SEVERITY[f.severity]}
        if f.rating.score is not None:
            rating.update(
                score=f.rating.score, method=_method(f.rating.vector), vector=f.rating.vector
            )
        v: dict[str, Any] = {
            "bom-ref": f"vuln-{n}-{f.id}",
            "id": f.id,
            "source": {"name": "OSV", "url": osv_url(f.id)},
            "references": [
                {"id": a, "source": {"name": "OSV", "url": osv_url(a)}} for a in f.aliases
            ],
            "ratings": [rating],
            "description": f.summary,
            "detail": f.description,
            "affects": [{"ref": purl(f.package)}],
        }
        if f.fixed_in:
            v["recommendation"] = "Upgrade to " + " or ".join(str(x) for x in f.fixed_in)
        vulns.append(v)
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial or f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "tools": {
                "components": [{"type": "application", "name": "pipvet", "version": __version__}]
            },
        },
        "components": components,
        "vulnerabilities": vulns,
    }


def render(report: AuditReport, *, color: bool = False) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
