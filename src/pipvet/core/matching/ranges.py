"""Exact OSV matching for the PyPI ecosystem, with PEP 440 ordering (``packaging.version``).

A version is affected by an ``affected`` entry when it is listed in ``versions`` or falls inside one
of its ``ECOSYSTEM`` ranges, evaluated as the OSV schema's reference algorithm does: events sorted
by version ("0" first), the last event at or below the version decides. ``limited`` events cap a
range (only versions below a limit are affected). Versions that do not parse as PEP 440 are reported
in ``problems`` instead of raising.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from pipvet.core.matching.osv import Advisory, Affected, Event, Range

_ZERO = Version("0")
# At one version, evaluate "introduced" before the events that close a range.
_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2, "limited": 3}


@dataclass(frozen=True)
class RangeVerdict:
    """Whether one affected entry covers a version, the fix versions it names, and any problems."""

    affected: bool
    fixed_in: tuple[Version, ...] = ()
    problems: tuple[str, ...] = ()


def _parse(value: str) -> Version:
    return _ZERO if value == "0" else Version(value)


def _sorted_events(rng: Range) -> tuple[list[tuple[Version, Event]], list[str]]:
    parsed, problems = [], []
    for ev in rng.events:
        try:
            parsed.append((_parse(ev.value), ev))
        except InvalidVersion:
            problems.append(f"unparsable {ev.kind} version {ev.value!r}")
    # "0" sorts below everything, even 0.dev0, as the OSV schema defines it.
    parsed.sort(key=lambda pe: (pe[1].value != "0", pe[0], _ORDER[pe[1].kind]))
    return parsed, problems


def range_affects(rng: Range, version: Version) -> tuple[bool, tuple[Version, ...], list[str]]:
    """Evaluate one ECOSYSTEM range: (affected, smallest fix above ``version``, problems)."""
    events, problems = _sorted_events(rng)
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
    return affected, fixes, problems


def _listed(versions: tuple[str, ...], version: Version) -> tuple[bool, list[str]]:
    problems = []
    for raw in versions:
        try:
            if Version(raw) == version:
                return True, problems
        except InvalidVersion:
            if raw == str(version):
                return True, problems
            problems.append(f"unparsable listed version {raw!r}")
    return False, problems


def affected_verdict(entry: Affected, version: Version) -> RangeVerdict:
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
    listed, probs = _listed(entry.versions, version)
    if not affected:
        problems += probs
    affected = affected or listed
    return RangeVerdict(affected, tuple(sorted(set(fixes))), tuple(problems))


def advisory_verdict(advisory: Advisory, name: str, version: Version) -> RangeVerdict:
    """Combine every ``affected`` entry of an advisory for one package; withdrawn never affects."""
    if advisory.withdrawn:
        return RangeVerdict(False)
    affected = False
    fixes: set[Version] = set()
    problems: list[str] = []
    for entry in advisory.affected_for(name):
        v = affected_verdict(entry, version)
        problems += v.problems
        if v.affected:
            affected = True
            fixes.update(v.fixed_in)
    return RangeVerdict(affected, tuple(sorted(fixes)), tuple(problems))


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
