"""Packages a ``pyproject.toml`` depends on (``--pyproject PATH``), resolved wheels-only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipvet.sources.dependencies.base import DependencyCollection
from pipvet.sources.dependencies.requirements import DEFAULT_INDEX, resolve_requirements


@dataclass(frozen=True)
class PyprojectSource:
    path: Path
    index_url: str | None = None

    def collect(self) -> DependencyCollection:
        from pipvet.sources.requirements import read_pyproject

        path = Path(self.path)
        if path.is_dir():
            path = path / "pyproject.toml"
        reqs = read_pyproject(path)
        index = self.index_url or DEFAULT_INDEX
        ids = resolve_requirements(reqs, index_url=index) if reqs else []
        return DependencyCollection(
            packages=tuple(sorted(set(ids))),
            description=f"pyproject {path} (resolved)",
            location=str(path),
        )
