"""``pipvet scan --format html``: the verdicts first (one table row per artifact), then each
package's findings grouped by severity with their excerpts, then what each rule found means."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from pipvet.core.analysis.catalogue import reason
from pipvet.core.analysis.model import SEVERITIES, Finding
from pipvet.core.reports.scan import ScanReport
from pipvet.formats.html import (
    badge,
    details,
    esc,
    facts,
    finding,
    page,
    plural,
    rules_section,
    table,
)
from pipvet.formats.scan import shown_findings, worst_first

OPEN_SEVERITIES = ("critical", "high", "medium")  # shown unfolded; low and info are folded
_NEEDS_REPORT = ("malicious", "suspicious")


def render(
    reports: Sequence[ScanReport], *, verbose: bool = False, all_findings: bool = False
) -> str:
    ordered = worst_first(reports)
    anchors = {id(r): f"artifact-{i}" for i, r in enumerate(ordered, 1)}
    include_info = all_findings or verbose
    shown = {
        id(r): shown_findings(r, include_info=include_info)
        for r in ordered
        if all_findings or r.verdict != "clean"
    }
    body = [*_answer(ordered), _summary_table(ordered, anchors, shown)]
    for key, group in _by_package(ordered):
        body.append(_package_section(key, group, anchors, shown))
    body.append(rules_section(f.rule for found in shown.values() for f in found))
    counts = _verdict_counts(ordered)
    subtitle = esc(f"{plural(len(ordered), 'artifact')} scanned: {counts}")
    return page(
        "pipvet scan report",
        body,
        subtitle=subtitle,
        footer="packages were read as data; nothing was installed, built or run.",
    )


def _verdict_counts(ordered: Sequence[ScanReport]) -> str:
    counts: dict[str, int] = {}
    for r in ordered:
        counts[str(r.verdict)] = counts.get(str(r.verdict), 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items()) or "nothing"


def _answer(ordered: Sequence[ScanReport]) -> list[str]:
    if not ordered:
        return ['<p class="answer">Nothing was scanned.</p>']
    bad = [r for r in ordered if r.verdict in _NEEDS_REPORT]
    worst = ordered[0]
    if not bad:
        risky = [r for r in ordered if r.verdict == "risky"]
        text = (
            f"No artifact looks malicious; {len(risky)} of {plural(len(ordered), 'artifact')} "
            f"{'is' if len(risky) == 1 else 'are'} risky (capabilities worth knowing)."
            if risky
            else "No artifact looks malicious or risky."
        )
        return [f'<p class="answer">{esc(text)}</p>']
    n = len(ordered)
    what = (
        f"{len(bad)} of {plural(n, 'artifact')} {'looks' if len(bad) == 1 else 'look'} "
        "malicious or suspicious: "
        f"do not install {'it' if len(bad) == 1 else 'them'} before a review."
    )
    out = [f'<p class="answer">{badge(str(worst.verdict), "v")} {esc(what)}</p>']
    target = worst.source if worst.source and worst.kind != "installed" else worst.filename
    out.append(
        '<p class="next">Next: <code>pipvet report '
        f"{esc(shlex.quote(target))}</code> writes the evidence for PyPI's malware report; "
        "<code>pipvet explain RULE_ID</code> says how to check a finding by hand.</p>"
    )
    return out


def _severity_counts(found: Sequence[Finding]) -> str:
    counts = {s: 0 for s in reversed(SEVERITIES)}
    for f in found:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none shown"


def _summary_table(
    ordered: Sequence[ScanReport], anchors: dict[int, str], shown: dict[int, list[Finding]]
) -> str:
    rows = []
    for r in ordered:
        found = shown.get(id(r))
        name = f'<a href="#{anchors[id(r)]}">{esc(r.filename)}</a>' if found else esc(r.filename)
        package = esc(f"{r.name} {r.version or ''}".strip()) if r.name else ""
        rows.append(
            (
                badge(str(r.verdict), "v"),
                name,
                package,
                str(r.score),
                esc(_severity_counts(found or [])) if found is not None else "",
                esc(reason(r.verdict, r.findings)),
            )
        )
    head = ("Verdict", "Artifact", "Package", "Score", "Findings", "Why")
    return "<h2>Verdicts</h2>\n" + table(head, rows, numeric=(3,), names=(1,))


def _by_package(ordered: Sequence[ScanReport]) -> list[tuple[str, list[ScanReport]]]:
    """Artifacts of one package (name and version, else the file name) together, worst first."""
    groups: dict[str, list[ScanReport]] = {}
    for r in ordered:
        key = f"{r.name} {r.version or ''}".strip() if r.name else r.filename
        groups.setdefault(key, []).append(r)
    return list(groups.items())


def _package_section(
    key: str,
    group: Sequence[ScanReport],
    anchors: dict[int, str],
    shown: dict[int, list[Finding]],
) -> str:
    parts = [f"<h2>{esc(key)}</h2>"]
    for r in group:
        parts.append(f'<section id="{anchors[id(r)]}">')
        parts.append(f"<h3>{badge(str(r.verdict), 'v')} {esc(r.filename)}</h3>")
        parts.append(f"<p>{esc(reason(r.verdict, r.findings))} (score {r.score})</p>")
        parts.append(
            facts(
                (
                    ("sha256", f'<span class="mono">{esc(r.sha256)}</span>' if r.sha256 else ""),
                    ("kind", esc(r.kind)),
                    ("scanned as", esc(r.source) if r.source and r.source != r.filename else ""),
                    ("note", esc(r.note)),
                )
            )
        )
        found = shown.get(id(r))
        if found is None:
            parts.append('<p class="muted">Clean: findings are left out (--all-findings).</p>')
        elif not found:
            parts.append('<p class="muted">No findings to show.</p>')
        else:
            parts += _severity_groups(found)
        parts.append("</section>")
    return "\n".join(parts)


def _severity_groups(found: Sequence[Finding]) -> list[str]:
    out = []
    for sev in reversed(SEVERITIES):
        these = [f for f in found if f.severity == sev]
        if not these:
            continue
        summary = f"{badge(sev, 's')} {esc(plural(len(these), 'finding'))}"
        inner = "\n".join(_finding(f) for f in these)
        out.append(details(summary, inner, open_=sev in OPEN_SEVERITIES))
    return out


def _finding(f: Finding) -> str:
    where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "(the artifact itself)")
    return finding(f.severity, f.rule, f.message, where, f.evidence)
