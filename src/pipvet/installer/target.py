"""The target interpreter of an install or verify: its prefix, version and wheel tags.

It is started with ``-I -S`` only (no site, so no ``.pth`` file runs), by the one interpreter probe
(``pipvet.sources.environment.probe``). Its tags are computed by pipvet's own copy of
``packaging.tags`` running in that interpreter, so they are exactly the tags it supports (platform,
glibc, ABI); when that fails, they are computed here from its version.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags, platform_tags

from pipvet.sources.environment import probe


@dataclass(frozen=True)
class Target:
    """A Python interpreter to install into or verify."""

    python: str
    prefix: str
    version: str  # "3.11.7"
    implementation: str  # "cpython"
    tags: tuple[Tag, ...]  # most preferred first
    markers: dict[str, str] | None = None  # PEP 508 environment, when it could be computed

    @property
    def tag_rank(self) -> dict[Tag, int]:
        return {t: i for i, t in enumerate(self.tags)}


def probe_target(python: str | None = None) -> Target:
    """The interpreter (``default_python``: the active venv unless one is named), probed once
    with ``-I -S`` (``pipvet.sources.environment.probe``): prefix, version, wheel tags, markers."""
    info = probe(python, tags=True)
    if info.tags:
        tags = tuple(Tag(*t.split("-")) for t in info.tags)
    else:
        tags = _tags_from_version(info.version, info.implementation)
    return Target(
        python=info.python,
        prefix=info.prefix,
        version=info.version,
        implementation=info.implementation,
        tags=tags,
        markers=info.markers,
    )


def _tags_from_version(version: str, impl: str) -> tuple[Tag, ...]:
    """Fallback: tags for a CPython of this version on this machine's platform."""
    major, minor = (int(x) for x in version.split(".")[:2])
    platforms = list(platform_tags())
    tags: list[Tag] = []
    if impl == "cpython":
        tags += cpython_tags((major, minor), platforms=platforms)
    tags += compatible_tags((major, minor), platforms=platforms)
    return tuple(dict.fromkeys(tags))
