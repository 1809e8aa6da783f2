"""``pipvet diff --format json``: the whole report, plus the policy's answer."""

from __future__ import annotations

import dataclasses
import json

from pipvet.core.diff import DiffReport
from pipvet.formats.diff import counts_line, verdict_line


def render(report: DiffReport, *, verbose: bool = False) -> str:
    doc = {
        "old": report.old_label,
        "new": report.new_label,
        "action": report.action,
        "summary": f"{counts_line(report)}. {verdict_line(report)}",
        "unchanged": report.unchanged,
        "changes": [
            {**dataclasses.asdict(c), "title": c.title, "risky": c.risky} for c in report.changes
        ],
        "notes": list(report.notes),
        "problems": list(report.problems),
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
