"""Modules that cannot be imported: code written for a namespace a caller prepares.

Some libraries ship a module that is never imported but sent elsewhere and executed there with
globals the sender provides (sshuttle's server assembler starts with ``stdin = stdin``; remote
execution bootstraps do the same). Importing such a module raises ``NameError`` at the first
statement that reads a name nothing defines, so what follows it runs only where a caller
executes the text on purpose: when called, never on import.

``import_stops_at`` finds that statement, conservatively: everything before it is quiet (absolute
imports that are not ``*``, docstrings, constant assignments to names, functions without
decorators or computed defaults, ``pass``), its first evaluated operand is a plain name, that
name is no builtin of any Python version on any platform, and no other statement of the module
binds it anywhere (only the statement itself may: ``stdin = stdin``). A name imported or
assigned further down is a misplaced line of code meant to run on import (``os.system(...)``
above ``import os``), and is judged as running on import. The engine also gives up the rule
for an artifact that could define the name from outside (``builtins`` written, import hooks, a
module of its own imported first).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from pipvet.core.analysis.facts.dataflow import BUILTIN_NAMES

# builtins of every Python version and platform, not only of the one running pipvet (and
# Python 2's): a name that exists where the package runs must never be taken for a missing one
EXISTING_NAMES = BUILTIN_NAMES | {
    "aiter",
    "anext",
    "EncodingWarning",  # 3.10
    "BaseExceptionGroup",
    "ExceptionGroup",  # 3.11
    "PythonFinalizationError",
    "_IncompleteInputError",  # 3.13
    "WindowsError",  # Windows only
    "exit",
    "quit",
    "copyright",
    "credits",
    "license",
    "help",  # added by site
    "__name__",
    "__file__",
    "__doc__",
    "__spec__",
    "__loader__",
    "__package__",
    "__path__",
    "__cached__",
    "__builtins__",
    "__annotations__",
    "__debug__",
    "__dict__",
}
_CONSTANTS = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)


def import_stops_at(tree: ast.Module) -> tuple[int, frozenset[str]] | None:
    """The line of the module-level statement where every import of the module stops with
    ``NameError`` before anything but quiet statements ran, and the top-level modules those
    statements import (the engine checks that none is the artifact's own: a module of the
    package imported first could set the name on the half-made module); None when there is
    no such statement (see the module doc)."""
    bound: set[str] = set()
    roots: set[str] = set()
    for stmt in tree.body:
        if _quiet(stmt):
            if isinstance(stmt, ast.ImportFrom) and stmt.level:
                return None  # the package's own module, imported first
            if isinstance(stmt, ast.ImportFrom) and stmt.module:
                roots.add(stmt.module.partition(".")[0])
            bound.update(_binds(stmt, roots))
            continue
        name = _first_name(stmt)
        if name is None or name in EXISTING_NAMES or name in bound:
            return None
        if name in _bound_names(node for node in tree.body if node is not stmt):
            # bound further down (`import os` below the code using it): a misplaced line of
            # code meant to run on import, and judged as such (only the statement's own
            # target, ``stdin = stdin``, or nothing at all binds a name a caller provides)
            return None
        return stmt.lineno, frozenset(roots)
    return None


def _binds(stmt: ast.stmt, roots: set[str]) -> set[str]:
    """Names a quiet statement binds (and, for ``import x.y``, the root ``x`` into ``roots``)."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        if isinstance(stmt, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in stmt.names)
        return {(alias.asname or alias.name).partition(".")[0] for alias in stmt.names}
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {stmt.name}
    if isinstance(stmt, ast.Assign):
        return {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    return set()


def _quiet(stmt: ast.stmt) -> bool:
    """A statement that runs nothing of the package's: it cannot define a name either, except
    what it binds itself (counted by ``_bound_names``)."""
    if isinstance(stmt, ast.Import):
        return True
    if isinstance(stmt, ast.ImportFrom):
        return all(alias.name != "*" for alias in stmt.names)
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return (
            stmt.value is not None
            and _constant(stmt.value)
            and all(isinstance(t, ast.Name) for t in targets)
        )
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = stmt.args
        defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
        return not stmt.decorator_list and all(_constant(d) for d in defaults)
    return False


def _constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _constant(k) for k in node.keys) and all(
            _constant(v) for v in node.values
        )
    return False


def _first_name(stmt: ast.stmt) -> str | None:
    """The name a statement reads before anything else it does, when it is a plain name."""
    if isinstance(stmt, ast.AugAssign):
        node: ast.expr | None = stmt.target  # `x += 1` reads x first
    elif isinstance(stmt, (ast.Assign, ast.Expr)) or (
        isinstance(stmt, ast.AnnAssign) and stmt.value is not None
    ):
        node = stmt.value
    else:
        return None
    while node is not None:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, (ast.BinOp, ast.Compare)):
            node = node.left
        else:
            return None
    return None


def _bound_names(statements: Iterable[ast.stmt]) -> set[str]:
    """Every name the statements bind anywhere, in any scope (over-approximated on purpose)."""
    out: set[str] = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                out.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, ast.alias):
                out.add((node.asname or node.name).partition(".")[0])
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                out.update(node.names)
            elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
                out.add(node.name or "")
            elif isinstance(node, ast.MatchMapping):
                out.add(node.rest or "")
            elif isinstance(node, ast.arg):
                out.add(node.arg)
            elif type(node).__name__ in ("TypeVar", "ParamSpec", "TypeVarTuple"):  # 3.12
                out.add(node.name)  # type: ignore[attr-defined]
    return out
