"""A Markdown table, for pull-request comments and job summaries."""

from __future__ import annotations

from pipvet.core.reports.audit import AuditReport, summary_line
from pipvet.formats.audit.common import by_package, fixed_in_text, osv_url


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: AuditReport, *, color: bool = False) -> str:
    lines = [f"**{summary_line(report)}**", ""]
    if report.malware:
        lines += [
            "### Known malware",
            "",
            "| Package | Version | ID | Summary |",
            "| --- | --- | --- | --- |",
        ]
        for m in report.malware:
            ids = f"[{m.id}]({osv_url(m.id)})"
            if m.aliases:
                ids += " (" + ", ".join(m.aliases) + ")"
            lines.append(f"| {m.package.name} | {m.package.version} | {ids} | {_cell(m.summary)} |")
        lines.append("")
    groups = by_package(report)
    if groups and report.malware:
        lines += ["### Vulnerabilities", ""]
    if groups:
        lines += [
            "| Package | Version | ID | Severity | Fixed in | Summary |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for pkg, findings in groups.items():
            for f in findings:
                ids = f"[{f.id}]({osv_url(f.id)})"
                if f.aliases:
                    ids += " (" + ", ".join(f.aliases) + ")"
                lines.append(
                    f"| {pkg.name} | {pkg.version} | {ids} | {f.severity.label} | "
                    f"{fixed_in_text(f)} | {_cell(f.summary)} |"
                )
        lines.append("")
    if report.data_source:
        lines.append(f"_{report.data_source}_")
    return "\n".join(lines) + "\n"
