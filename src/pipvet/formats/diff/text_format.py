"""``pipvet diff`` for people: the answer, one line per changed package, then the details."""

from __future__ import annotations

import sys

from pipvet.cli.console import style
from pipvet.core.diff import BLOCK, OK, WARN, DiffReport, PackageChange
from pipvet.formats.diff import ACTION_LABEL, clean, counts_line, headline, verdict_line

_STYLE = {BLOCK: ("red", "bold"), WARN: ("yellow",), OK: ("green",)}


def _out(text: str, *names: str) -> str:
    return style(text, *names, stream=sys.stdout)


def render(report: DiffReport, *, verbose: bool = False) -> str:
    lines = [
        _out(f"pipvet diff: {clean(report.old_label)} -> {clean(report.new_label)}", "bold"),
        counts_line(report),
        "",
    ]
    ordered = sorted(report.changes, key=lambda c: (-_rank(c.action), c.name))
    for c in ordered:
        if c.action == OK and not c.risky and not verbose and len(ordered) > 30:
            continue  # long updates: the harmless ones are counted, not listed
        label = _out(f"{ACTION_LABEL[c.action]:<5}", *_STYLE[c.action])
        lines.append(f"{label}  {clean(headline(c))}")
    lines += ["", _out(verdict_line(report), "bold")]
    for p in report.problems:
        lines.append(f"problem: {clean(p)}")
    details = [d for c in ordered if (d := _details(c, verbose))]
    if details:
        lines += ["", "details:"]
        for d in details:
            lines += ["", *d]
    for note in report.notes:
        lines.append(_out(f"note: {clean(note)}", "dim"))
    return "\n".join(lines) + "\n"


def _rank(action: str) -> int:
    return {BLOCK: 2, WARN: 1}.get(action, 0)


def _details(c: PackageChange, verbose: bool) -> list[str]:
    out: list[str] = []
    for g in c.gained:
        out.append(f"  gains  {g.severity:<8} {clean(g.phrase)} in {clean(g.where)}  [{g.rule}]")
        if g.evidence and (verbose or g.severity in ("high", "critical")):
            out.append(_out(f"                  {clean(_shorten(g.evidence))}", "dim"))
    for g in c.lost:
        out.append(f"  loses  {g.severity:<8} {clean(g.phrase)} in {clean(g.where)}  [{g.rule}]")
    for t in c.install_time:
        out.append(f"  install-time code gained: {clean(t)}")
    for r in c.reuploads:
        out.append(f"  RE-UPLOAD {clean(r.filename)}: sha256 {r.old_sha256} -> {r.new_sha256}")
        out.append("    files on an index must never change under the same name: may be tampering")
    for m in c.known_malware:
        out.append(f"  known malware: {clean(m)}")
    for v in c.vulns_introduced:
        fix = f", fixed in {', '.join(v.fixed_in)}" if v.fixed_in else ""
        out.append(f"  vulnerability introduced: {v.id} ({v.severity}{fix}) {clean(v.summary)}")
    for v in c.vulns_fixed:
        out.append(f"  vulnerability fixed: {v.id} ({v.severity})")
    if c.deps_added:
        out.append("  new dependencies: " + ", ".join(clean(d) for d in c.deps_added))
    if c.deps_removed:
        out.append("  dropped dependencies: " + ", ".join(clean(d) for d in c.deps_removed))
    for m in c.metadata:
        old = "; ".join(clean(v) for v in m.old) or "(none)"
        new = "; ".join(clean(v) for v in m.new) or "(none)"
        out.append(f"  {m.field}: {old} -> {new}")
    if c.files_added:
        out.append("  files added: " + ", ".join(clean(f) for f in c.files_added))
    if c.files_removed:
        out.append("  files removed: " + ", ".join(clean(f) for f in c.files_removed))
    for p in c.problems:
        out.append(f"  could not inspect: {clean(p)}")
    if not out:
        return []
    why = f" [{c.action}: {'; '.join(c.reasons)}]" if c.reasons else ""
    verdict = f" (verdict {c.verdict})" if c.verdict else ""
    return [_out(clean(c.title), "bold") + verdict + why, *out]


def _shorten(text: str, n: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 3] + "..."
