"""The ``audit`` service: packages from a source, matched against the local advisory index (and
OSV when online), with ignores and fixes; ``--fix`` on a lock re-locks through the lock service.

``audit(AuditRequest)`` is what ``pipvet audit`` calls; ``audit_packages`` is what the install
service calls on its plan. The report model and ``summary_line`` live in
``pipvet.core.reports.audit``.

Known-malware records (OSV ``MAL-``) are kept apart from vulnerabilities: ``AuditReport.malware``,
and ``known_malware`` for callers that need only that (the install gate).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
from pipvet.core.models import PackageId, Skipped
from pipvet.core.progress import Level, Progress, silent
from pipvet.core.reports.audit import (
    FAIL_ON_CHOICES,
    AuditReport,
    Fix,
    Ignore,
    summary_line,
)

__all__ = [
    "FAIL_ON_CHOICES",
    "AuditReport",
    "AuditRequest",
    "Fix",
    "Ignore",
    "MalwareFinding",
    "audit",
    "audit_packages",
    "known_malware",
    "load_ignores",
    "relock_with_fixes",
    "summary_line",
    "upgrade_set",
]


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
    data_age: int | None = None
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
        data_source, data_date, data_age = info.describe(), info.date, info.age_days()
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
        data_age_days=data_age,
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


@dataclass(frozen=True)
class AuditRequest:
    """What to audit: one source (an environment by default), and how."""

    python: str | None = None  # an environment (default: the active venv, else pipvet's own)
    requirements: str | None = None  # a requirements file
    lock: str | None = None  # a lock (requirements lock or pylock)
    pyproject: str | None = None  # a pyproject.toml's dependencies
    index_url: str | None = None  # for resolving unpinned requirements
    db: str | None = None  # advisory database (default: the cache)
    online: bool = False
    osv_url: str | None = None
    ignore: tuple[str, ...] = ()  # advisory ids from the command line
    config_dir: Path | None = field(default=None, compare=False)  # where ignores are read (cwd)


def _source(request: AuditRequest):
    from pipvet.sources.dependencies.environment import EnvironmentSource
    from pipvet.sources.dependencies.lock import LockSource
    from pipvet.sources.dependencies.pyproject import PyprojectSource
    from pipvet.sources.dependencies.requirements import RequirementsSource

    if request.requirements:
        return RequirementsSource(Path(request.requirements), request.index_url)
    if request.lock:
        return LockSource(Path(request.lock))
    if request.pyproject:
        return PyprojectSource(Path(request.pyproject), request.index_url)
    return EnvironmentSource(request.python)


def audit(request: AuditRequest, *, progress: Progress = silent) -> AuditReport:
    """Collect the packages of the request's source and audit them; ``progress`` hears what
    was audited (the environment, file or lock, named)."""
    progress(Level.STATUS, "reading the packages to audit")
    collection = _source(request).collect()
    ignores = load_ignores(request.config_dir or Path.cwd(), request.ignore)
    n = len(collection.packages)
    progress(Level.INFO, f"auditing {n} packages from {collection.description}")
    progress(Level.STATUS, f"matching {n} packages against the advisory data")
    return audit_packages(
        collection.packages,
        db_path=Path(request.db) if request.db else None,
        online=request.online,
        osv_url=request.osv_url,
        ignores=ignores,
        source=collection.description,
        location=collection.location,
        skipped=collection.skipped,
    )


def relock_with_fixes(
    lock_path: str | Path,
    upgrades: dict[NormalizedName, Version],
    *,
    index_url: str | None = None,
    progress: Progress = silent,
) -> str:
    """The lock at ``lock_path`` re-locked with ``upgrades``, every other package kept at its pin,
    through the lock service (every file's sha256, the lock's own form and index). Returns the
    new text; writing it is the caller's job."""
    from pipvet.core.lockfile_io import is_pylock, read_lock, render_pylock, render_requirements
    from pipvet.services.lock import LockRequest, lock

    path = Path(lock_path)
    old = read_lock(path)
    request = LockRequest(
        requirements=tuple(f"{p.name}=={upgrades.get(p.name, p.version)}" for p in old.packages),
        index_url=index_url or old.index_url,
        allow_sdist=tuple(p.name for p in old.packages if p.sdist_allowed),
        previous=str(path),  # a re-uploaded file of a kept pin is refused, as by `pipvet lock`
    )
    report = lock(request, progress=progress)
    if is_pylock(path, path.read_text(encoding="utf-8")):
        return render_pylock(report.lock)
    return render_requirements(
        report.lock, header=f"This file is generated by pipvet audit --fix (from {path.name})."
    )
