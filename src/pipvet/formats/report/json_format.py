"""``pipvet report --format json``: the report model as JSON."""

from __future__ import annotations

import dataclasses
import json

from pipvet.core.reports.suspicious import SuspiciousPackageReport


def render(report: SuspiciousPackageReport) -> str:
    doc = dataclasses.asdict(report)
    doc["draft_osv_id"] = report.draft_id
    doc["inspector_url"] = report.inspector_url
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
