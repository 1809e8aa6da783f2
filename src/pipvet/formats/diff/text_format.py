"""``pipvet diff`` for people: the answer, one line per changed package, then the details."""

from __future__ import annotations

from pipvet.core.diff import BLOCK, OK, WARN, DiffReport, PackageChange
from pipvet.formats.diff import (
    ACTION_LABEL,
    clean,
    counts_line,
    detail_items,
    headline,
    verdict_line,
)
from pipvet.formats.style import paint

_STYLE = {BLOCK: ("red", "bold"), WARN: ("yellow",), OK: ("green",)}


def render(
    report: DiffReport, *, verbose: bool = False, color: bool = False, quiet: bool = False
) -> str:
    """The answer, the counts, one line per changed package, the details; ``quiet``: the
    answer (and what could not be read) alone."""

    def _out(text: str, *names: str) -> str:
        return paint(text, *names, color=color)

    if quiet:
        problems = [f"problem: {clean(p)}" for p in report.problems]
        return "\n".join([_out(verdict_line(report), "bold"), *problems]) + "\n"

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
    details = [d for c in ordered if (d := _details(c, verbose, _out))]
    if details:
        lines += ["", "details:"]
        for d in details:
            lines += ["", *d]
    for note in report.notes:
        lines.append(_out(f"note: {clean(note)}", "dim"))
    return "\n".join(lines) + "\n"


def _rank(action: str) -> int:
    return {BLOCK: 2, WARN: 1}.get(action, 0)


def _details(c: PackageChange, verbose: bool, _out) -> list[str]:
    out: list[str] = []
    show_evidence = False
    for kind, text in detail_items(c, clean):
        if kind == "evidence":
            if verbose or show_evidence:
                out.append(_out(f"      {text}", "dim"))
            continue
        show_evidence = kind == "gain" and any(f"({s}, " in text for s in ("high", "critical"))
        out.append(f"  {text}")
    if not out:
        return []
    why = f" [{c.action}: {'; '.join(c.reasons)}]" if c.reasons else ""
    verdict = f" (verdict {c.verdict})" if c.verdict else ""
    return [_out(clean(c.title), "bold") + verdict + why, *out]
