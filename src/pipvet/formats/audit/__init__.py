"""Output formats for ``pipvet audit``: text, json, markdown, sarif, cyclonedx."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipvet.formats.registries import AUDIT as FORMATS

if TYPE_CHECKING:
    from pipvet.core.reports.audit import AuditReport

__all__ = ["FORMATS", "render"]


def render(report: AuditReport, fmt: str, *, color: bool = False) -> str:
    """The report in one format, as text ending with a newline."""
    return FORMATS.render(fmt, report, color=color)
