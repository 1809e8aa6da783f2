"""Auditing a set of packages: the local index (and OSV when online), ignores, fixes, summary.

``audit_packages`` is what ``pipvet audit`` and ``pipvet install`` call; ``summary_line`` is the
one line both print ("3 vulnerabilities (1 high, 2 moderate) in 2 packages").

Known-malware records (OSV ``MAL-``) are kept apart from vulnerabilities: ``AuditReport.malware``,
and ``known_malware`` for callers that need only that (the install gate).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from pipvet.core.matching.findings import (
    Finding,
    MalwareFinding,
    MatchProblem,
    match_malware,
    match_package,
    smallest_fix,
    split_malware,
)
from pipvet.core.matching.osv import Advisory
from pipvet.core.matching.severity import Severity
from pipvet.core.models import PackageId
from pipvet.sources.dependencies.base import Skipped

FAIL_ON_CHOICES = ("unknown", "low", "moderate", "high", "critical", "none")

__all__ = ["AuditReport", "MalwareFinding", "audit_packages", "known_malware", "summary_line"]


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


def _apply_ignores(
    findings: list[Finding], ignores: Sequence[Ignore], today: dt.date
) -> tuple[list[Finding], list[tuple[Finding, Ignore]], list[Ignore], list[Ignore]]:
    active = [i for i in ignores if not i.expired(today)]
    expired = [i for i in ignores if i.expired(today)]
    kept, ignored, used = [], [], set()
    for f in findings:
        hit = next((i for i in active if i.id in f.ids), None)
        if hit is None:
            kept.append(f)
        else:
            ignored.append((f, hit))
            used.add(hit.id)
    unused = [i for i in active if i.id not in used]
    return kept, ignored, expired, unused


def _online_records(
    packages: Sequence[PackageId], osv_url: str | None, local: dict[str, list[Advisory]]
) -> tuple[dict[str, list[Advisory]], list[Skipped], str]:
    from pipvet.sources.advisories.osv_api import fetch_records, osv_base_url, query_ids

    base = osv_base_url(osv_url)
    ids_by_pkg = query_ids(packages, base_url=base)
    known = {name: {i for a in advs for i in (a.id, *a.aliases)} for name, advs in local.items()}
    wanted = {i for p, ids in ids_by_pkg.items() for i in ids if i not in known.get(p.name, ())}
    records, failed = fetch_records(sorted(wanted), base_url=base)
    extra: dict[str, list[Advisory]] = {}
    for p, ids in ids_by_pkg.items():
        extra.setdefault(p.name, []).extend(records[i] for i in ids if i in records)
    skipped = [Skipped(vid, f"OSV record not fetched: {why}") for vid, why in failed]
    return extra, skipped, base


def audit_packages(
    packages: Sequence[PackageId],
    *,
    db_path: Path | None = None,
    online: bool = False,
    osv_url: str | None = None,
    ignores: Iterable[Ignore] = (),
    today: dt.date | None = None,
    source: str = "",
    location: str | None = None,
    skipped: Iterable[Skipped] = (),
) -> AuditReport:
    """Audit packages against the local advisory index (made from the bundled snapshot if there
    is none) and, with ``online``, OSV. Raises ``AdvisoryDbError`` only when no data at all can be
    read; an unreachable OSV becomes a note and the local result stands."""
    from pipvet.sources.advisories.db import AdvisoryDbError
    from pipvet.sources.advisories.snapshot import open_db

    today = today or dt.date.today()
    pkgs = tuple(sorted(set(packages)))
    notes: list[str] = []
    skips: list[Skipped] = list(skipped)
    local: dict[str, list[Advisory]] = {p.name: [] for p in pkgs}
    data_source = data_date = None
    unreadable: list[str] = []
    try:
        opened = open_db(db_path)
    except AdvisoryDbError as exc:
        if not online:
            raise
        notes.append(f"{exc.message}; using OSV only")
    else:
        notes += opened.notes
        info = opened.db.info()
        data_source, data_date = info.describe(), info.date
        local, bad = opened.db.advisories_for(p.name for p in pkgs)
        opened.db.close()
        skips += [Skipped(b.id, b.reason) for b in bad]
        unreadable = sorted({b.id for b in bad})
    online_url = None
    if online:
        from pipvet.sources.advisories.osv_api import OsvUnavailable

        try:
            extra, more, online_url = _online_records(pkgs, osv_url, local)
        except OsvUnavailable as exc:
            notes.append(f"{exc.message}; results are from the local index only")
            skips.append(Skipped("OSV", exc.message))
        else:
            skips += more
            for name, advs in extra.items():
                local.setdefault(name, []).extend(advs)
    findings: list[Finding] = []
    problems: list[MatchProblem] = []
    malware: list[MalwareFinding] = []
    vulns: dict[str, list[Advisory]] = {}
    for p in pkgs:
        advs = local.get(p.name, [])
        malware += match_malware(p, advs)
        vulns[p.name] = split_malware(advs)[1]
        f, probs = match_package(p, vulns[p.name])
        findings += f
        problems += probs
    kept, ignored, expired, unused = _apply_ignores(findings, list(ignores), today)
    fixes = tuple(
        Fix(p, smallest_fix(p, vulns.get(p.name, []))) for p in sorted({f.package for f in kept})
    )
    return AuditReport(
        packages=pkgs,
        findings=tuple(kept),
        ignored=tuple(ignored),
        expired_ignores=tuple(expired),
        unused_ignores=tuple(unused),
        skipped=tuple(skips),
        problems=tuple(problems),
        fixes=fixes,
        data_source=data_source,
        data_date=data_date,
        notes=tuple(notes),
        online=online_url,
        source=source,
        location=location,
        unreadable=tuple(unreadable),
        malware=tuple(malware),
    )


def known_malware(
    packages: Iterable[PackageId], *, db_path: Path | None = None
) -> list[MalwareFinding]:
    """The packages (exact versions) that a known-malware record of the local advisory index
    names, ordered by package then id. Raises ``AdvisoryDbError`` when no index can be read, or
    when a stored record of one of these packages cannot be read back (it could be malware: a
    check that could not run vouches for nothing)."""
    from pipvet.sources.advisories.db import AdvisoryDbError
    from pipvet.sources.advisories.snapshot import open_db

    pkgs = sorted(set(packages))
    opened = open_db(db_path)
    try:
        local, bad = opened.db.advisories_for(p.name for p in pkgs)
    finally:
        opened.db.close()
    if bad:
        raise AdvisoryDbError(
            f"advisory record {bad[0].id} is unreadable ({bad[0].reason})",
            hint="rebuild the index with: pipvet db update",
        )
    return [m for p in pkgs for m in match_malware(p, local.get(p.name, []))]


def upgrade_set(report: AuditReport) -> dict[NormalizedName, Version]:
    """The upgrades ``--fix`` applies: package name -> lowest version clear of known advisories."""
    return {f.package.name: f.version for f in report.fixes if f.version is not None}


def load_ignores(start: Path, cli_ids: Sequence[str] = ()) -> list[Ignore]:
    """Ignores from ``--ignore`` plus ``[tool.pipvet.audit]`` in pyproject.toml and ``[audit]``
    in pipvet.toml (in ``start``): entries ``{id, reason, expires}`` or plain id strings
    (pip-audit#676, #694: ignore with a reason and an expiry, from a config file)."""
    from pipvet.core.errors import InputError

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    out = [Ignore(i) for i in cli_ids]
    for name, keys in (
        ("pyproject.toml", ("tool", "pipvet", "audit")),
        ("pipvet.toml", ("audit",)),
    ):
        path = Path(start) / name
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
        for k in keys:
            table = table.get(k, {}) if isinstance(table, dict) else {}
        entries = table.get("ignore", []) if isinstance(table, dict) else []
        if not isinstance(entries, list):
            raise InputError(f"{path}: {'.'.join(keys)}.ignore must be a list")
        for n, e in enumerate(entries, 1):
            out.append(_ignore_entry(e, f"{path} ignore #{n}"))
    return out


def _ignore_entry(entry: object, where: str) -> Ignore:
    from pipvet.core.errors import InputError

    if isinstance(entry, str):
        return Ignore(entry, origin=where)
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise InputError(f"{where}: expected an id string or a table with id, reason, expires")
    exp = entry.get("expires")
    if isinstance(exp, str):
        try:
            exp = dt.date.fromisoformat(exp)
        except ValueError:
            raise InputError(f"{where}: expires {exp!r} is not a date (YYYY-MM-DD)") from None
    elif isinstance(exp, dt.datetime):
        exp = exp.date()
    elif exp is not None and not isinstance(exp, dt.date):
        raise InputError(f"{where}: expires must be a date (YYYY-MM-DD)")
    return Ignore(entry["id"], str(entry.get("reason", "")), exp, where)
