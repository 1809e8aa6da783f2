"""``pipvet scan --format json``: ``{"artifacts": [{name, version, filename, sha256, verdict,
score, findings: [{rule, category, severity, path, line, message, evidence}]}]}``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pipvet.core.reports.scan import ScanReport
from pipvet.formats.scan import shown_findings


def render_json(reports: Sequence[ScanReport], *, all_findings: bool = False) -> str:
    artifacts = []
    for r in reports:
        d = r.to_dict()
        keep = set(map(id, shown_findings(r, include_info=all_findings)))
        d["findings"] = [
            fd for f, fd in zip(r.findings, d["findings"], strict=True) if id(f) in keep
        ]
        artifacts.append(d)
    return json.dumps({"artifacts": artifacts}, indent=2, ensure_ascii=False)
