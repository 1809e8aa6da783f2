"""Distribution file names, read in one place: the release a file belongs to, how well a wheel
fits a target (by the target's tag priority), and which sdist to prefer.

Every part that chooses files (install plans, locks, scan targets, the index client) asks here,
so they cannot disagree about which file is "the" wheel or "the" sdist of a release.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version


@functools.lru_cache(maxsize=65536)
def parse_filename(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag] | None] | None:
    """``(name, version, tags)`` of a wheel, ``(name, version, None)`` of an sdist, None for a
    name that is neither (the name normalised, PEP 503)."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            return name, version, tags
        name, version = parse_sdist_filename(filename)
        return name, version, None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


@functools.lru_cache(maxsize=65536)
def file_version(filename: str) -> Version | None:
    """The version in a wheel or sdist file name (None when the name is not standard). Fast for
    the common wheel name: PyPI pages list tens of thousands of files."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) in (5, 6):  # name-version[-build]-py-abi-plat
            return _version(parts[1])
    found = parse_filename(filename)
    return found[1] if found else None


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def is_release_file(filename: str, name: str, version: Version) -> bool:
    """True when ``filename`` is a wheel or sdist of ``name==version`` (``name`` normalised)."""
    quick = file_version(filename)  # cheap: no tags parsed for another version's wheels
    if quick is not None and quick != version:
        return False
    found = parse_filename(filename)
    return found is not None and found[0] == name and found[1] == version


def wheel_rank(filename: str, rank: Mapping[Tag, int]) -> int | None:
    """How well a wheel fits a target: the best (lowest) position of its tags in the target's
    priority ``rank``; None when the target supports none of them (or it is no wheel)."""
    found = parse_filename(filename)
    if found is None or found[2] is None:
        return None
    ranks = [rank[t] for t in found[2] if t in rank]
    return min(ranks) if ranks else None


def is_pure_wheel(filename: str) -> bool:
    return filename.endswith("-none-any.whl")


def pure_first(filename: str) -> tuple[bool, str]:
    """Sort key: pure-Python wheels first (any of them carries the release's metadata)."""
    return (not is_pure_wheel(filename), filename)


def sdist_preference(filename: str) -> tuple[bool, str]:
    """Sort key among a release's sdists: ``.tar.gz`` (the standard form) first, then by name."""
    return (not filename.endswith(".tar.gz"), filename)
