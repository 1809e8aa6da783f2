"""From matched advisories to findings: alias merging, severity and fix versions.

Advisories that alias each other (PYSEC, GHSA, CVE ids, linked either way) become one finding that
lists every id; union-find over ``id`` and ``aliases``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.version import Version

from pipvet.core.matching.osv import Advisory, version_key
from pipvet.core.matching.ranges import advisory_verdict, all_fix_versions, is_affected
from pipvet.core.matching.severity import Rating, Severity, rate
from pipvet.core.models import PackageId

_PREFERRED = ("GHSA-", "PYSEC-", "CVE-")


@dataclass(frozen=True)
class Finding:
    """One vulnerability of one package: all ids that name it, its rating, and fix versions."""

    package: PackageId
    id: str  # the primary id
    aliases: tuple[str, ...]  # every other id (sorted)
    rating: Rating
    summary: str
    description: str
    fixed_in: tuple[Version, ...]  # the smallest fixed version above the installed one, per range
    url: str | None = None
    advisory_ids: tuple[str, ...] = ()  # the records that were merged

    @property
    def severity(self) -> Severity:
        return self.rating.severity

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class MalwareFinding:
    """A known-malware record (OSV ``MAL-``) naming this exact package version: not a
    vulnerability with a fix, a package that must not be installed at all."""

    package: PackageId
    id: str  # the MAL- id when there is one
    summary: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchProblem:
    """An advisory that could not be fully evaluated for a package (e.g. unparsable versions)."""

    package: PackageId
    advisory_id: str
    reason: str


def _primary(ids: Iterable[str], record_ids: Iterable[str]) -> str:
    records = sorted(record_ids)
    for prefix in _PREFERRED:
        for i in records:
            if i.startswith(prefix):
                return i
    for prefix in _PREFERRED:
        for i in sorted(ids):
            if i.startswith(prefix):
                return i
    return records[0] if records else sorted(ids)[0]


def merge_aliases(advisories: Sequence[Advisory]) -> list[list[Advisory]]:
    """Group advisories that share an id or alias, transitively (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for adv in advisories:
        for alias in adv.aliases:
            parent[find(alias)] = find(adv.id)
        find(adv.id)
    groups: dict[str, list[Advisory]] = {}
    for adv in advisories:
        groups.setdefault(find(adv.id), []).append(adv)
    return list(groups.values())


def match_package(
    package: PackageId, advisories: Sequence[Advisory]
) -> tuple[list[Finding], list[MatchProblem]]:
    """Match one package against the advisories naming it; merged, rated findings and problems."""
    hits: list[tuple[Advisory, tuple[Version, ...]]] = []
    problems: list[MatchProblem] = []
    seen: set[str] = set()
    key = version_key(str(package.version))
    for adv in advisories:
        if adv.id in seen:
            continue
        seen.add(adv.id)
        if not is_affected(adv, package.name, package.version, key) and not any(
            rng.parsed[1] for e in adv.affected_for(package.name) for rng in e.ranges
        ):
            continue  # the common case: not affected, nothing to report
        verdict = advisory_verdict(adv, package.name, package.version, key)
        for p in verdict.problems:
            problems.append(MatchProblem(package, adv.id, p))
        if verdict.affected:
            hits.append((adv, verdict.fixed_in))
    fixes_of = {adv.id: fixes for adv, fixes in hits}
    findings = []
    for group in merge_aliases([adv for adv, _ in hits]):
        ids = {a.id for a in group} | {x for a in group for x in a.aliases}
        primary = _primary(ids, (a.id for a in group))
        ratings = [rate(a, package.name) for a in group]
        rating = max(ratings, key=lambda r: (r.severity, r.score or 0.0))
        fixed: set[Version] = set()
        for a in group:
            fixed.update(fixes_of[a.id])
        main = next((a for a in group if a.id == primary), group[0])
        findings.append(
            Finding(
                package=package,
                id=primary,
                aliases=tuple(sorted(ids - {primary})),
                rating=rating,
                summary=main.one_line,
                description=main.details or main.summary,
                fixed_in=tuple(sorted(fixed)),
                url=next((a.url for a in group if a.url), None),
                advisory_ids=tuple(sorted(a.id for a in group)),
            )
        )
    findings.sort(key=lambda f: (-f.severity, f.id))
    return findings, problems


def malware_ids(advisories: Sequence[Advisory]) -> frozenset[str]:
    """Every id and alias of the malware records among ``advisories``."""
    return frozenset(i for a in advisories if a.malicious for i in (a.id, *a.aliases))


def split_malware(advisories: Sequence[Advisory]) -> tuple[list[Advisory], list[Advisory]]:
    """(malware records, vulnerability records): a record that aliases a malware record (the
    same report republished, e.g. as a GHSA) counts as malware too, never as a vulnerability."""
    bad = malware_ids(advisories)
    mal, vul = [], []
    for a in advisories:
        (mal if a.malicious or a.id in bad or bad.intersection(a.aliases) else vul).append(a)
    return mal, vul


def match_malware(package: PackageId, advisories: Sequence[Advisory]) -> list[MalwareFinding]:
    """The malware records (see ``split_malware``) that affect ``package``, aliases merged."""
    mal, _ = split_malware(advisories)
    key = version_key(str(package.version))
    hits = [a for a in mal if is_affected(a, package.name, package.version, key)]
    out = []
    for group in merge_aliases(hits):
        ids = {a.id for a in group} | {x for a in group for x in a.aliases}
        primary = min(ids, key=lambda i: (not i.upper().startswith("MAL-"), i))
        main = next((a for a in group if a.id == primary), group[0])
        out.append(MalwareFinding(package, primary, main.one_line, tuple(sorted(ids - {primary}))))
    return sorted(out, key=lambda m: m.id)


def smallest_fix(
    package: PackageId, advisories: Sequence[Advisory], *, floor: Version | None = None
) -> Version | None:
    """The lowest version above ``package.version`` that no advisory of the package affects.

    Candidates are the ``fixed`` versions the advisories name; each is checked against every
    advisory, so an upgrade never lands in another known range; final releases are preferred
    over pre-releases. None when no candidate is clean. Call it for vulnerable packages.
    ``floor`` skips candidates known to be affected (below a current finding's own fix).
    """
    candidates: set[Version] = set()
    for adv in advisories:
        if not adv.withdrawn:
            candidates.update(
                v
                for v in all_fix_versions(adv, package.name)
                if v > package.version and (floor is None or v >= floor)
            )
    # Final releases first: pip does not pick pre-releases unless asked (or already on one).
    ordered = sorted(
        candidates, key=lambda v: (v.is_prerelease and not package.version.is_prerelease, v)
    )
    live = [a for a in advisories if not a.withdrawn]
    known_bad: list[tuple[Version, Version]] = []  # [c, fix) spans still inside a range
    for cand in ordered:
        if any(lo <= cand < hi for lo, hi in known_bad):
            continue
        key = version_key(str(cand))
        for i, adv in enumerate(live):
            if is_affected(adv, package.name, cand, key):
                live.insert(0, live.pop(i))  # the advisory that rejected one is likely to again
                verdict = advisory_verdict(adv, package.name, cand, key)
                if verdict.fixed_in:
                    known_bad.append((cand, verdict.fixed_in[0]))
                break
        else:
            return cand
    return None
