"""What the install gate returns: issues (block, warn, allowed), held-back versions, known
malware, the scans it read. The checks are ``pipvet.services.gate``."""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.core.models import PackageId

__all__ = ["GateIssue", "GateReport", "HeldBack", "MalwareHit"]


@dataclass(frozen=True)
class GateIssue:
    """One thing the gate found about one package: what, how it is treated, and where."""

    package: str  # "name" or "name==version"
    rule: str  # "gate.typosquat", or a scan rule id
    action: str  # "block", "warn" or "allowed" (a block lifted by an allowlist entry)
    message: str
    file: str = ""  # artifact file name, for scan findings
    path: str = ""  # member path inside the artifact
    line: int | None = None
    allowed_by: str = ""  # "pyproject.toml:12 (reason, until 2026-12-31)"


@dataclass(frozen=True)
class HeldBack:
    """A package the cooldown kept at an older version."""

    name: str
    newest: str  # what the resolver chose without the cooldown
    chosen: str  # what it chose with it
    uploaded: str  # when ``newest`` was uploaded (ISO 8601)


@dataclass(frozen=True)
class MalwareHit:
    package: PackageId
    id: str
    summary: str


@dataclass(frozen=True)
class GateReport:
    """What the gate found; ``blocked`` is the answer."""

    issues: tuple[GateIssue, ...] = ()
    held_back: tuple[HeldBack, ...] = ()
    malware: tuple[MalwareHit, ...] = ()
    scans: tuple = ()  # pipvet.services.scan.ScanReport of every inspected artifact
    notes: tuple[str, ...] = ()  # things to say that are neither blocks nor warnings

    @property
    def blocks(self) -> tuple[GateIssue, ...]:
        return tuple(i for i in self.issues if i.action == "block")

    @property
    def warnings(self) -> tuple[GateIssue, ...]:
        return tuple(i for i in self.issues if i.action == "warn")

    @property
    def allowed(self) -> tuple[GateIssue, ...]:
        return tuple(i for i in self.issues if i.action == "allowed")

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)

    def merge(self, other: GateReport) -> GateReport:
        return GateReport(
            issues=tuple(dict.fromkeys(self.issues + other.issues)),
            held_back=self.held_back + other.held_back,
            malware=self.malware + other.malware,
            scans=self.scans + other.scans,
            notes=tuple(dict.fromkeys(self.notes + other.notes)),
        )
