"""Packages from a requirements file (``-r FILE``).

Pinned lines (``name==X`` / ``name===X``) are read as they are: nothing is downloaded or run. If any
line is not pinned, the whole file is resolved the way pip would, wheels only
(``pipvet.sources.resolver``), so no sdist's build code runs (pip-audit's README warns its ``-r``
is as dangerous as ``pip install -r``). Lines pipvet cannot audit are listed as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from pipvet.core.models import DEFAULT_INDEX_URL as DEFAULT_INDEX
from pipvet.core.models import PackageId
from pipvet.sources.dependencies.base import DependencyCollection, Skipped
from pipvet.sources.requirements import exact_pin


def resolve_requirements(requirements: Sequence[str], *, index_url: str) -> list[PackageId]:
    """Resolve requirement strings with pipvet's resolver (pip --dry-run --report, wheels only)."""
    from pipvet.sources.resolver import resolve

    resolution = resolve(list(requirements), index_url=index_url)
    packages = getattr(resolution, "packages", resolution)
    ids = []
    for p in packages:
        pid = getattr(p, "id", None)
        ids.append(pid if isinstance(pid, PackageId) else PackageId.of(p.name, str(p.version)))
    return ids


@dataclass(frozen=True)
class RequirementsSource:
    path: Path
    index_url: str | None = None

    def collect(self) -> DependencyCollection:
        from pipvet.sources.requirements import read_requirements

        read = read_requirements(Path(self.path))
        pinned: list[PackageId] = []
        skipped: list[Skipped] = []
        kept: list[Requirement] = []
        unpinned = False
        for line in read.requirements:
            req = line.requirement
            where = f"{line.source}:{line.lineno} {req.name}"
            if req.url:
                skipped.append(Skipped(where, "direct URL requirement: no version to audit"))
                continue
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                skipped.append(Skipped(where, f"marker '{req.marker}' excludes this environment"))
                continue
            kept.append(req)
            v = exact_pin(req)
            if v is None:
                unpinned = True
            else:
                pinned.append(PackageId.of(req.name, v))
        desc = f"requirements {self.path}"
        if unpinned:
            index = self.index_url or read.index_url
            ids = resolve_requirements(
                [str(r) for r in kept],
                index_url=index or DEFAULT_INDEX,
            )
            desc += " (resolved)"
        else:
            ids = pinned
        return DependencyCollection(
            packages=tuple(sorted(set(ids))),
            skipped=tuple(skipped),
            description=desc,
            location=str(self.path),
        )
