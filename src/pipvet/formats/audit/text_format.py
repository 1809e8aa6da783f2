"""Plain text like npm audit. By default one screen: known malware first, one line per vulnerable
package (name, version, worst severity, advisory count, fixed in), the summary line, the advisory
data's date and the next command. ``verbose``: one block per package with every advisory.
``quiet``: the summary line alone."""

from __future__ import annotations

from pipvet.core.matching.severity import Severity
from pipvet.core.reports.audit import AuditReport, data_date_text, summary_line
from pipvet.core.text import escape_terminal as printable
from pipvet.formats.audit.common import by_package, fixed_in_text
from pipvet.formats.style import paint, severity


def _sev(sev: Severity, color: bool) -> str:
    return severity(f"{sev.label:<8}", sev.label, color=color)


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
    lines = [paint(head, "blocked", color=color)]
    for m in report.malware:
        ids = f"{m.id}" + (f" (aka {', '.join(m.aliases)})" if m.aliases else "")
        lines.append(f"  {m.package.name} {m.package.version}  {ids}")
        lines += [" " * 4 + part for part in _wrap(printable(m.summary), 96)]
    return [*lines, ""]


def render(
    report: AuditReport,
    *,
    color: bool = False,
    verbose: bool = False,
    quiet: bool = False,
    fix_command: str = "pipvet audit --fix",
) -> str:
    if quiet:
        return summary_line(report) + "\n"
    if verbose:
        return _blocks(report, color=color)
    lines: list[str] = malware_lines(report, color=color)
    if report.malware and report.findings:
        lines.append("vulnerabilities")
    rows = []
    for pkg, findings in by_package(report).items():
        fix = report.fix_for(pkg)
        n = len(findings)
        rows.append(
            (
                printable(f"{pkg.name} {pkg.version}"),
                findings[0].severity,
                f"{n} {'advisory' if n == 1 else 'advisories'}",
                f"fixed in {fix.version}" if fix and fix.version else "no fixed version known",
            )
        )
    width = max((len(r[0]) for r in rows), default=0)
    for package, sev, count, fixed in rows:
        lines.append(f"{package:<{width}}  {_sev(sev, color)}  {count:<13}  {fixed}")
    if rows:
        lines.append("")
    if report.ignored:
        lines.append(f"ignored: {len(report.ignored)} (-v names them)")
    lines.append(summary_line(report))
    lines.append(
        data_date_text(report) + (f"; also OSV at {report.online}" if report.online else "")
    )
    if report.findings:
        if any(f.version for f in report.fixes):
            command, _, why = fix_command.partition("  ")
            lines.append(f"next: `{command}` {why}".rstrip())
        lines.append("details: add -v for every advisory")
    return "\n".join(lines) + "\n"


def _blocks(report: AuditReport, *, color: bool) -> str:
    """The full view: one block per vulnerable package with every advisory."""
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
