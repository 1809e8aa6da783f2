"""What ``scan`` reads (``ScanInput``) and returns (``ScanReport`` per artifact, ``ScanRun``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from pipvet.core.analysis.model import Finding
from pipvet.core.severity import Severity


class Verdict(str, enum.Enum):
    """An artifact's verdict, ordered from clean to malicious; compares equal to its word."""

    CLEAN = "clean"
    RISKY = "risky"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"

    @property
    def rank(self) -> int:
        return _VERDICT_ORDER.index(self)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def of(cls, word: str) -> Verdict:
        return word if isinstance(word, Verdict) else cls(word)


_VERDICT_ORDER = (Verdict.CLEAN, Verdict.RISKY, Verdict.SUSPICIOUS, Verdict.MALICIOUS)
VERDICTS = tuple(v.value for v in _VERDICT_ORDER)


def verdict_rank(verdict: str) -> int:
    """0 (clean) to 3 (malicious); an unknown word ranks above every verdict (fail closed)."""
    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)


def finding_severity(f: Finding) -> Severity:
    """A scan finding's severity on the shared scale (the engine writes the scan word)."""
    return Severity.from_label(f.severity)


@dataclass(frozen=True)
class ScanInput:
    """One thing to read: an artifact file, a source tree, or listed files of an installation."""

    path: Path
    label: str  # what the user asked for ("requests==2.32.3", a path, "installed: rich")
    kind: str = "file"  # "file" (artifact or loose file), "tree", "installed"
    files: tuple[str, ...] = ()  # for "installed": RECORD paths relative to ``path``
    allowed_root: Path | None = None  # for "installed": the environment prefix


@dataclass(frozen=True)
class ScanReport:
    """The result for one artifact."""

    filename: str
    name: str | None
    version: str | None
    sha256: str | None
    kind: str
    verdict: Verdict
    score: int
    findings: tuple[Finding, ...]
    source: str = ""  # the target it came from
    cached: bool = False
    note: str = ""  # said with -v, e.g. a cached result that failed its integrity check

    def to_dict(self) -> dict:
        """The JSON shape of ``pipvet scan --format json`` (one artifact)."""
        return {
            "name": self.name,
            "version": self.version,
            "filename": self.filename,
            "sha256": self.sha256,
            "verdict": str(self.verdict),
            "score": self.score,
            "findings": [
                {
                    "rule": f.rule,
                    "category": f.category,
                    "severity": f.severity,
                    "path": f.path,
                    "line": f.line,
                    "message": f.message,
                    "evidence": f.evidence,
                }
                for f in self.findings
            ],
        }

    @classmethod
    def from_dict(cls, d: dict, *, kind: str = "", source: str = "", cached: bool = False):
        return cls(
            filename=d["filename"],
            name=d.get("name"),
            version=d.get("version"),
            sha256=d.get("sha256"),
            kind=d.get("kind", kind),
            verdict=Verdict.of(d["verdict"]),
            score=int(d["score"]),
            findings=tuple(
                Finding(
                    f["rule"],
                    f["category"],
                    f["severity"],
                    f["path"],
                    f.get("line"),
                    f["message"],
                    f.get("evidence", ""),
                )
                for f in d["findings"]
            ),
            source=source,
            cached=cached,
        )


@dataclass(frozen=True)
class ScanRun:
    """Everything one ``scan`` returned: a report per artifact, in input order, and notes for
    the user (skipped requirement lines, folders read as trees)."""

    reports: tuple[ScanReport, ...]
    notes: tuple[str, ...] = ()

    def at_or_above(self, threshold: str) -> list[ScanReport]:
        limit = verdict_rank(threshold)
        return [r for r in self.reports if verdict_rank(r.verdict) >= limit]
