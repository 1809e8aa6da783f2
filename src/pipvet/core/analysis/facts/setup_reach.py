"""What of a setup.py never runs when pip installs it.

Two kinds of code in setup.py run only on a person's request, never by installing:

- a top-level function nothing in the file names (``def check_deps(): ...`` whose one call is
  commented out): dead code; a file that looks names up at run time (``globals()``, ``getattr``
  with a computed name, ``exec``...) keeps every function live;
- the methods of a command class that ``cmdclass`` registers only under commands an install
  never runs (``cmdclass={"upload": UploadCommand, "update_dlls": FetchDlls}``): pip and the
  other frontends run ``egg_info``, ``build``, ``install`` and the like (``INSTALL_COMMANDS``),
  never ``upload`` or a project's own ``update_dlls``, unless setup.py names that command again
  (``self.run_command("update_dlls")``, ``build.sub_commands``): then it counts as run.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipvet.core.analysis.facts.python_ast import maintainer_command, maintainer_commands, walk
from pipvet.core.analysis.facts.syntax import parse_python

# setup.py commands a build frontend runs, or that those run as their sub-commands (setuptools,
# distutils, wheel, numpy.distutils): any other command runs only when a person types it. Not
# ``sdist`` (nor ``check``, which it runs, nor the generic ``bdist``): installing an sdist builds
# a wheel from it; the sdist was made on the maintainer's machine
INSTALL_COMMANDS = frozenset(
    {"egg_info", "dist_info", "editable_wheel", "develop", "bdist_wheel"}
    | {"bdist_egg", "build", "build_py", "build_ext", "build_clib", "build_scripts", "build_src"}
    | {"install", "install_lib", "install_headers", "install_scripts", "install_data"}
    | {"install_egg_info", "install_clib", "easy_install", "config", "saveopts", "setopt"}
)

# a command word (not an option, nor a file name such as ``setup.py``)
_COMMAND_WORD = re.compile(r"[a-z][a-z0-9_-]*")


def never_installs(word: str) -> bool:
    """A setup.py command no installer gives it: a maintainer's (``upload``), or any command
    word that is not an install command (``sdist``, ``clean``, a project's own ``syncci``).
    Not an option (``--cuda``): a person may hand one through pip (``--config-settings``)."""
    name = word.strip().lower()
    return maintainer_command(name) or (
        _COMMAND_WORD.fullmatch(name) is not None and name not in INSTALL_COMMANDS
    )


# names that let code reach a function without naming it
_DYNAMIC_LOOKUPS = frozenset(
    {"globals", "locals", "vars", "getattr", "eval", "exec", "compile", "__import__", "modules"}
)


@dataclass(frozen=True)
class SetupReach:
    dead_functions: frozenset[str]
    maintainer_spans: tuple[tuple[int, int], ...]  # (first, last) lines of maintainer commands

    def in_maintainer_command(self, line: int) -> bool:
        return any(first <= line <= last for first, last in self.maintainer_spans)


NOTHING = SetupReach(frozenset(), ())
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def setup_reach(text: str) -> SetupReach:
    """Dead functions and maintainer-only command classes of a setup.py's source."""
    tree = parse_python(text)
    return NOTHING if tree is None else reach_of_tree(tree)


def reach_of_tree(tree: ast.Module) -> SetupReach:
    """``setup_reach`` of a setup.py already parsed."""
    argv_names = _argv_names(tree)
    branches = _command_branches(tree, argv_names)
    if not any(isinstance(stmt, _DEFINITIONS) for stmt in tree.body):
        # no top-level function or class: nothing to find dead or maintainer-only
        return SetupReach(frozenset(), tuple(branches)) if branches else NOTHING
    loaded: set[str] = set()
    constants: dict[str, int] = {}  # string constant -> how often it occurs
    registered: dict[str, set[str]] = {}  # class name -> cmdclass keys it is registered under
    keys: dict[str, int] = {}  # command name -> how often it is a registration's key
    for node in _walk_install_time(tree, argv_names):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Store):
                loaded.add(node.id)
        elif isinstance(node, ast.Attribute):
            loaded.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            constants[node.value] = constants.get(node.value, 0) + 1
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                _register(registered, keys, key, value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    _register(registered, keys, target.slice, node.value)
    dynamic = bool(loaded & _DYNAMIC_LOOKUPS)
    dead: set[str] = set()
    spans: list[tuple[int, int]] = branches
    texts = "\0".join(constants)  # a function's name inside any constant (no name holds a NUL)
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            named = stmt.name in loaded or stmt.name in texts
            if not (dynamic or named or stmt.decorator_list):
                dead.add(stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            commands = registered.get(stmt.name)
            if commands and all(_never_installs(c, constants, keys) for c in commands):
                spans.append((stmt.lineno, stmt.end_lineno or stmt.lineno))
    return SetupReach(frozenset(dead), tuple(spans))


def _never_installs(command: str, constants: dict[str, int], keys: dict[str, int]) -> bool:
    """A command an install never runs: a maintainer's (``upload``), or any other that is not
    an install command and that setup.py names only where it registers it (every constant of
    it is a registration's key: ``cmdclass.update({"sdist": A})`` then ``{"sdist": B}``
    on one platform)."""
    name = command.strip().lower()
    if maintainer_command(name):
        return True
    named_elsewhere = constants.get(command, 0) - keys.get(command, 0)
    return bool(name) and name not in INSTALL_COMMANDS and named_elsewhere <= 0


def _argv_names(tree: ast.Module) -> set[str]:
    """Module-level names given an item of ``sys.argv`` (``command = sys.argv[-1]``)."""
    return {
        stmt.targets[0].id
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Subscript)
        and ast.unparse(stmt.value.value) == "sys.argv"
    }


def _maintainer_arms(tree: ast.Module, argv_names: set[str]) -> Iterator[list[ast.stmt]]:
    """The bodies of the top-level branches taken only on a command no installer gives
    (``if sys.argv[-1] == "publish":``, ``if "sdist" in sys.argv:``, ``command = sys.argv[-1];
    if command == "coverage":``); an ``elif`` chain's arms one by one."""
    for stmt in tree.body:
        branch = stmt
        while isinstance(branch, ast.If):
            if _maintainer_test(branch.test, argv_names):
                yield branch.body
            branch = branch.orelse[0] if len(branch.orelse) == 1 else None


def _command_branches(tree: ast.Module, argv_names: set[str]) -> list[tuple[int, int]]:
    """(first, last) lines of ``_maintainer_arms``."""
    return [
        (body[0].lineno, body[-1].end_lineno or body[-1].lineno)
        for body in _maintainer_arms(tree, argv_names)
    ]


def _walk_install_time(tree: ast.Module, argv_names: set[str]) -> list[ast.AST]:
    """Every node of the module except the bodies of ``_maintainer_arms``: what only they name
    never runs when an installer runs setup.py."""
    skipped = {id(s) for body in _maintainer_arms(tree, argv_names) for s in body}
    return walk(tree, skipped)


def _maintainer_test(test: ast.expr, argv_names: set[str]) -> bool:
    """``test`` asks whether setup.py's command is one no installer gives (``never_installs``);
    of a conjunction, one such test is enough (``len(sys.argv) > 1 and sys.argv[1] == "x"``)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_maintainer_test(value, argv_names) for value in test.values)
    sides = maintainer_commands(test, never_installs)
    return sides is not None and any(
        (isinstance(s, ast.Name) and s.id in argv_names)
        or (isinstance(s, ast.Subscript) and ast.unparse(s.value) == "sys.argv")
        or ast.unparse(s) == "sys.argv"
        for s in sides
    )


def _register(
    registered: dict[str, set[str]], keys: dict[str, int], key: ast.AST | None, value: ast.AST
) -> None:
    """Note ``{"key": Class}`` or ``cmdclass["key"] = Class``; any other key of a class counts."""
    if not isinstance(value, ast.Name):
        return
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        registered.setdefault(value.id, set()).add(key.value)
        keys[key.value] = keys.get(key.value, 0) + 1
    else:
        registered.setdefault(value.id, set()).add("")  # a key we cannot read: not maintainer
