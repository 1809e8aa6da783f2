"""The HTML reports' one shell: a self-contained page (inline CSS, no scripts, no external
resources) and the pieces scan, audit and diff build theirs from.

Everything a package or an advisory wrote (names, versions, paths, messages, evidence, URLs)
goes through ``esc`` (or ``esc_block`` for excerpts): control and bidi characters are shown as
escapes (``pipvet.core.text``) and then ``html.escape(..., quote=True)`` makes ``<``, ``>``, ``&``
and both quotes inert, in text and in attributes alike. The only links are the page's own anchors
and ``http(s)`` URLs (``link``); any other scheme (``javascript:``, ``data:``) is shown as text.
The page also forbids scripts, plug-ins and outside requests in its Content-Security-Policy, so a
mistake in escaping still could not run anything.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from pipvet import __version__
from pipvet.core.text import escape_terminal

# default-src 'none': no script, frame, font, connection or image from anywhere; only the
# page's own <style> element applies
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.muted, .meta { color: var(--muted); }
.meta { font-size: 13px; margin-bottom: 18px; }
.answer { font-size: 17px; font-weight: 600; margin: 14px 0 4px; }
.next { margin: 4px 0 14px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid
  var(--line); overflow-wrap: anywhere; }
th { white-space: nowrap; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); background: var(--bg); }
td.num { text-align: right; white-space: nowrap; }
td.name { min-width: 16em; }
.badge { display: inline-block; min-width: 5.5em; padding: 1px 7px; border-radius: 4px;
  font-size: 12px; font-weight: 700; text-transform: uppercase; text-align: center;
  white-space: nowrap; border: 1px solid transparent; }
.v-malicious, .s-critical, .a-block { background: #b3001b; color: #fff; }
.v-suspicious, .s-high { background: #c2410c; color: #fff; }
.v-risky, .s-medium, .s-moderate, .a-warn { background: #facc15; color: #3b2f00; }
.v-clean, .a-ok { background: #dcfce7; color: #14532d; }
.s-low { background: #dbeafe; color: #1e3a8a; }
.s-info, .s-none, .s-unknown, .v-unknown { background: #eef0f3; color: #374151;
  border-color: var(--line); }
.finding { margin: 8px 0 12px; padding: 8px 10px; border-left: 4px solid var(--line);
  background: var(--bg); border-radius: 0 4px 4px 0; }
.finding.sev-critical, .finding.sev-high { border-left-color: #b3001b; }
.finding.sev-medium, .finding.sev-moderate { border-left-color: #d4a106; }
.finding .rule { font-weight: 600; }
.finding .where { color: var(--muted); font-size: 13px; }
pre.excerpt { margin: 6px 0 0; padding: 8px 10px; background: #fff; border: 1px solid
  var(--line); border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere;
  max-height: 18em; overflow: auto; }
details { margin: 6px 0; }
details > summary { cursor: pointer; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0;
  font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul { margin: 4px 0; padding-left: 22px; }
footer { margin-top: 36px; font-size: 12px; color: var(--muted); }
@media print { details { display: block; } h2 { break-before: auto; } }
"""


def esc(text: object) -> str:
    """Text from a package or an advisory, inert in HTML text and attributes alike."""
    return html.escape(escape_terminal(str(text)), quote=True)


def esc_block(text: str) -> str:
    """A code excerpt for ``<pre>``: each line escaped, the line breaks kept."""
    return "\n".join(esc(line) for line in str(text).split("\n"))


def link(url: str | None, text: str | None = None) -> str:
    """An ``http(s)`` URL as a link; any other URL (``javascript:``, ``data:``) as plain text."""
    if not url:
        return esc(text or "")
    label = esc(text if text is not None else url)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https") or _UNSAFE_URL_CHARS.intersection(url):
        return label
    return f'<a href="{esc(url)}" rel="noopener noreferrer">{label}</a>'


