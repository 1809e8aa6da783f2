"""Output formats for ``pipvet audit``: text, json, markdown, sarif, cyclonedx."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipvet.services.audit import AuditReport

FORMATS = ("text", "json", "markdown", "sarif", "cyclonedx")


def render(report: AuditReport, fmt: str, *, color: bool = False) -> str:
    """The report in one format, as text ending with a newline."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"pipvet.formats.audit.{fmt}_format")
    return module.render(report, color=color)
