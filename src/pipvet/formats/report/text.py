"""``pipvet report`` as text to paste into PyPI's malware report or a mail to PyPI's security
contact; ``how_to_send`` says where each form goes (printed on stderr, never sent)."""

from __future__ import annotations

from pipvet.core.reports.suspicious import SuspiciousPackageReport
from pipvet.core.text import escape_terminal

MAX_EVIDENCE = 25


def render(report: SuspiciousPackageReport) -> str:
    r = report
    e = escape_terminal
    title = f"{e(r.name)} {e(r.version or '(version unknown)')}"
    lines = [
        f"Suspected malicious package on PyPI: {title}",
        "",
        f"pipvet {r.engine} verdict: {r.verdict}: {e(r.summary)}",
        "",
        "What it does:",
        *[f"- {e(b)}" for b in r.behaviours],
    ]
    if not r.behaviours:
        lines.append("- nothing the inspection could name")
    lines += ["", "Files (sha256):"]
    for a in r.artifacts:
        lines.append(f"- {e(a.filename)}  sha256 {a.sha256 or 'unknown'}  ({a.verdict})")
        if a.url:
            lines.append(f"  served at {e(a.url)}")
        if a.upload_time:
            lines.append(f"  uploaded {e(a.upload_time)}")
    if r.index_url:
        lines.append(f"Index: {e(r.index_url)}")
    lines += ["", "Evidence (file:line, rule, what, excerpt):"]
    for ev in r.evidence[:MAX_EVIDENCE]:
        where = f"{ev.path}:{ev.line}" if ev.line else ev.path or ev.artifact
        lines.append(f"- {e(ev.artifact)}: {e(where)}  [{ev.severity}] {ev.rule}: {e(ev.message)}")
        if ev.snippet:
            lines.append(f"    {e(ev.snippet)}")
        if ev.view_url:
            lines.append(f"    view: {e(ev.view_url)}")
    if len(r.evidence) > MAX_EVIDENCE:
        lines.append(f"- ... and {len(r.evidence) - MAX_EVIDENCE} more (--format json has all)")
    if r.inspector_url:
        lines += [
            "",
            f"Every file can be read online in PyPI's public file viewer: {e(r.inspector_url)}",
        ]
    lines += [
        "",
        f"Found by static inspection (no code run) with pipvet, {r.generated}. Please verify.",
    ]
    return "\n".join(lines) + "\n"


def how_to_send(report: SuspiciousPackageReport, *, output_format: str) -> list[str]:
    """Where and how to send each form of the report; pipvet itself sends nothing."""
    name = escape_terminal(report.name)
    return [
        "pipvet sent nothing. To report this package:",
        f"  1. PyPI: sign in and use 'Report project as malware' on {report.project_url}",
        "     (paste the text report), or mail it to security@pypi.org.",
        "  2. OpenSSF malicious-packages: `pipvet report ... --format osv -o FILE`, then open a",
        "     pull request to https://github.com/ossf/malicious-packages adding it as",
        f"     osv/malicious/pypi/{name}/{report.draft_id}.json (they assign the final id).",
        "Check the evidence yourself first (`pipvet explain RULE_ID` tells how).",
    ]