_UNSAFE_URL_CHARS = frozenset(" \t\r\n\"'<>`\\")


def badge(word: str, prefix: str) -> str:
    """A coloured word: ``prefix`` "v" (verdict), "s" (severity) or "a" (action)."""
    cls = "".join(ch for ch in str(word).lower() if ch.isalnum() or ch == "-")
    return f'<span class="badge {prefix}-{cls}">{esc(word)}</span>'


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    names: Sequence[int] = (),
) -> str:
    """A table of cells that are already HTML (callers escape what they put in); ``numeric``
    columns are right-aligned, ``names`` columns (file names) get room before they wrap."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>'
            if i in numeric
            else f'<td class="name">{c}</td>'
            if i in names
            else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def excerpt(text: str) -> str:
    return f'<pre class="excerpt"><code>{esc_block(text)}</code></pre>' if text else ""


def facts(items: Iterable[tuple[str, str]]) -> str:
    """A definition list of (label, HTML value) pairs, empty values left out."""
    rows = [f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items if v]
    return '<dl class="facts">' + "".join(rows) + "</dl>" if rows else ""


def details(summary: str, inner: str, *, open_: bool = False) -> str:
    """A folded block readable without scripts (``<details>``); ``summary`` is HTML."""
    attr = " open" if open_ else ""
    return f"<details{attr}><summary>{summary}</summary>\n{inner}\n</details>"


def bullets(items: Iterable[str]) -> str:
    """A list of items that are already HTML."""
    lis = "".join(f"<li>{i}</li>" for i in items)
    return f"<ul>{lis}</ul>" if lis else ""


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def finding(severity: str, rule_id: str, message: str, where: str, evidence: str = "") -> str:
    """One finding: its severity, rule (linked to its entry in ``rules_section``), message,
    place and excerpt."""
    rule_ref = f'<a class="rule mono" href="#{rule_anchor(rule_id)}">{esc(rule_id)}</a>'
    return (
        f'<div class="finding sev-{esc(severity)}">'
        f"<div>{badge(severity, 's')} {rule_ref} {esc(message)}</div>"
        f'<div class="where mono">{esc(where)}</div>'
        f"{excerpt(evidence)}</div>"
    )


def rule_anchor(rule_id: str) -> str:
    """The id of a rule's entry in ``rules_section`` (for ``href="#..."``)."""
    return esc("rule-" + "".join(c if c.isalnum() or c in ".-_" else "_" for c in rule_id))


def rules_section(rule_ids: Iterable[str]) -> str:
    """What each rule named in the report detects and how to check it, from the catalogue."""
    from pipvet.core.analysis.catalogue import rule

    ids = sorted(set(rule_ids))
    if not ids:
        return ""
    parts = ["<h2>The rules in this report</h2>"]
    for rid in ids:
        entry = rule(rid)
        parts.append(f'<section id="{rule_anchor(rid)}"><h3 class="mono">{esc(rid)}</h3>')
        if entry is None:
            parts.append('<p class="muted">Not in the rule catalogue.</p></section>')
            continue
        texts = (
            ("What it detects", entry.description),
            ("Why it matters", entry.why),
            ("How to check a finding by hand", entry.check),
            ("When it is a false positive", entry.false_positive),
        )
        parts.append(bullets(f"<b>{esc(t)}:</b> {esc(x)}" for t, x in texts if x))
        parts.append(f'<p class="muted">Also: <code>pipvet explain {esc(rid)}</code></p></section>')
    return "\n".join(parts)


def page(title: str, body: Iterable[str], *, subtitle: str = "", footer: str = "") -> str:
    """The whole document: one file, inline CSS, no scripts, nothing fetched from elsewhere."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f'<meta name="generator" content="pipvet {esc(__version__)}">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{esc(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="meta">{subtitle}</p>')
    tail = f"pipvet {esc(__version__)}" + (f": {footer}" if footer else "")
    parts += [*body, f"<footer>{tail}</footer>", "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
