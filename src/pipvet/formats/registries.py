"""Every report kind's format registry in one light module: the commands read their ``--format``
choices here without importing a single renderer (``pipvet scan`` never loads audit code)."""

from __future__ import annotations

from pipvet.formats.registry import FormatRegistry

AUDIT = FormatRegistry(
    "audit",
    {
        **{
            name: f"pipvet.formats.audit.{name}_format:render"
            for name in ("text", "json", "markdown", "sarif", "cyclonedx")
        },
        "html": "pipvet.formats.html.audit:render",
    },
)
SCAN = FormatRegistry(
    "scan",
    {
        "text": "pipvet.formats.scan.text:render_text",
        "json": "pipvet.formats.scan.json_format:render_json",
        "sarif": "pipvet.formats.scan.sarif:render_sarif",
        "html": "pipvet.formats.html.scan:render",
    },
)
VERIFY = FormatRegistry(
    "verify",
    {
        "text": "pipvet.formats.verify:render_text",
        "json": "pipvet.formats.verify:render_json",
    },
)
LOCK = FormatRegistry(
    "lock",
    {
        "requirements": "pipvet.formats.lock.forms:requirements_form",
        "pylock": "pipvet.formats.lock.forms:pylock_form",
    },
)
DB_INFO = FormatRegistry("db info", {"text": "pipvet.formats.db:render_info"})
EXPLAIN = FormatRegistry("explain", {"text": "pipvet.formats.explain.text:render"})
REPORT = FormatRegistry(
    "report",
    {
        "text": "pipvet.formats.report.text:render",
        "osv": "pipvet.formats.report.osv:render",
        "json": "pipvet.formats.report.json_format:render",
    },
)
DIFF = FormatRegistry(
    "diff",
    {
        **{
            name: f"pipvet.formats.diff.{name}_format:render"
            for name in ("text", "json", "markdown")
        },
        "html": "pipvet.formats.html.diff:render",
    },
)
