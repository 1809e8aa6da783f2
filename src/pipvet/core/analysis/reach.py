"""Cross-module reach: functions of one module that another module's import-time code calls.

``__init__.py`` doing ``from .core import start; start()`` runs ``core.start`` on import, though
``start`` is only a function of ``core``. Each module's facts list the imported functions its
module-level code (and the local functions that code calls) calls; this pass maps those names to
the artifact's own modules and adds the callees, with everything they call in turn, to that
module's ``run_on_load``, until nothing changes. A call made on every run of its caller (outside
an ``if`` branch or ``except`` handler) from code that itself runs on every load extends
``firm_on_load`` as well: what is reached only through a guarded call runs on a condition.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping

from pipvet.core.analysis.facts.python_ast import MODULE_CALLER, ModuleFacts, reachable
from pipvet.core.analysis.layout import PACKAGE_ROOTS
from pipvet.core.analysis.model import Member
from pipvet.core.analysis.rules import SDIST_TOP, is_peripheral

MAX_ROUNDS = 20


@functools.lru_cache(maxsize=1 << 16)
def module_name(path: str) -> str | None:
    """Dotted module name of an archive member (``demo-1.0/src/pkg/core.py`` -> ``pkg.core``);
    asked for the same paths by several passes, so kept."""
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


def absolute_name(target: str, importer: str, is_package: bool) -> str | None:
    """``target`` made absolute: ``.x.f`` imported in ``pkg.mod`` is ``pkg.x.f``."""
    if not target.startswith("."):
        return target
    level = len(target) - len(target.lstrip("."))
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 > len(base):
        return None
    base = base[: len(base) - (level - 1)]
    rest = target[level:]
    return ".".join([*base, rest] if rest else base) if base else rest


def propagate(modules: Mapping[str, tuple[ModuleFacts, bool]]) -> None:
    """Extend ``run_on_load`` of each module (name -> (facts, is_package)) in place."""
    for _ in range(MAX_ROUNDS):
        changed = False
        for name, (facts, is_package) in modules.items():
            if name.rpartition(".")[2] == "__main__":
                continue  # runs for `python -m pkg`, never on import: what it calls is not loaded
            for caller in (MODULE_CALLER, *facts.run_on_load):
                firm_caller = caller == MODULE_CALLER or caller in facts.firm_on_load
                firm_targets = facts.firm_external.get(caller, ()) if firm_caller else ()
                for target in facts.external_calls.get(caller, ()):
                    absolute = absolute_name(target, name, is_package)
                    if absolute is None:
                        continue
                    mod, _, func = absolute.rpartition(".")
                    callee = modules.get(mod)
                    if callee is None:
                        continue
                    into = callee[0]
                    if func not in into.run_on_load:
                        into.run_on_load = reachable(into.call_edges, (func, *into.run_on_load))
                        changed = True
                    if target in firm_targets and func not in into.firm_on_load:
                        # called on every load of a module, not only on a condition
                        into.firm_on_load = reachable(into.firm_edges, (func, *into.firm_on_load))
                        changed = True
        if not changed:
            return


_IMPORTS = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+([\w., \t()*]+)|import[ \t]+([\w.]+))",
    re.M,
)


def import_matches(data: bytes) -> Iterator[re.Match[bytes]]:
    """``_IMPORTS.finditer(data)``, tried only at the starts of lines that hold ``import``: every
    match is one line's beginning and holds the word, so these are the same matches (the
    multiline ``^`` made the regex try every position of the file)."""
    at = data.find(b"import")
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        m = _IMPORTS.match(data, start)
        if m is not None:
            yield m
        end = data.find(b"\n", at)
        if end < 0:
            return
        at = data.find(b"import", end + 1)


def dependency_order(members: Iterable[Member]) -> list[Member]:
    """Members with every Python module after the artifact's modules it imports (as far as a
    cheap scan of its import lines tells; cycles are cut), so that what a helper returns is
    known before its callers are read. Other members keep their order, first."""
    members = list(members)
    names = modules_by_name(members)
    order: list[Member] = []
    state: dict[str, int] = {}  # 1 = in progress, 2 = done

    def visit(name: str) -> None:
        stack = [(name, iter(_imported_modules(names[name], name, names)))]
        state[name] = 1
        while stack:
            current, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                state[current] = 2
                order.append(names[current])
            elif dep not in state:
                state[dep] = 1
                stack.append((dep, iter(_imported_modules(names[dep], dep, names))))

    for name in names:
        if name not in state:
            visit(name)
    placed = {id(m) for m in order}
    return [m for m in members if id(m) not in placed] + order


def _imported_modules(member: Member, name: str, names: Mapping[str, Member]) -> list[str]:
    is_package = member.path.endswith("/__init__.py")
    out: list[str] = []
    for m in import_matches(member.data):
        base, items, plain = (g.decode("ascii", "replace") if g else "" for g in m.groups())
        if plain:
            candidates = [plain]
        else:
            module = absolute_name(base, name, is_package) if base.startswith(".") else base
            if not module:
                continue
            items = items.replace("(", " ").replace(")", " ")
            subs = [i.split()[0] for i in items.split(",") if i.split()]
            candidates = [module, *(f"{module}.{i}" for i in subs)]
        out.extend(c for c in candidates if c in names and c != name)
    return out


def modules_by_name(members: Iterable[Member]) -> dict[str, Member]:
    """The artifact's Python modules by dotted name (the first member of each name)."""
    names: dict[str, Member] = {}
    for m in members:
        name = module_name(m.path)
        if name is not None:
            names.setdefault(name, m)
    return names


def imported_peripheral(members: Iterable[Member]) -> set[str]:
    """Paths of modules that look like tests (``test_utils.py``, ``pkg/tests/helpers.py``) but
    that the package's own modules import: they run as the package's code."""
    names = modules_by_name(members)
    peripheral = {name for name, m in names.items() if is_peripheral(m.path)}
    if not peripheral:
        return set()
    out: set[str] = set()
    for name, m in names.items():
        if is_peripheral(m.path):
            continue
        for dep in _imported_modules(m, name, names):
            if dep in peripheral:
                out.add(names[dep].path)
    return out


def run_as_command(members: Iterable[Member], running: Iterable[Member]) -> set[str]:
    """Paths of packages' ``__main__.py`` that none of ``running`` (the artifact's code that
    runs: the package, setup.py and what it runs, ``.pth`` files) imports or loads: only
    ``python -m pkg`` runs such a file, a person's command, never an import of the package.
    Loading is read broadly: an import line anywhere (in a function too), the module's dotted
    name in any text of the file, or any use of ``runpy.run_module`` keep it import-time code."""
    names = modules_by_name(members)
    mains = {name: m.path for name, m in names.items() if name.endswith(".__main__")}
    if not mains:
        return set()
    loaded: set[str] = set()
    for m in running:
        if m.path in mains.values():
            continue
        if b"run_module" in m.data:
            return set()
        own = module_name(m.path) or ""
        loaded.update(_imported_modules(m, own, names))
        loaded.update(name for name in mains if name.encode() in m.data)
    return {path for name, path in mains.items() if name not in loaded}
