"""Where the packages to audit come from: one module per source behind ``DependencySource``.

Like pip-audit, sources (what to audit), vulnerability services (``sources.advisories``) and
output formats (``formats.audit``) are separate; unlike it, every source also reports what it
could not audit and why, and none runs package code (pip-audit's README: "-r ≈ pip install -r").
"""

from pipvet.sources.dependencies.base import DependencyCollection, DependencySource, Skipped

__all__ = ["DependencyCollection", "DependencySource", "Skipped"]
