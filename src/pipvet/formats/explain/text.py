"""``pipvet explain`` as text: one rule in full, or the list of every rule (one line each)."""

from __future__ import annotations

import textwrap

from pipvet.core.reports.explain import ExplainReport
from pipvet.formats.style import paint, severity


def render(
    report: ExplainReport,
    *,
    color: bool = False,
    width: int = 100,
    quiet: bool = False,
    verbose: bool = False,
) -> str:
    """The listing: one line per rule, cut to ``width`` (``verbose``: whole, with the
    category; ``quiet``: the ids alone). One rule: in full (``quiet``: what it detects)."""
    if report.listing:
        return _listing(report, color=color, width=width, quiet=quiet, verbose=verbose)
    return "".join(_one(rule, color=color, width=width, quiet=quiet) for rule in report.rules)


def _listing(report: ExplainReport, *, color: bool, width: int, quiet: bool, verbose: bool) -> str:
    if quiet:
        return "".join(f"{r.id}\n" for r in report.rules)
    size = max((len(r.id) for r in report.rules), default=0)
    lines = []
    for r in report.rules:
        text = f"{r.category}: {r.description}" if verbose else r.description
        room = width - size - 12
        if not verbose and len(text) > room:
            text = text[: max(10, room - 3)] + "..."
        head = paint(r.id.ljust(size), "bold", color=color)
        lines.append(f"{head}  {severity(f'{r.severity:<8}', r.severity, color=color)}  {text}")
    lines.append(f"{len(report.rules)} rules; `pipvet explain RULE_ID` tells more about one.")
    return "\n".join(lines) + "\n"


def _one(rule, *, color: bool, width: int, quiet: bool = False) -> str:
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
    for title, text in parts[:1] if quiet else parts:
        lines += ["", *block(title, text)]
    return "\n".join(lines) + "\n"
