"""Output formats of ``pipvet diff``: ``text`` (for people), ``json`` (for tools) and ``markdown``
(a pull-request comment: the summary first, details folded in ``<details>``).

Everything a package wrote (paths, metadata, dependency lines, evidence) goes through ``clean``
before it reaches a terminal: control and invisible characters are shown escaped.
"""

from __future__ import annotations

from collections.abc import Callable

from pipvet.core.diff import BLOCK, OK, WARN, DiffReport, PackageChange
from pipvet.core.text import escape_terminal
from pipvet.formats.registries import DIFF as FORMATS

MAX_GAINS = 4  # capabilities named in a one-line headline before "+N more"


def render(
    report: DiffReport,
    fmt: str,
    *,
    verbose: bool = False,
    color: bool = False,
    quiet: bool = False,
) -> str:
    """The report in one format (``pipvet.formats.registries.DIFF``), ending with a newline
    (``quiet``: text's answer alone)."""
    return FORMATS.render(fmt, report, verbose=verbose, color=color, quiet=quiet)


def clean(text: str) -> str:
    """Text from a package, safe to print (``pipvet.core.text.escape_terminal``)."""
    return escape_terminal(str(text))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def counts_line(report: DiffReport) -> str:
    """ "3 packages changed (2 upgraded, 1 added), 147 unchanged" """
    n = len(report.changes)
    counts = report.counts()
    order = ("upgraded", "downgraded", "added", "removed", "files-changed")
    parts = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))
    head = plural(n, "package") + " changed" + (f" ({parts})" if parts else "")
    if report.unchanged:
        head += f", {report.unchanged} unchanged"
    return head


def changed_things(c: PackageChange, *, limit: int = MAX_GAINS) -> list[str]:
    """What one change brings, in short phrases, worst first (no escaping: callers do it)."""
    out: list[str] = []
    out += [f"re-upload of {r.filename}" for r in c.reuploads]
    if c.known_malware:
        out.append("known malware (" + ", ".join(c.known_malware) + ")")
    gains = [f"gains {g.phrase} in {g.where}" for g in c.gained if not g.peripheral]
    if len(gains) > limit:
        gains = [*gains[:limit], f"+{len(gains) - limit} more"]
    out += gains
    side = sum(1 for g in c.gained if g.peripheral)
    if side:
        out.append(f"{plural(side, 'gain')} in tests or docs")
    if any("no wheel" in t for t in c.install_time):
        out.append("no wheel any more (builds from source)")
    if c.vulns_introduced:
        ids = ", ".join(v.id for v in c.vulns_introduced[:3])
        n = plural(len(c.vulns_introduced), "vulnerability", "vulnerabilities")
        out.append(f"introduces {n} ({ids})")
    if c.problems:
        out.append("could not be inspected completely")
    if c.verdict and c.action != OK and not gains and not c.reuploads:
        out.append(
            f"verdict {c.verdict}, as before" if c.kind != "added" else f"verdict {c.verdict}"
        )
    if c.kind == "added" and not c.gained and c.verdict in ("", "clean"):
        out.append("new package, nothing risky found")
    return out


def versions(c: PackageChange, esc: Callable[[str], str], *, arrow: str = "→") -> str:
    """ "1.2 → 1.3", "new 1.0" or "removed (1.0)", the versions passed through ``esc``."""
    if c.kind == "added":
        return f"new {esc(c.new_version or '')}"
    if c.kind == "removed":
        return f"removed ({esc(c.old_version or '')})"
    if c.old_version == c.new_version:
        return esc(c.new_version or "")
    return f"{esc(c.old_version or '')} {arrow} {esc(c.new_version or '')}"


def headline(c: PackageChange) -> str:
    things = changed_things(c)
    return f"{c.title}: " + (", ".join(things) if things else "nothing risky")


def verdict_line(report: DiffReport) -> str:
    """The one-line answer: blocked, warnings, or nothing risky changed."""
    blocked, warned = report.blocked, report.warned
    risky = [c for c in report.changes if c.risky]
    if not report.changes:
        return "No package changed."
    if blocked:
        return f"{plural(len(blocked), 'package')} blocked by policy" + (
            f", {plural(len(warned), 'warning')}" if warned else ""
        )
    if not risky and not report.problems:
        return "Nothing risky changed."
    if warned:
        return f"{plural(len(warned), 'package')} to review (warnings), none blocked"
    return "Nothing blocked."


ACTION_LABEL = {BLOCK: "BLOCK", WARN: "WARN", OK: "ok"}


def detail_items(
    c: PackageChange, esc: Callable[[str], str], *, arrow: str = "->"
) -> list[tuple[str, str]]:
    """Every detail of one change as (kind, sentence), package text passed through ``esc``.
    Kinds: "gain" (evidence follows as an "evidence" item), "loss", and "other"."""
    out: list[tuple[str, str]] = []
    for g in c.gained:
        aside = ", tests or docs" if g.peripheral else ""
        text = f"gains {esc(g.phrase)} in {esc(g.where)} ({g.severity}, {g.rule}{aside})"
        out.append(("gain", text))
        if g.evidence:
            out.append(("evidence", esc(" ".join(g.evidence.split())[:100])))
    out += [("loss", f"loses {esc(g.phrase)} in {esc(g.where)}") for g in c.lost]
    out += [("other", f"install-time code gained: {esc(t)}") for t in c.install_time]
    for r in c.reuploads:
        out.append(
            (
                "other",
                f"RE-UPLOAD of {esc(r.filename)}: sha256 {r.old_sha256[:16]}... {arrow} "
                f"{r.new_sha256[:16]}... (files on an index must never change: may be tampering)",
            )
        )
    out += [("other", f"known malware: {esc(m)}") for m in c.known_malware]
    for v in c.vulns_introduced:
        fix = f", fixed in {esc(', '.join(v.fixed_in))}" if v.fixed_in else ""
        out.append(("other", f"vulnerability introduced: {esc(v.id)} ({v.severity}{fix}) "
                    f"{esc(v.summary)}"))  # fmt: skip
    out += [("other", f"vulnerability fixed: {esc(v.id)} ({v.severity})") for v in c.vulns_fixed]
    for label, items in (
        ("new dependencies", c.deps_added),
        ("dropped dependencies", c.deps_removed),
        ("files added", c.files_added),
        ("files removed", c.files_removed),
    ):
        if items:
            out.append(("other", f"{label}: " + ", ".join(esc(i) for i in items)))
    for m in c.metadata:
        old = "; ".join(esc(v) for v in m.old) or "(none)"
        new = "; ".join(esc(v) for v in m.new) or "(none)"
        out.append(("other", f"{m.field}: {old} {arrow} {new}"))
    out += [("other", f"could not inspect: {esc(p)}") for p in c.problems]
    return out
