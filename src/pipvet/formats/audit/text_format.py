"""Plain text like npm audit: one block per vulnerable package, then the summary and data age."""

from __future__ import annotations

from pipvet.core.matching.severity import Severity
from pipvet.core.reports.audit import AuditReport, summary_line
from pipvet.core.text import escape_terminal as printable
from pipvet.formats.audit.common import by_package, fixed_in_text

_COLORS = {
    Severity.CRITICAL: "\033[1;35m",
    Severity.HIGH: "\033[1;31m",
    Severity.MODERATE: "\033[33m",
    Severity.LOW: "\033[36m",
}


def _sev(sev: Severity, color: bool) -> str:
    text = f"{sev.label:<8}"
    code = _COLORS.get(sev)
    return f"{code}{text}\033[0m" if color and code else text


def _wrap(text: str, width: int) -> list[str]:
    """Break a summary (at most 160 characters) at spaces; cheaper than textwrap for thousands."""
    out = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width + 1)
        cut = cut if cut > 0 else width
        out.append(text[:cut])
        text = text[cut:].lstrip()
    return [*out, text] if text else out


def malware_lines(report: AuditReport, *, color: bool = False) -> list[str]:
    """The "known malware" block that leads the report (empty when there is none)."""
    if not report.malware:
        return []
    head = "known malware: do not install or keep these; remove them and rotate any secrets"
    lines = [f"\033[1;31m{head}\033[0m" if color else head]
    for m in report.malware:
        ids = f"{m.id}" + (f" (aka {', '.join(m.aliases)})" if m.aliases else "")
        lines.append(f"  {m.package.name} {m.package.version}  {ids}")
        lines += [" " * 4 + part for part in _wrap(printable(m.summary), 96)]
    return [*lines, ""]


def render(report: AuditReport, *, color: bool = False) -> str:
    lines: list[str] = malware_lines(report, color=color)
    if report.malware and report.findings:
        lines.append("vulnerabilities")
    for pkg, findings in by_package(report).items():
        fix = report.fix_for(pkg)
        if fix and fix.version:
            action = f"fix: upgrade to {pkg.name}=={fix.version}"
        else:
            action = "no fixed version known"
        n = len(findings)
        word = "vulnerability" if n == 1 else "vulnerabilities"
        lines.append(f"{pkg.name} {pkg.version}  ({n} {word}; {action})")
        for f in findings:
            score = f" {f.rating.score:.1f}" if f.rating.score is not None else ""
            head = f"  {_sev(f.severity, color)}{score:>5}  {f.id}  fixed in {fixed_in_text(f)}"
            if f.aliases:
                head += f"  (aka {', '.join(f.aliases)})"
            lines.append(head)
            lines += [" " * 17 + part for part in _wrap(printable(f.summary), 83)]
        lines.append("")
    if report.ignored:
        ids = ", ".join(f"{f.id} ({f.package.name})" for f, _ in report.ignored)
        lines.append(f"ignored: {ids}")
    lines.append(summary_line(report))
    if report.data_source:
        lines.append(report.data_source)
    if report.online:
        lines.append(f"also checked OSV at {report.online}")
    return "\n".join(lines) + "\n"
