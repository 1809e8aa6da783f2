"""Cross-module reach: functions of one module that another module's import-time code calls.

``__init__.py`` doing ``from .core import start; start()`` runs ``core.start`` on import, though
``start`` is only a function of ``core``. Each module's facts list the imported functions its
module-level code (and the local functions that code calls) calls; this pass maps those names to
the artifact's own modules and adds the callees, with everything they call in turn, to that
module's ``run_on_load``, until nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipvet.core.analysis.rules import SDIST_TOP
from pipvet.core.analysis.rules.python_ast import MODULE_CALLER, ModuleFacts, reachable

PACKAGE_ROOTS = ("src", "lib")
MAX_ROUNDS = 20


def module_name(path: str) -> str | None:
    """Dotted module name of an archive member (``demo-1.0/src/pkg/core.py`` -> ``pkg.core``)."""
    parts = path.split("/")
    if len(parts) > 1 and SDIST_TOP.match(parts[0]):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in PACKAGE_ROOTS:
        parts = parts[1:]
    if not parts[-1].endswith(".py"):
        return None
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _absolute(target: str, importer: str, is_package: bool) -> str | None:
    """``target`` made absolute: ``.x.f`` imported in ``pkg.mod`` is ``pkg.x.f``."""
    if not target.startswith("."):
        return target
    level = len(target) - len(target.lstrip("."))
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    rest = target[level:]
    return ".".join([*base, rest]) if base else rest


def propagate(modules: Mapping[str, tuple[ModuleFacts, bool]]) -> None:
    """Extend ``run_on_load`` of each module (name -> (facts, is_package)) in place."""
    for _ in range(MAX_ROUNDS):
        changed = False
        for name, (facts, is_package) in modules.items():
            if name.rpartition(".")[2] == "__main__":
                continue  # runs for `python -m pkg`, never on import: what it calls is not loaded
            for caller in (MODULE_CALLER, *facts.run_on_load):
                for target in facts.external_calls.get(caller, ()):
                    absolute = _absolute(target, name, is_package)
                    if absolute is None:
                        continue
                    mod, _, func = absolute.rpartition(".")
                    callee = modules.get(mod)
                    if callee is None or func in callee[0].run_on_load:
                        continue
                    facts_of_callee = callee[0]
                    facts_of_callee.run_on_load = reachable(
                        facts_of_callee.call_edges, (func, *facts_of_callee.run_on_load)
                    )
                    changed = True
        if not changed:
            return
