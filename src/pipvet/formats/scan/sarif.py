"""``pipvet scan --format sarif``: SARIF 2.1.0, one run, one result per finding."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pipvet.core.analysis.catalogue import rule as catalogue_rule
from pipvet.core.reports.scan import ScanReport
from pipvet.formats.sarif import sarif_log
from pipvet.formats.scan import shown_findings

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "none"}


def _rule_metadata(rule_id: str, message: str, category: str) -> dict:
    """SARIF ``reportingDescriptor`` of a rule, from the rule catalogue."""
    entry = catalogue_rule(rule_id)
    if entry is None:  # an id the catalogue does not know (a test keeps this from happening)
        return {
            "id": rule_id,
            "shortDescription": {"text": message},
            "properties": {"category": category},
        }
    return {
        "id": entry.id,
        "name": entry.name,
        "shortDescription": {"text": entry.description},
        "help": {
            "text": f"How to check: {entry.check} False positive when: {entry.false_positive}"
        },
        "defaultConfiguration": {"level": _LEVEL.get(entry.severity, "warning")},
        "properties": {"category": entry.category, "severity": entry.severity},
    }


def render_sarif(reports: Sequence[ScanReport], *, all_findings: bool = False) -> str:
    rules: dict[str, dict] = {}
    results = []
    for r in reports:
        for f in shown_findings(r, include_info=all_findings):
            if f.rule not in rules:
                rules[f.rule] = _rule_metadata(f.rule, f.message, f.category)
            uri = f"{r.filename}/{f.path}" if f.path else r.filename
            region = {"startLine": f.line} if f.line else None
            location = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
            if region:
                location["physicalLocation"]["region"] = region
            results.append(
                {
                    "ruleId": f.rule,
                    "level": _LEVEL.get(f.severity, "warning"),
                    "message": {"text": f"{f.message} ({r.filename}: {r.verdict})"},
                    "locations": [location],
                    "properties": {
                        "severity": f.severity,
                        "evidence": f.evidence,
                        "artifact": r.filename,
                        "sha256": r.sha256,
                        "verdict": r.verdict,
                        "score": r.score,
                    },
                }
            )
    doc = sarif_log(list(rules.values()), results)
    return json.dumps(doc, indent=2, ensure_ascii=False)
