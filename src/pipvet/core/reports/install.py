"""What ``install`` returns: where, what it planned, what the audit said, what changed."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.reports.audit import AuditReport


@dataclass(frozen=True)
class PlannedItem:
    requirement: str  # "name==version"
    filename: str  # the file chosen for the target
    build_dependency: bool = False  # staged only so an allowed sdist can be built offline


@dataclass(frozen=True)
class InstallReport:
    python: str  # the target interpreter
    prefix: str  # its environment
    python_version: str
    platform_tag: str  # its most preferred wheel tag
    planned: tuple[PlannedItem, ...]
    changed: tuple[str, ...]  # "name==version" newly installed or replaced
    unchanged: tuple[str, ...]  # already installed at that version
    dry_run: bool = False
    audit: AuditReport | None = None  # None: skipped (--no-audit) or no advisory data

    @property
    def package_count(self) -> int:
        return len([p for p in self.planned if not p.build_dependency])
