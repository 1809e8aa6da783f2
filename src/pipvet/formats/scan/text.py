"""``pipvet scan`` for people: verdicts first (worst first), then the top findings by severity."""

from __future__ import annotations

from collections.abc import Sequence

from pipvet.core.analysis.catalogue import reason
from pipvet.core.reports.scan import ScanReport
from pipvet.core.text import escape_terminal
from pipvet.formats.scan import shown_findings, worst_first
from pipvet.formats.style import paint, severity
from pipvet.formats.style import verdict as verdict_style

TOP = 5  # findings per artifact before "N more (use -v)"


def _where(path: str, line: int | None) -> str:
    if not path:
        return "(artifact)"
    path = escape_terminal(path)
    return f"{path}:{line}" if line else path


def render_text(
    reports: Sequence[ScanReport],
    *,
    verbose: bool = False,
    all_findings: bool = False,
    color: bool = False,
    quiet: bool = False,
) -> str:
    """One verdict line per artifact and the count, then each flagged artifact's top findings
    (``verbose``: all, with evidence; ``quiet``: the count and the artifacts that are not
    clean, one line each)."""

    def _out(text: str, *names: str) -> str:
        return paint(text, *names, color=color)

    ordered = worst_first(reports)
    lines: list[str] = []
    width = max((len(r.filename) for r in ordered), default=0)
    width = min(width, 60)
    for r in ordered:
        if quiet and r.verdict == "clean":
            continue
        verdict = verdict_style(f"{str(r.verdict).upper():<10}", r.verdict, color=color)
        lines.append(f"{verdict}  {escape_terminal(r.filename):<{width}}  score {r.score:>3}")
    counts: dict[str, int] = {}
    for r in ordered:
        counts[str(r.verdict)] = counts.get(str(r.verdict), 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: kv[0]))
    if lines:
        lines.append("")
    lines.append(f"{len(ordered)} artifact{'s' if len(ordered) != 1 else ''} scanned: {summary}")
    if quiet:
        return "\n".join(lines)
    for r in ordered:
        if r.verdict == "clean" and not all_findings:
            continue
        found = shown_findings(r, include_info=all_findings or verbose)
        if not found:
            continue
        lines.append("")
        head = f"{escape_terminal(r.filename)} ({r.verdict}, score {r.score})"
        lines.append(_out(head, "bold") + f": {escape_terminal(reason(r.verdict, r.findings))}")
        show = found if verbose else found[:TOP]
        for f in show:
            sev = severity(f"{f.severity:<8}", f.severity, color=color)
            lines.append(f"  {sev}  {escape_terminal(f.message)}  [{f.rule}]")
            lines.append(f"            at {_where(f.path, f.line)}")
            if f.evidence and (verbose or f.severity in ("high", "critical")):
                lines.append(_out(f"            {_shorten(f.evidence)}", "dim"))
        if len(found) > len(show):
            lines.append(f"  ... {len(found) - len(show)} more (use -v)")
    return "\n".join(lines)


def _shorten(text: str, n: int = 100) -> str:
    flat = escape_terminal(" ".join(text.split()))
    return flat if len(flat) <= n else flat[: n - 3] + "..."
