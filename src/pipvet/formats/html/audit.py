"""``pipvet audit --format html``: the answer and one row per vulnerable package first (known
malware before everything), then every advisory grouped by package and severity, then what the
audit left out."""

from __future__ import annotations

from urllib.parse import quote

from pipvet.core.matching.findings import Finding
from pipvet.core.matching.severity import Severity
from pipvet.core.reports.audit import AuditReport, data_date_text, stale_warning, summary_line
from pipvet.formats.audit.common import by_package, fixed_in_text
from pipvet.formats.html import badge, bullets, details, esc, facts, link, page, plural, table

OPEN_SEVERITIES = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MODERATE,
    Severity.UNKNOWN,
)  # unrated: could be any


def render(report: AuditReport, *, fix_command: str = "pipvet audit --fix") -> str:
    groups = by_package(report)
    body = [*_answer(report, fix_command), *_malware(report), _packages_table(report, groups)]
    for pkg, findings in groups.items():
        body.append(f'<h2 id="{_anchor(pkg.name)}">{esc(pkg.name)} {esc(pkg.version)}</h2>')
        fix = report.fix_for(pkg)
        if fix and fix.version:
            body.append(f"<p>Fix: upgrade to <code>{esc(f'{pkg.name}=={fix.version}')}</code>.</p>")
        else:
            body.append("<p>No version clear of every advisory is known.</p>")
        for sev in dict.fromkeys(f.severity for f in findings):  # worst first
            these = [f for f in findings if f.severity == sev]
            if these:
                summary = (
                    f"{badge(sev.label, 's')} {esc(plural(len(these), 'advisory', 'advisories'))}"
                )
                inner = "\n".join(_advisory(f) for f in these)
                body.append(details(summary, inner, open_=sev in OPEN_SEVERITIES))
    body.append(_left_out(report))
    subtitle = esc(
        (f"{report.source}; " if report.source else "")
        + data_date_text(report)
        + (f"; also OSV at {report.online}" if report.online else "")
    )
    return page(
        "pipvet audit report",
        body,
        subtitle=subtitle,
        footer=esc(report.data_source or "advisories from the OSV API"),
    )


def _anchor(name: str) -> str:
    return esc("pkg-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in name))


def _answer(report: AuditReport, fix_command: str) -> list[str]:
    worst = max((f.severity for f in report.findings), default=None)
    if report.malware:
        mark = badge("malware", "v")
    elif worst is not None:
        mark = badge(worst.label, "s")
    elif report.unreadable:
        mark = badge("unknown", "v")
    else:
        mark = badge("clean", "v")
    out = [f'<p class="answer">{mark} {esc(summary_line(report))}</p>']
    stale = stale_warning(report)
    if stale:
        out.append(f"<p><b>Warning:</b> {esc(stale)}</p>")
    if report.findings and any(f.version for f in report.fixes):
        command, _, why = fix_command.partition("  ")
        out.append(f'<p class="next">Next: <code>{esc(command)}</code> {esc(why)}</p>')
    return out


def _malware(report: AuditReport) -> list[str]:
    if not report.malware:
        return []
    rows = [
        (
            esc(m.package.name),
            esc(m.package.version),
            _id_link(m.id) + (f" ({esc(', '.join(m.aliases))})" if m.aliases else ""),
            esc(m.summary),
        )
        for m in report.malware
    ]
    return [
        "<h2>Known malware</h2>",
        "<p><b>Do not install or keep these: remove them and rotate any secrets the "
        "environment could reach.</b></p>",
        table(("Package", "Version", "ID", "Summary"), rows),
    ]


def _packages_table(report: AuditReport, groups: dict) -> str:
    if not groups:
        return ""
    rows = []
    for pkg, findings in groups.items():
        fix = report.fix_for(pkg)
        rows.append(
            (
                f'<a href="#{_anchor(pkg.name)}">{esc(pkg.name)}</a>',
                esc(pkg.version),
                badge(findings[0].severity.label, "s"),
                str(len(findings)),
                esc(f"{fix.version}" if fix and fix.version else "no fixed version known"),
            )
        )
    head = ("Package", "Version", "Worst", "Advisories", "Fixed in")
    return "<h2>Vulnerable packages</h2>\n" + table(head, rows, numeric=(3,))


def _id_link(vid: str) -> str:
    return link(f"https://osv.dev/vulnerability/{quote(vid, safe='')}", vid)


def _advisory(f: Finding) -> str:
    score = f" {f.rating.score:.1f}" if f.rating.score is not None else ""
    head = f"{badge(f.severity.label, 's')} {_id_link(f.id)}{esc(score)}"
    if f.aliases:
        head += f' <span class="muted">aka {", ".join(_id_link(a) for a in f.aliases)}</span>'
    parts = [
        f'<div class="finding sev-{esc(f.severity.label)}"><div>{head}</div>',
        f"<p>{esc(f.summary)}</p>" if f.summary else "",
        facts(
            (
                ("fixed in", esc(fixed_in_text(f))),
                (
                    "CVSS",
                    f'<span class="mono">{esc(f.rating.vector)}</span>' if f.rating.vector else "",
                ),
                ("advisory", link(f.url) if f.url else ""),
            )
        ),
    ]
    if f.description and f.description.strip() != f.summary.strip():
        parts.append(details("details", f"<p>{esc(f.description)}</p>"))
    parts.append("</div>")
    return "".join(parts)


def _left_out(report: AuditReport) -> str:
    items = []
    for f, ign in report.ignored:
        why = ign.reason or "no reason given"
        items.append(
            f"ignored {esc(f.id)} in {esc(f.package.name)} ({esc(why)}; {esc(ign.origin)})"
        )
    for ign in report.expired_ignores:
        items.append(f"ignore of {esc(ign.id)} expired on {esc(ign.expires)}: it no longer applies")
    for s in report.skipped:
        items.append(f"not audited: {esc(s.subject)}: {esc(s.reason)}")
    for pr in report.problems:
        items.append(
            f"not fully evaluated: {esc(pr.package)} {esc(pr.advisory_id)}: {esc(pr.reason)}"
        )
    for vid in report.unreadable:
        items.append(f"advisory record could not be read: {esc(vid)} (not checked)")
    items += [esc(n) for n in report.notes]
    if not items:
        return ""
    return "<h2>Left out or not checked</h2>\n" + bullets(items)
