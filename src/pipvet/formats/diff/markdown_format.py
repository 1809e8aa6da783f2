"""``pipvet diff --format markdown``: a pull-request comment. The answer and a table of what
needs a look come first; everything else is folded in ``<details>``. Text from packages is
escaped so it cannot add links, HTML, mentions or table cells."""

from __future__ import annotations

import re

from pipvet.core.diff import BLOCK, OK, WARN, DiffReport, PackageChange
from pipvet.formats.diff import (
    changed_things,
    clean,
    counts_line,
    detail_items,
    plural,
    verdict_line,
    versions,
)

_ICON = {BLOCK: ":no_entry: block", WARN: ":warning: review", OK: ":white_check_mark: ok"}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#@!~])")


def md(text: str) -> str:
    """Package-provided text as inert Markdown (one line)."""
    flat = " ".join(clean(text).split())
    return _SPECIAL.sub(lambda m: "\\" + m.group(1), flat)


def render(report: DiffReport, *, verbose: bool = False) -> str:
    lines = [
        f"### pipvet diff: {md(verdict_line(report))}",
        "",
        f"{md(counts_line(report))} ({md(report.old_label)} → {md(report.new_label)})",
        "",
    ]
    rank = {BLOCK: 0, WARN: 1, OK: 2}
    shown = sorted(
        (c for c in report.changes if c.risky or c.action != OK),
        key=lambda c: (rank[c.action], c.name),
    )
    if shown:
        lines += ["| | Package | Version | What changed |", "| --- | --- | --- | --- |"]
        for c in shown:
            version = versions(c, md)
            things = "; ".join(md(t) for t in changed_things(c, limit=6)) or "nothing risky"
            lines.append(f"| {_ICON[c.action]} | {md(c.name)} | {version} | {things} |")
        lines.append("")
    for p in report.problems:
        lines.append(f"- problem: {md(p)}")
    body = [_section(c) for c in sorted(report.changes, key=lambda c: (rank[c.action], c.name))]
    if body:
        lines += [
            "<details>",
            f"<summary>Details: {plural(len(report.changes), 'changed package')}</summary>",
            "",
        ]
        for section in body:
            lines += [*section, ""]
        lines.append("</details>")
        lines.append("")
    if report.notes:
        lines.append("_" + md("; ".join(report.notes)) + "_")
    return "\n".join(lines) + "\n"


def _section(c: PackageChange) -> list[str]:
    head = f"#### {md(c.name)} {versions(c, md)}"
    if c.verdict:
        head += f" (verdict {c.verdict})"
    out = [head, ""]
    if c.reasons:
        out.append(f"- **{c.action}**: " + "; ".join(md(r) for r in c.reasons))
    out += [f"- {t}" for kind, t in detail_items(c, md, arrow="→") if kind != "evidence"]
    if len(out) == 2:
        out.append("- nothing risky")
    return out
