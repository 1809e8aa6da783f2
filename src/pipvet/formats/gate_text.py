"""The install gate's one summary screen: what will be installed, what was held back, known
malware, vulnerabilities, risky capabilities, warnings, and what is blocked and why."""

from __future__ import annotations

from collections.abc import Sequence

from pipvet.core.reports.gate import GateIssue, GateReport
from pipvet.formats.style import paint

MAX_LINES = 12  # per section; the rest is counted


def _where(issue: GateIssue, *, file: bool = True) -> str:
    parts = [issue.file] if issue.file and (file or not issue.path) else []
    if issue.path:
        parts.append(f"{issue.path}:{issue.line}" if issue.line else issue.path)
    return " ".join(parts)


def _issue_line(issue: GateIssue, *, file: bool = True) -> str:
    """One issue; ``file=False`` (a warning, on the one screen) leaves out the artifact's file
    name when a path inside it says where (the package and version name the artifact)."""
    where = _where(issue, file=file)
    at = f"  at {where}" if where else ""
    return f"    {issue.package}  [{issue.rule}]  {issue.message}{at}"


def _section(
    lines: list[str], title: str, items: Sequence[str], *names: str, color: bool = False
) -> None:
    if not items:
        return
    lines.append(paint(f"  {title}:", *names, color=color))
    lines.extend(items[:MAX_LINES])
    if len(items) > MAX_LINES:
        lines.append(f"    ... and {len(items) - MAX_LINES} more")


def render_summary(
    report: GateReport,
    *,
    plan: Sequence[str] | None,
    audit_line: str | None = None,
    color: bool = False,
) -> str:
    """The summary as text for stderr. ``plan``: what will be installed (None before the
    files are downloaded)."""
    quiet = not (report.issues or report.held_back or report.malware)
    if quiet and plan is not None:  # nothing to say but what was inspected: one line
        counts: dict[str, int] = {}
        for r in report.scans:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
        text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing"
        head = f"install gate: {len(plan)} package(s), {len(report.scans)} file(s) inspected"
        return "\n".join(
            [f"{head} ({text}); nothing blocked"] + [f"  note: {n}" for n in report.notes]
        )
    lines = [paint("install gate:", "bold", color=color)]
    if plan is not None:
        shown = ", ".join(plan[:20]) + (f" and {len(plan) - 20} more" if len(plan) > 20 else "")
        lines.append(f"  to install ({len(plan)}): {shown}")
    _section(
        lines,
        "held back by the cooldown",
        [
            f"    {h.name}: {h.chosen} instead of {h.newest} (uploaded {h.uploaded})"
            for h in report.held_back
        ],
    )
    if audit_line:
        lines.append(f"  vulnerabilities: {audit_line}")
    _section(
        lines,
        "known malware",
        [f"    {m.package}  {m.id}" for m in report.malware],
        "red",
        "bold",
        color=color,
    )
    scan_warn = [i for i in report.warnings if not i.rule.startswith("gate.")]
    gate_warn = [i for i in report.warnings if i.rule.startswith("gate.")]
    _section(
        lines,
        "risky capabilities",
        [_issue_line(i, file=False) for i in scan_warn],
        "yellow",
        color=color,
    )
    _section(
        lines, "warnings", [_issue_line(i, file=False) for i in gate_warn], "yellow", color=color
    )
    _section(
        lines,
        "allowed by the policy (a block lifted)",
        [f"{_issue_line(i)}\n      by {i.allowed_by}" for i in report.allowed],
    )
    _section(lines, "BLOCKED", [_issue_line(i) for i in report.blocks], "red", "bold", color=color)
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.scans:
        counts: dict[str, int] = {}
        for r in report.scans:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
        text = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        lines.append(f"  inspected {len(report.scans)} file(s): {text}")
    if not report.blocks and not report.warnings and len(lines) <= 2:
        lines.append("  nothing to report")
    return "\n".join(lines)
