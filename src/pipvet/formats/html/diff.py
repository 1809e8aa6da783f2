"""``pipvet diff --format html``: the answer and one row per changed package first (blocks, then
warnings), then each package's gained capabilities grouped by severity with their excerpts, the
rest of what it changes, and what each rule found means."""

from __future__ import annotations

from pipvet.core.analysis.model import SEVERITIES
from pipvet.core.diff import BLOCK, OK, WARN, DiffReport, PackageChange
from pipvet.formats.diff import (
    ACTION_LABEL,
    changed_things,
    counts_line,
    detail_items,
    verdict_line,
    versions,
)
from pipvet.formats.html import (
    badge,
    bullets,
    details,
    esc,
    facts,
    finding,
    page,
    plural,
    rules_section,
    table,
)

OPEN_SEVERITIES = ("critical", "high", "medium")
_RANK = {BLOCK: 0, WARN: 1, OK: 2}


def render(report: DiffReport, *, verbose: bool = False) -> str:
    ordered = sorted(report.changes, key=lambda c: (_RANK[c.action], c.name))
    worth = [c for c in ordered if c.risky or c.action != OK or verbose]
    anchors = {id(c): f"change-{i}" for i, c in enumerate(worth, 1)}
    body = [
        f'<p class="answer">{badge(ACTION_LABEL[report.action], "a")} '
        f"{esc(verdict_line(report))}</p>",
        *(f"<p><b>Problem:</b> {esc(p)}</p>" for p in report.problems),
        _changes_table(ordered, anchors),
    ]
    body += [_section(c, anchors[id(c)]) for c in worth]
    quiet = [c for c in ordered if id(c) not in anchors]
    if quiet:
        items = bullets(esc(c.title) for c in quiet)
        body.append(details(esc(f"{plural(len(quiet), 'other change')}: nothing risky"), items))
    body.append(rules_section(g.rule for c in worth for g in (*c.gained, *c.lost)))
    if report.notes:
        body.append("<h2>Notes</h2>\n" + bullets(esc(n) for n in report.notes))
    subtitle = f"{esc(report.old_label)} &rarr; {esc(report.new_label)}: {esc(counts_line(report))}"
    return page(
        "pipvet diff report",
        body,
        subtitle=subtitle,
        footer="files were hash-checked and read as data; nothing was installed, built or run.",
    )


def _versions(c: PackageChange) -> str:
    return versions(c, esc, arrow="&rarr;")


def _changes_table(ordered: list[PackageChange], anchors: dict[int, str]) -> str:
    if not ordered:
        return ""
    rows = []
    for c in ordered:
        name = esc(c.name)
        if id(c) in anchors:
            name = f'<a href="#{anchors[id(c)]}">{name}</a>'
        things = "; ".join(esc(t) for t in changed_things(c, limit=6)) or "nothing risky"
        rows.append(
            (
                badge(ACTION_LABEL[c.action], "a"),
                name,
                _versions(c),
                badge(c.verdict, "v") if c.verdict else "",
                things,
            )
        )
    head = ("Action", "Package", "Version", "Verdict", "What changed")
    return "<h2>Changes</h2>\n" + table(head, rows)


def _section(c: PackageChange, anchor: str) -> str:
    head = f"{badge(ACTION_LABEL[c.action], 'a')} {esc(c.name)} {_versions(c)}"
    parts = [f'<section id="{anchor}">', f"<h2>{head}</h2>"]
    if c.reasons:
        parts.append(f"<p><b>{esc(c.action)}:</b> " + "; ".join(esc(r) for r in c.reasons) + "</p>")
    parts.append(
        facts(
            (
                ("verdict", badge(c.verdict, "v") if c.verdict else ""),
                ("inspected", ", ".join(esc(a) for a in c.artifacts)),
            )
        )
    )
    for sev in reversed(SEVERITIES):
        gains = [g for g in c.gained if g.severity == sev]
        if not gains:
            continue
        summary = (
            f"{badge(sev, 's')} {esc(plural(len(gains), 'capability', 'capabilities'))} gained"
        )
        inner = "\n".join(
            finding(
                g.severity,
                g.rule,
                f"gains {g.phrase}" + (" (tests or docs)" if g.peripheral else ""),
                g.where,
                g.evidence,
            )
            for g in gains
        )
        parts.append(details(summary, inner, open_=sev in OPEN_SEVERITIES))
    if c.lost:
        lost = bullets(f"{esc(g.phrase)} in <code>{esc(g.where)}</code>" for g in c.lost)
        parts.append(
            details(esc(f"{plural(len(c.lost), 'capability', 'capabilities')} lost"), lost)
        )
    others = [text for kind, text in detail_items(c, esc, arrow="&rarr;") if kind == "other"]
    if others:
        parts.append("<h3>Also</h3>\n" + bullets(others))
    if len(parts) == 3 and not c.gained and not c.lost:
        parts.append('<p class="muted">Nothing risky.</p>')
    parts.append("</section>")
    return "\n".join(parts)
