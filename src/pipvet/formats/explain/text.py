"""``pipvet explain`` as text: one rule in full, or the list of every rule (one line each)."""

from __future__ import annotations

import textwrap

from pipvet.core.reports.explain import ExplainReport
from pipvet.formats.style import paint


def render(report: ExplainReport, *, color: bool = False, width: int = 100) -> str:
    if report.listing:
        return _listing(report, color=color)
    return "".join(_one(rule, color=color, width=width) for rule in report.rules)


def _listing(report: ExplainReport, *, color: bool) -> str:
    size = max((len(r.id) for r in report.rules), default=0)
    lines = [
        f"{paint(r.id.ljust(size), 'bold', color=color)}  {r.severity:<8}  {r.description}"
        for r in report.rules
    ]
    lines.append(f"{len(report.rules)} rules; `pipvet explain RULE_ID` tells more about one.")
    return "\n".join(lines) + "\n"


def _one(rule, *, color: bool, width: int) -> str:
    def block(title: str, text: str) -> list[str]:
        body = textwrap.wrap(text, width=max(40, width - 2)) or ["(not given)"]
        return [paint(title, "bold", color=color)] + [f"  {line}" for line in body]

    parts = (
        ("What it detects", rule.description),
        ("Why it matters", rule.why),
        ("How to check a finding by hand", rule.check),
        ("When it is a false positive", rule.false_positive),
    )
    head = paint(rule.id, "bold", color=color)
    lines = [f"{head}  ({rule.category}, default severity {rule.severity})"]
    for title, text in parts:
        lines += ["", *block(title, text)]
    return "\n".join(lines) + "\n"
