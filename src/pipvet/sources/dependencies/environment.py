"""Packages installed in an environment (``--python PATH``, else the active venv, else pipvet's
own: ``pipvet.sources.environment.default_python``).

The environment is read as data (``pipvet.sources.environment``): pipvet can audit another
interpreter without being installed in it, and without auditing its own dependencies unless
asked (pip-audit#1032, pip#13607).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipvet.sources.dependencies.base import DependencyCollection


@dataclass(frozen=True)
class EnvironmentSource:
    python: str | None = None

    def collect(self) -> DependencyCollection:
        from pipvet.sources.environment import installed_distributions, probe_environment

        env = probe_environment(self.python)
        dists = installed_distributions(env.python)
        return DependencyCollection(
            packages=tuple(sorted({d.id for d in dists})),
            description=f"environment {env.python}",
        )
