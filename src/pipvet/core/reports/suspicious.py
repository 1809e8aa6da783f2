"""What ``pipvet report`` returns: a suspicious package's evidence, ready to be reported."""

from __future__ import annotations

from dataclasses import dataclass

INSPECTOR = "https://inspector.pypi.io/project"


@dataclass(frozen=True)
class ReportedArtifact:
    """One file of the package as inspected."""

    filename: str
    sha256: str | None
    verdict: str
    score: int
    url: str | None = None  # where the index serves it (None: a local file)
    upload_time: str | None = None  # from the index (PEP 700), when known
    view_url: str | None = None  # the file in PyPI's public inspector, when it can be named


@dataclass(frozen=True)
class Evidence:
    """One finding, with where to see it."""

    artifact: str  # the artifact's filename
    rule: str
    severity: str
    path: str  # member path inside the artifact
    line: int | None
    message: str
    snippet: str  # the offending text, shortened
    view_url: str | None = None


@dataclass(frozen=True)
class SuspiciousPackageReport:
    name: str
    version: str | None
    verdict: str  # the worst verdict of its artifacts
    summary: str  # one line: what the package does (the verdict's reason)
    behaviours: tuple[str, ...]  # one line per rule found: what it does
    artifacts: tuple[ReportedArtifact, ...]
    evidence: tuple[Evidence, ...]  # worst first
    index_url: str | None  # the index it was fetched from (None: a local artifact)
    generated: str  # ISO 8601 UTC, when the report was built
    engine: str  # pipvet's analysis engine version

    @property
    def project_url(self) -> str:
        return f"https://pypi.org/project/{self.name}/"

    @property
    def inspector_url(self) -> str | None:
        """PyPI's public file viewer for this release."""
        return f"{INSPECTOR}/{self.name}/{self.version}/" if self.version else None

    @property
    def draft_id(self) -> str:
        """A draft OSV id; the malicious-packages maintainers assign the real one."""
        sha = next((a.sha256 for a in self.artifacts if a.sha256), None) or "0" * 12
        return f"MAL-0000-pipvet-{sha[:12]}"
