"""What ``audit`` returns: findings, what was left out and why, fixes, the one summary line."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from packaging.version import Version

from pipvet.core.matching.findings import Finding, MalwareFinding, MatchProblem
from pipvet.core.models import PackageId, Skipped
from pipvet.core.severity import AUDIT_FAIL_ON, Severity

FAIL_ON_CHOICES = AUDIT_FAIL_ON


@dataclass(frozen=True)
class Ignore:
    """An advisory id to leave out, why, and until when (``expires`` is the last day it applies)."""

    id: str
    reason: str = ""
    expires: dt.date | None = None
    origin: str = "--ignore"

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Fix:
    """The smallest upgrade that clears every known advisory of one package (None: no fix)."""

    package: PackageId
    version: Version | None


@dataclass(frozen=True)
class AuditReport:
    """Everything an audit found, left out and could not check."""

    packages: tuple[PackageId, ...]
    findings: tuple[Finding, ...]
    ignored: tuple[tuple[Finding, Ignore], ...] = ()
    expired_ignores: tuple[Ignore, ...] = ()
    unused_ignores: tuple[Ignore, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    problems: tuple[MatchProblem, ...] = ()
    fixes: tuple[Fix, ...] = ()
    data_source: str | None = None  # one line: where the advisories came from and their age
    data_date: str | None = None
    data_age_days: int | None = None  # days since the advisory data was taken (None: unknown)
    notes: tuple[str, ...] = ()
    online: str | None = None  # the OSV URL consulted, if any
    source: str = ""  # what was audited (the dependency source's description)
    location: str | None = None  # the input file, if any
    unreadable: tuple[str, ...] = ()  # advisory records naming an audited package, unreadable
    malware: tuple[MalwareFinding, ...] = ()  # known-malware records; never ignored, always fail

    def counts(self) -> Counter[Severity]:
        return Counter(f.severity for f in self.findings)

    def vulnerable(self) -> list[PackageId]:
        return sorted({f.package for f in self.findings})

    def fails(self, threshold: str) -> bool:
        """True if a finding is at or above ``threshold`` (``unknown``: any finding at all), and
        always when a package is known malware (whatever the threshold, ``none`` included)."""
        if self.malware:
            return True
        if threshold == "none":
            return False
        if self.unreadable:  # an advisory that could not be read cannot be vouched for
            return True
        limit = Severity.from_label(threshold)
        return any(f.severity >= limit for f in self.findings)

    def fix_for(self, package: PackageId) -> Fix | None:
        return next((f for f in self.fixes if f.package == package), None)


STALE_DAYS = 30  # advisory data older than this gets a warning with the command that refreshes it
REFRESH_COMMAND = "pipvet db update"


def data_date_text(report: AuditReport) -> str:
    """ "advisory data of 2024-06-01 (540 days old)", or that the date is unknown."""
    if not report.data_date:
        return "advisory data of unknown date"
    age = f" ({report.data_age_days} days old)" if report.data_age_days is not None else ""
    return f"advisory data of {report.data_date[:10]}{age}"


def stale_warning(report: AuditReport) -> str | None:
    """One line when the advisory data is older than ``STALE_DAYS`` (or of unknown date)."""
    if report.data_source is None:  # OSV only: no local data to age
        return None
    if report.data_age_days is None:
        return f"the advisory data's date is unknown; refresh it with `{REFRESH_COMMAND}`"
    if report.data_age_days > STALE_DAYS:
        return (
            f"advisory data is {report.data_age_days} days old, newer vulnerabilities are "
            f"unknown; refresh it with `{REFRESH_COMMAND}`"
        )
    return None


_ORDER = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MODERATE,
    Severity.LOW,
    Severity.NONE,
    Severity.UNKNOWN,
)


def summary_line(report: AuditReport) -> str:
    """ "3 vulnerabilities (1 high, 2 moderate) in 2 packages", or a clean result; led by
    "KNOWN MALWARE: evil 1.0; " when a package is known malware."""
    return malware_line(report) + _vulnerability_line(report)


def malware_line(report: AuditReport) -> str:
    """ "KNOWN MALWARE: evil 1.0, bad 2.0; " (with the trailing separator), or ""."""
    if not report.malware:
        return ""
    pkgs = sorted({m.package for m in report.malware})
    return "KNOWN MALWARE: " + ", ".join(f"{p.name} {p.version}" for p in pkgs) + "; "


def _vulnerability_line(report: AuditReport) -> str:
    n = len(report.findings)
    if n == 0 and report.unreadable:
        ids = ", ".join(report.unreadable[:5]) + (" ..." if len(report.unreadable) > 5 else "")
        return (
            f"no readable advisory matched {_plural(len(report.packages), 'package')}, but "
            f"{_plural(len(report.unreadable), 'advisory record')} naming them could not be "
            f"read ({ids}): NOT checked"
        )
    if n == 0:
        return f"no known vulnerabilities in {_plural(len(report.packages), 'package')}"
    counts = report.counts()
    parts = ", ".join(f"{counts[s]} {s.label}" for s in _ORDER if counts[s])
    word = "vulnerability" if n == 1 else "vulnerabilities"
    return f"{n} {word} ({parts}) in {_plural(len(report.vulnerable()), 'package')}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
