"""Output formats of ``pipvet check-names``: ``text`` (for people) and ``json`` (for tools).

JSON: ``{"names": [{"name", "typosquat_of", "reason"}]}``, ``typosquat_of`` null when clean.
"""

from __future__ import annotations

import json

from pipvet.core.reports.names import NamesReport
from pipvet.core.text import escape_terminal as printable

FORMATS = ("text", "json")


def to_dict(report: NamesReport) -> dict:
    return {
        "names": [
            {"name": c.name, "typosquat_of": c.typosquat_of, "reason": c.reason}
            for c in report.checks
        ]
    }


def render_text(report: NamesReport) -> str:
    lines = []
    for c in report.checks:
        verdict = f"typosquat? {c.reason}" if c.flagged else "ok"
        lines.append(f"{printable(c.name)}: {verdict}")
    n = len(report.flagged)
    lines.append(
        f"{n} of {len(report.checks)} names look like typosquats of popular projects"
        if n
        else f"no typosquats among {len(report.checks)} names"
    )
    return "\n".join(lines) + "\n"


def render(report: NamesReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2) + "\n"
    if fmt == "text":
        return render_text(report)
    raise ValueError(f"unknown format {fmt!r}")
