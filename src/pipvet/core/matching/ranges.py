"""Exact OSV matching for the PyPI ecosystem, with PEP 440 ordering (``packaging.version``).

A version is affected by an ``affected`` entry when it is listed in ``versions`` or falls inside one
of its ``ECOSYSTEM`` ranges, evaluated as the OSV schema's reference algorithm does: events sorted
by version ("0" first), the last event at or below the version decides. ``limited`` events cap a
range (only versions below a limit are affected). Versions that do not parse as PEP 440 are reported
in ``problems`` instead of raising (listed versions that are not PEP 440 are compared as strings).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from pipvet.core.matching.osv import Advisory, Affected, Event, Range, version_key


@dataclass(frozen=True)
class RangeVerdict:
    """Whether one affected entry covers a version, the fix versions it names, and any problems."""

    affected: bool
    fixed_in: tuple[Version, ...] = ()
    problems: tuple[str, ...] = ()


def range_affects(rng: Range, version: Version) -> tuple[bool, tuple[Version, ...], list[str]]:
    """Evaluate one ECOSYSTEM range: (affected, smallest fix above ``version``, problems)."""
    events, problems = rng.parsed
    affected = False
    limits: list[Version] = []
    for v, ev in events:
        if ev.kind == "introduced" and (ev.value == "0" or version >= v):
            affected = True
        elif (ev.kind == "fixed" and version >= v) or (ev.kind == "last_affected" and version > v):
            affected = False
        elif ev.kind == "limited":
            limits.append(v)
    if affected and limits and not any(version < lim for lim in limits):
        affected = False
    if problems and not events:
        affected = False
    fixes: tuple[Version, ...] = ()
    if affected:
        above = [v for v, ev in events if ev.kind == "fixed" and v > version]
        fixes = (min(above),) if above else ()
    return affected, fixes, list(problems)


def _listed(entry: Affected, version: Version, key: str | None) -> bool:
    # Listed strings that are not PEP 440 (legacy "0.9-eevee") are compared as written: an
    # installed PEP 440 version can only be such a string exactly, so nothing is lost.
    good, bad, _ = entry.parsed_versions
    if key is None:
        key = version_key(str(version))
    return key in good or (bool(bad) and str(version) in bad)


def affected_verdict(entry: Affected, version: Version, key: str | None = None) -> RangeVerdict:
    """Whether ``version`` is affected by one ``affected`` entry (ranges or explicit versions)."""
    affected = False
    fixes: list[Version] = []
    problems: list[str] = []
    for rng in entry.ranges:
        if rng.type != "ECOSYSTEM":
            continue  # GIT/SEMVER ranges do not order PyPI versions; the versions list covers them
        hit, fix, probs = range_affects(rng, version)
        problems += probs
        if hit:
            affected = True
            fixes += fix
    affected = affected or _listed(entry, version, key)
    return RangeVerdict(affected, tuple(sorted(set(fixes))), tuple(problems))


def advisory_verdict(
    advisory: Advisory, name: str, version: Version, key: str | None = None
) -> RangeVerdict:
    """Combine every ``affected`` entry of an advisory for one package; withdrawn never affects."""
    if advisory.withdrawn:
        return RangeVerdict(False)
    key = key or version_key(str(version))
    affected = False
    fixes: set[Version] = set()
    problems: list[str] = []
    for entry in advisory.affected_for(name):
        v = affected_verdict(entry, version, key)
        problems += v.problems
        if v.affected:
            affected = True
            fixes.update(v.fixed_in)
    return RangeVerdict(affected, tuple(sorted(fixes)), tuple(problems))


def is_affected(advisory: Advisory, name: str, version: Version, key: str) -> bool:
    """``advisory_verdict(...).affected`` without collecting fixes or problems (hot loops)."""
    if advisory.withdrawn:
        return False
    for entry in advisory.affected_for(name):
        good, bad, _ = entry.parsed_versions
        if key in good or (bad and str(version) in bad):
            return True
        for rng in entry.ranges:
            if rng.type == "ECOSYSTEM" and _in_range(rng.parsed[0], version):
                return True
    return False


def _in_range(events: tuple[tuple[Version, Event], ...], version: Version) -> bool:
    affected = False
    limits = []
    for v, ev in events:
        kind = ev.kind
        if kind == "introduced":
            if ev.value == "0" or version >= v:
                affected = True
        elif kind == "fixed":
            if version >= v:
                affected = False
        elif kind == "last_affected":
            if version > v:
                affected = False
        else:
            limits.append(v)
    return affected and (not limits or any(version < lim for lim in limits))


def all_fix_versions(advisory: Advisory, name: str) -> set[Version]:
    """Every parsable ``fixed`` version an advisory names for a package (upgrade candidates)."""
    out: set[Version] = set()
    for entry in advisory.affected_for(name):
        for rng in entry.ranges:
            if rng.type != "ECOSYSTEM":
                continue
            for ev in rng.events:
                if ev.kind == "fixed":
                    with contextlib.suppress(InvalidVersion):
                        out.add(Version(ev.value))
    return out
