"""Data model of the inspection engine: what an artifact holds, and what the rules found in it.

The archive reader (``pipvet.core.analysis.archive``) turns an artifact into an ``Artifact`` whose
members carry their bytes (source-like files in full, up to a cap; binaries only their first bytes,
enough to recognise ELF, PE or Mach-O). The engine (``pipvet.core.analysis.engine``) runs every rule
over one parse of each member and returns an ``AnalysisResult``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("info", "low", "medium", "high", "critical")
VERDICTS = ("clean", "risky", "suspicious", "malicious")
# files that are scripts for a shell or another interpreter (not Python): shipped, not run by
# installing; the engine gives them the script role, the verdict leaves them out of escalations
SCRIPT_SUFFIXES = (
    ".sh",
    ".bash",
    ".bat",
    ".cmd",
    ".ps1",
    ".psm1",
    ".js",
    ".mjs",
    ".vbs",
    ".command",
)


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: where, how bad, and the evidence (a short excerpt)."""

    rule: str  # stable id, e.g. "install-time.setup-network"
    category: str  # e.g. "install-time", "network", "obfuscation", "archive", "metadata"
    severity: str  # one of SEVERITIES
    path: str  # member path inside the artifact ("" for the artifact itself)
    line: int | None
    message: str  # one-line explanation for a person
    evidence: str = ""  # the offending text, shortened


@dataclass(frozen=True)
class Member:
    """One regular file of an artifact, as bytes. Links and devices never become members."""

    path: str  # path inside the archive, '/'-separated, as stored (top folder kept)
    size: int  # uncompressed size declared/read
    data: bytes  # full content for source-like files; only a prefix for others
    truncated: bool = False  # True when data holds only a prefix
    # printable strings of a binary (native module, executable, bytecode) that hold a network
    # indicator (a URL, a webhook, a host); read past the prefix, within bounds
    strings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Artifact:
    """An artifact read as data: its identity, its members and what reading it revealed."""

    filename: str
    kind: str  # "wheel", "sdist", "zip", "tree", "installed", "file"
    name: str | None = None
    version: str | None = None
    sha256: str | None = None
    members: tuple[Member, ...] = ()
    archive_findings: tuple[Finding, ...] = ()  # traversal, links, bombs, malformed archive...
    metadata: dict[str, list[str]] = field(default_factory=dict)  # PKG-INFO/METADATA headers
    # modification times (whole seconds) of a tar's .py and .pyc members: installers keep them
    # when they unpack an sdist, and Python checks a cached .pyc against its source's time
    member_times: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisResult:
    """The engine's judgement of one artifact."""

    verdict: str  # one of VERDICTS
    score: int  # 0-100 risk score
    findings: tuple[Finding, ...]
    tooling: frozenset[str] = frozenset()  # sdist paths that installing neither runs nor installs
    # paths that look like tests or tooling but run as the package's code (it imports them)
    package_code: frozenset[str] = frozenset()
