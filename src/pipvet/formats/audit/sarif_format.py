"""SARIF 2.1.0 for code scanning (pip-audit#206, uv#19660): one rule per advisory, one result per
vulnerable package; ``security-severity`` carries the CVSS score GitHub uses to rank results."""

from __future__ import annotations

import json
from typing import Any

from pipvet.core.matching.severity import Severity
from pipvet.core.reports.audit import AuditReport
from pipvet.formats.audit.common import fixed_in_text, osv_url
from pipvet.formats.sarif import sarif_log

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MODERATE: "warning",
    Severity.LOW: "note",
    Severity.NONE: "note",
    Severity.UNKNOWN: "warning",
}
_DEFAULT_SCORE = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MODERATE: 5.5,
    Severity.LOW: 2.0,
    Severity.NONE: 0.0,
}


def to_dict(report: AuditReport) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    uri = report.location or "requirements.txt"
    for m in report.malware:
        if m.id not in rules:
            rules[m.id] = {
                "id": m.id,
                "name": "KnownMalware",
                "shortDescription": {"text": m.summary or m.id},
                "fullDescription": {"text": m.summary or m.id},
                "helpUri": osv_url(m.id),
                "help": {"text": "Known malware: remove it and rotate any secrets it could read."},
                "defaultConfiguration": {"level": "error"},
                "properties": {
                    "tags": ["security", "malware", *m.aliases],
                    "security-severity": "10.0",
                },
            }
        results.append(
            {
                "ruleId": m.id,
                "level": "error",
                "message": {
                    "text": f"{m.package.name} {m.package.version} is known malware ({m.id}): "
                    f"{m.summary}"
                },
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                "partialFingerprints": {"package/id": f"{m.package}/{m.id}"},
            }
        )
    for f in report.findings:
        if f.id not in rules:
            score = f.rating.score if f.rating.score is not None else _DEFAULT_SCORE.get(f.severity)
            props: dict[str, Any] = {"tags": ["security", "vulnerability", *f.aliases]}
            if score is not None:
                props["security-severity"] = f"{score:.1f}"
            rules[f.id] = {
                "id": f.id,
                "name": "KnownVulnerability",
                "shortDescription": {"text": f.summary or f.id},
                "fullDescription": {"text": f.description or f.summary or f.id},
                "helpUri": f.url or osv_url(f.id),
                "help": {"text": f"Upgrade to a fixed version ({fixed_in_text(f)})."},
                "defaultConfiguration": {"level": _LEVEL[f.severity]},
                "properties": props,
            }
        results.append(
            {
                "ruleId": f.id,
                "level": _LEVEL[f.severity],
                "message": {
                    "text": f"{f.package.name} {f.package.version} is affected by {f.id} "
                    f"({f.severity.label}): {f.summary} Fixed in {fixed_in_text(f)}."
                },
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                "partialFingerprints": {"package/id": f"{f.package}/{f.id}"},
            }
        )
    return sarif_log(
        list(rules.values()), results, information_uri="https://github.com/pipvet/pipvet"
    )


def render(report: AuditReport, *, color: bool = False) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
