"""The inspection engine: one parse per member, every rule over it, then a verdict.

``analyze`` never executes, imports or builds anything: members are bytes, Python is read with
``ast`` (or the tokenizer when it does not parse), payloads hidden behind ``exec`` are folded
back to text and analysed as code of the same file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from pipvet.core.analysis import coverage
from pipvet.core.analysis.coverage import CANNOT_RUN_RULES, Gap, gap_finding
from pipvet.core.analysis.facts.dataflow import file_name
from pipvet.core.analysis.facts.python_ast import (
    FILE_OPENERS,
    MAIN_CALLER,
    MODULE_CALLER,
    CallFact,
    ImportedReturns,
    ModuleFacts,
    collect,
    constant_facts,
    reachable,
)
from pipvet.core.analysis.facts.setup_reach import reach_of_tree
from pipvet.core.analysis.facts.syntax import parse_python
from pipvet.core.analysis.facts.tokens import collect_tokens
from pipvet.core.analysis.layout import (
    PEP517_HOOKS,
    in_tree_backend,
    pth_package_data,
    run_by_setup,
    scripts_named_by_setup,
    scripts_not_shipped,
    sdist_tooling,
)
from pipvet.core.analysis.model import (
    SCRIPT_SUFFIXES,
    SEVERITIES,
    AnalysisResult,
    Artifact,
    Finding,
    Member,
)
from pipvet.core.analysis.reach import (
    absolute_name,
    dependency_order,
    imported_peripheral,
    module_name,
    modules_by_name,
    propagate,
    run_as_command,
)
from pipvet.core.analysis.rules import (
    ROLE_BINARY,
    ROLE_INIT,
    ROLE_MODULE,
    ROLE_OTHER,
    ROLE_PERIPHERAL,
    ROLE_PTH,
    ROLE_SCRIPT,
    ROLE_SETUP,
    ROLE_SETUP_HELPER,
    WHEN_CALL,
    FileContext,
    capabilities,
    indicators,
    install_time,
    intent,
    is_install_command_base,
    is_peripheral,
    metadata,
    obfuscation,
)
from pipvet.core.analysis.rules.metadata import bytecode
from pipvet.core.analysis.verdict import judge


def source_digest(root: Path, inputs: tuple[Path, ...] = ()) -> str:
    """sha256 over the engine's own sources (every ``.py`` under ``root``, by relative path) and
    the files outside it that its rules read (``inputs``, by name, when present): any change to
    the analysis code or to what it reads changes it."""
    digest = hashlib.sha256()
    files = sorted(root.rglob("*.py")) or sorted(root.rglob("*.pyc"))
    named = [(path.relative_to(root).as_posix(), path) for path in files]
    named += [(f"../{path.name}", path) for path in inputs if path.is_file()]
    for rel_text, path in named:
        rel = rel_text.encode()
        digest.update(len(rel).to_bytes(4, "big") + rel)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


_ENGINE_ROOT = Path(__file__).resolve().parent
# what the rules read from outside the package: the name checks and the popular names
ENGINE_INPUTS = (
    _ENGINE_ROOT.parent / "names.py",
    _ENGINE_ROOT.parents[1] / "data" / "popular_names.txt",
)
# Keys the scan cache: the rule generation, then a digest of the analysis code itself, so a
# result computed by other code (other verdicts) is never served from the cache.
ENGINE_VERSION = f"13+{source_digest(_ENGINE_ROOT, ENGINE_INPUTS)[:16]}"

PY_SUFFIXES = (".py", ".pyw")
MAX_TEXT = coverage.MAX_TEXT  # larger sources are parsed without comments, or their head only
MAX_PAYLOAD_DEPTH = 4
MAX_FINDINGS_PER_RULE_AND_FILE = 3

FileRule = Callable[[FileContext], list[Finding]]
FILE_RULES: tuple[FileRule, ...] = (
    capabilities.check,
    intent.check,
    install_time.check,
    obfuscation.check,
    indicators.check,
)

# a binary's strings are no code: only where it talks to counts (never its shell-like text)
BINARY_RULES: tuple[FileRule, ...] = (indicators.check,)

ARTIFACT_RULES: tuple[Callable[[Artifact], list[Finding]], ...] = (metadata.check_artifact,)


BUILT_KINDS = ("wheel", "installed")  # installing runs none of their code (no build step)


def role_of(path: str, kind: str = "") -> str:
    """The role of a member, from its path inside the artifact (of ``kind``, ``Artifact.kind``).

    ``site`` runs the ``.pth`` files at the top of a site-packages folder only: in a wheel (or an
    installed distribution) one deeper down (``pkg/weights/model.pth``, PyTorch's weights) is
    data. An sdist's build may put any of its files there: each counts."""
    lower = path.lower()
    name = lower.rsplit("/", 1)[-1]
    if name.endswith(".pth"):
        if kind in ("wheel", "installed") and not SITE_ROOT.match(path):
            return ROLE_OTHER
        return ROLE_PTH
    if name.endswith(PY_SUFFIXES):
        if name == "setup.py" and lower.count("/") <= 1 and kind not in BUILT_KINDS:
            return ROLE_SETUP  # (a wheel runs no setup.py: one in it is a module like any)
        if is_peripheral(path):
            return ROLE_PERIPHERAL
        return ROLE_INIT if name == "__init__.py" else ROLE_MODULE
    if name.endswith(SCRIPT_SUFFIXES):
        return ROLE_SCRIPT
    return ROLE_OTHER


# where a wheel's files land at the top of site-packages: its root, and its .data purelib/platlib
SITE_ROOT = re.compile(r"^(?:[^/]+\.data/(?:purelib|platlib)/)?[^/]+$", re.I)


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace")


def _file_contexts(
    member: Member,
    role: str,
    imported: ImportedReturns | None = None,
    gaps: list[Gap] | None = None,
    *,
    light: bool = False,
) -> list[FileContext]:
    """Contexts of a member: the file itself, then any payloads folded out of it.

    What could not be read fully (encoding, size, parse, depth, a prefix only) goes to ``gaps``.
    ``light``: code nothing installed runs (see ``analyze``), read for its constants.
    """
    gaps = [] if gaps is None else gaps
    if role == ROLE_OTHER:
        if member.strings:  # a binary's URLs, webhooks and hosts, read as its text
            return [FileContext(member.path, ROLE_BINARY, "\n".join(member.strings), None)]
        return []
    data = member.data
    if member.truncated:
        gaps.append(coverage.prefix_only(member.size, len(data)))
        data = data[: data.rfind(b"\n") + 1] or data  # a cut line would not parse
    if role == ROLE_SCRIPT:
        text, _ = coverage.bounded(decode_text(data))
        return [FileContext(member.path, role, text, None)]
    if role == ROLE_PTH:
        text, reading = coverage.decode_pth(data)
        gaps.extend(reading)
        text, cut = coverage.bounded(text)
        gaps.extend(cut)
        code = install_time.pth_code(text)
        facts = _parse_noting(code, None, gaps) if code else None
        return [FileContext(member.path, role, text, facts)]
    text, reading = coverage.decode_source(data)
    gaps.extend(reading)
    texts, cut = coverage.parts(text)
    gaps.extend(cut)
    text = texts[0]
    facts = _parse_noting(text, imported, gaps, setup=role == ROLE_SETUP, light=light)
    contexts = [FileContext(member.path, role, text, facts)]
    if len(texts) > 1:
        more = [_parse_noting(t, imported, gaps, light=light) for t in texts[1:]]
        _join_parts(facts, more)
        contexts += [
            FileContext(member.path, role, t, f) for t, f in zip(texts[1:], more, strict=True)
        ]
    for part in list(contexts):
        _payload_contexts(member.path, role, part.facts, contexts, 0)
    if role == ROLE_SETUP:
        _embedded_code(member.path, role, facts, contexts)
    return contexts


def _join_parts(first: ModuleFacts, more: list[ModuleFacts]) -> None:
    """Parts of one module split for size (``coverage.parts``) read as one module: what its
    module-level code calls runs on import in every part, and the first part (the one other
    modules' reach follows) holds the imports, calls and returns of all of them."""
    edges: dict[str, set[str]] = {}
    firm: dict[str, set[str]] = {}
    roots: set[str] = set()
    firm_roots: set[str] = set()
    for facts in (first, *more):
        for caller, callees in facts.call_edges.items():
            edges.setdefault(caller, set()).update(callees)
        for caller, callees in facts.firm_edges.items():
            firm.setdefault(caller, set()).update(callees)
        roots |= facts.run_on_load
        firm_roots |= facts.firm_on_load
    on_load = reachable(edges, roots)
    firm_on_load = reachable(firm, firm_roots)
    for facts in (first, *more):
        facts.run_on_load = on_load
        facts.firm_on_load = firm_on_load
    first.call_edges = edges
    first.firm_edges = firm
    for facts in more:
        first.imports |= facts.imports
        first.imported_names |= facts.imported_names
        for name, labels in facts.returns.items():
            first.returns.setdefault(name, labels)
        for caller, targets in facts.external_calls.items():
            first.external_calls.setdefault(caller, set()).update(targets)
        for caller, targets in facts.firm_external.items():
            first.firm_external.setdefault(caller, set()).update(targets)


def _parse_noting(
    text: str,
    imported: ImportedReturns | None,
    gaps: list[Gap],
    *,
    setup: bool = False,
    light: bool = False,
) -> ModuleFacts:
    """Facts of ``text`` (what could not be read goes to ``gaps``); for a setup.py, its reach
    too, from the same tree. ``light``: its constants only (``constant_facts``: read as text,
    not parsed; code that never runs has no parse failure to report)."""
    if light:
        return constant_facts(text)
    tree = parse_python(text)  # parsed once (a newer parser asked at most once)
    facts = collect(text, imported, tree) if tree is not None else None
    if facts is None:
        facts = collect_tokens(text)
    if setup and tree is not None:
        facts.setup_reach = reach_of_tree(tree)
    if not facts.parsed:
        gaps.append(coverage.parse_failed(text))
    gaps.extend(coverage.incomplete(facts.incomplete))
    return facts


def _embedded_code(path: str, role: str, facts: ModuleFacts, out: list[FileContext]) -> None:
    """Python kept in string constants of install-time code (often written out and run)."""
    for _line, text in facts.strings:
        if len(text) >= 120 and "\n" in text and "import " in text:
            inner = collect(text)
            if inner is not None and inner.calls:
                out.append(FileContext(path, role, text, inner))


def _roles(artifact: Artifact, backend: set[str], scripts: set[str]) -> dict[str, str]:
    """Role of every member, from its path and the sdist's layout.

    In an sdist, Python under a top-level folder that holds no package (no ``__init__.py``
    anywhere below it) and that the build configuration does not name is the project's own
    tooling (``utils/``, ``release/``...): installing neither runs nor installs it. ``backend``:
    the members of its own build backend (``layout.in_tree_backend``), which run at install;
    ``scripts``: files setup.py runs with the interpreter (``layout.run_by_setup``).
    """
    roles = {
        m.path: ROLE_OTHER if _apple_double(m) else role_of(m.path, artifact.kind)
        for m in artifact.members
    }
    for path in sdist_tooling(artifact):
        if roles[path] in (ROLE_MODULE, ROLE_INIT):
            roles[path] = ROLE_PERIPHERAL
    for path in pth_package_data(artifact):
        roles[path] = ROLE_OTHER  # installed inside its package: site never reads it
    for path in imported_peripheral(artifact.members):
        roles[path] = ROLE_MODULE  # test_utils.py that the package imports is package code
    for path in scripts:
        roles[path] = ROLE_SETUP_HELPER  # run by setup.py with the interpreter: install time
    for path in backend:
        roles[path] = ROLE_SETUP_HELPER  # the sdist's own build backend: imported to build it
    return roles


APPLE_DOUBLE = b"\x00\x05\x16\x07"  # the header of macOS's "._name" metadata files


def _apple_double(member: Member) -> bool:
    """``._module.py`` that macOS's tar adds beside ``module.py``: its extended attributes, not
    Python (no import can name it, and it opens with a NUL byte). Run by setup.py it is still
    judged as what setup.py runs (``run_by_setup``)."""
    return member.path.rpartition("/")[2].startswith("._") and member.data.startswith(APPLE_DOUBLE)


def _mark_build_scripts(
    parsed: list[tuple[Member, list[FileContext]]],
    scripts: set[str],
    unshipped: frozenset[str] = frozenset(),
) -> list[tuple[Member, list[FileContext]]]:
    """Shell, batch and PowerShell scripts that setup.py names run at install
    (``FileContext.run_by_setup``); setup.py's rules know them by their path from the sdist's
    top (``FileContext.build_scripts``), to tell a build running its own script from a command
    line pipvet cannot see, and the ones it names that the sdist lacks (``unshipped``)."""
    shipped = frozenset(path.split("/", 1)[1] for path in scripts)
    marked = []
    for member, ctxs in parsed:
        if member.path in scripts:
            ctxs = [replace(c, run_by_setup=True) for c in ctxs]
        elif ctxs and ctxs[0].role == ROLE_SETUP:
            ctxs = [replace(c, build_scripts=shipped, unshipped=unshipped) for c in ctxs]
        marked.append((member, ctxs))
    return marked


def _setup_helpers(parsed: list[tuple[Member, list[FileContext]]]) -> set[str]:
    """Python files that setup.py runs, so they run at install too: modules it imports (next to
    it, or in a folder it puts on ``sys.path``, package or not) and files it names (``exec`` of
    ``open(...)``, ``runpy``, ``python tools/x.py``), and in turn what those import."""
    facts_of = {m.path: ctxs[0].facts for m, ctxs in parsed if ctxs and ctxs[0].facts is not None}
    helpers: set[str] = set()
    for _member, contexts in parsed:
        if not contexts or contexts[0].role != ROLE_SETUP or contexts[0].facts is None:
            continue
        folder = contexts[0].path.rpartition("/")[0]
        base = f"{folder}/" if folder else ""
        strings = [t for _, t in contexts[0].facts.strings if len(t) < 300]
        # folders setup.py names that hold Python files (sys.path entries, script folders)
        dirs = {""} | {
            f"{_clean(t)}/"
            for t in strings
            if any(p.startswith(f"{base}{_clean(t)}/") for p in facts_of) and _clean(t)
        }
        named = {f"{base}{d}{_clean(t)}" for t in strings if t.endswith(PY_SUFFIXES) for d in dirs}
        if not _runs_files(contexts[0].facts):
            named = set()  # `open("pkg/mod.py").read()` for a version: read as text, never run
        todo = [contexts[0].path, *(p for p in named if p in facts_of)]
        seen = set(todo)
        while todo:
            facts = facts_of.get(todo.pop())
            if facts is None:
                continue
            for name in facts.imports | facts.imported_names:
                rel = name.replace(".", "/")
                for d in dirs:
                    for cand in (f"{base}{d}{rel}.py", f"{base}{d}{rel}/__init__.py"):
                        if (
                            cand in facts_of
                            and cand not in seen
                            and not _in_package(cand, base, facts_of)
                        ):
                            seen.add(cand)
                            todo.append(cand)
        helpers |= seen - {contexts[0].path}
    return helpers


# calls through which setup.py can run a file it names (exec of its text, runpy, a process,
# an import by path); a setup.py without any of them only reads the files it names
FILE_RUNNERS = frozenset(
    {"exec", "eval", "compile", "execfile", "__import__", "load_source", "load_module"}
    | {"exec_module", "spec_from_file_location", "SourceFileLoader", "import_module"}
    | {"run_path", "run_module", "startfile"}
)
RUNNER_MODULES = ("subprocess.", "runpy.", "importlib.", "imp.", "pty.", "commands.", "os.system")
RUNNER_MODULES += ("os.popen", "os.exec", "os.spawn", "os.posix_spawn", "os.startfile")


def _runs_files(facts: ModuleFacts) -> bool:
    if facts.payloads or facts.dynamic_builtins:
        return True
    for call in facts.calls:
        if call.name.rpartition(".")[2] in FILE_RUNNERS:
            return True
        if call.name.startswith(RUNNER_MODULES):
            return True
    return False


def _install_hooks_call_package(
    parsed: list[tuple[Member, list[FileContext]]],
    modules: Mapping[str, tuple[ModuleFacts, bool]],
) -> bool:
    """Functions of the package that setup.py's install-time code calls (``from pkg import
    start; start()`` in a ``cmdclass`` install command, or at its top level) run when it is
    installed: they are marked as running on load in their module. True when any was.
    (``modules``: the package's own modules; helpers next to setup.py keep their reach.)"""
    marked = False
    for _member, contexts in parsed:
        if not contexts or contexts[0].role != ROLE_SETUP or contexts[0].facts is None:
            continue
        ctx = contexts[0]
        facts = ctx.facts
        callers: set[str] = {MODULE_CALLER, *facts.run_on_load}
        hooked = {
            method
            for cls in facts.classes
            if any(is_install_command_base(b) for b in cls.bases)
            for method in cls.methods
        }
        callers |= reachable(facts.call_edges, hooked) | hooked
        for caller in callers:
            for target in facts.external_calls.get(caller, ()):
                mod, _, func = target.rpartition(".")
                callee = modules.get(mod)
                if callee is None or func in callee[0].run_on_load or target.startswith("."):
                    continue
                callee[0].run_on_load = reachable(
                    callee[0].call_edges, (func, *callee[0].run_on_load)
                )
                # installing runs it whatever the branch: not told apart from a firm call
                callee[0].firm_on_load = reachable(
                    callee[0].call_edges, (func, *callee[0].firm_on_load)
                )
                marked = True
    return marked


def _runs_text(parsed: list[tuple[Member, list[FileContext]]], python2: set[str]) -> str | None:
    """Where code that may run executes text it does not hold as a literal (``exec(src)``),
    or None. Such code can edit a file's text before running it, so a file that no Python 3
    compiles as it stands (``analysis.python2``) is not proof that nothing of it runs. (An
    ``exec`` in such a file, the ``python2`` paths, runs nothing either.)"""
    for member, contexts in parsed:
        if member.path in python2:
            continue
        for ctx in contexts:
            if ctx.facts is None or ctx.role not in RUNNING_ROLES:
                continue
            for call in ctx.facts.calls:
                if (
                    call.name in intent.CODE_SINKS
                    and call.computed_first_arg
                    and not _runs_other_files(ctx.facts.calls, call, python2)
                ):
                    return f"{member.path}:{call.line}"
    return None


def _runs_other_files(calls: list[CallFact], run: CallFact, python2: set[str]) -> bool:
    """``run`` executes text read from files only (``exec(compile(f.read(), ...))``), and every
    file its function opens has a constant name (a literal path, or one joined to a folder found
    at run time: ``os.path.join(here, "version.py")``) that none of the ``python2`` files has:
    ``setup.py`` running ``pkg/version.py`` cannot be editing ``bin/tool.py`` before it runs."""
    if not run.labels or not run.labels <= {"file"}:
        return False
    opened = [c.opened_name for c in calls if c.func == run.func and c.name in FILE_OPENERS]
    if not opened or "" in opened:
        return False  # a path computed at run time, to its name, may be any file
    names = {file_name(p) for p in python2}
    return not any(name in names for name in opened)


def _in_package(path: str, base: str, members: Mapping[str, object]) -> bool:
    """True for a module of a package below setup.py's folder: importing it is how setup.py
    reads its own version, and it is judged as the import-time code it also is."""
    folder = path.rpartition("/")[0]
    below = len(folder) > len(base.rstrip("/"))
    return below and (path.endswith("/__init__.py") or f"{folder}/__init__.py" in members)


def _clean(text: str) -> str:
    """A path named in setup.py, relative to its folder: ``./tools/`` -> ``tools``."""
    text = text.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.strip("/")


def parse(source: str, imported: ImportedReturns | None = None) -> ModuleFacts:
    """Facts of a Python source: ``ast`` when it parses, the tokenizer otherwise."""
    facts = collect(source, imported)
    return facts if facts is not None else collect_tokens(source)


def _payload_contexts(
    path: str, role: str, facts: ModuleFacts | None, out: list[FileContext], depth: int
) -> None:
    if facts is None or depth >= MAX_PAYLOAD_DEPTH:
        return
    for _line, payload in facts.payloads[:5]:
        inner = collect(payload)
        if inner is None:
            continue
        out.append(FileContext(path, role, payload, inner))
        _payload_contexts(path, role, inner, out, depth + 1)


def _lookup(returns: dict[str, frozenset[str]], module: str, path: str) -> ImportedReturns:
    """What functions of the artifact's other modules return, as seen from ``module``."""
    is_package = path.endswith("/__init__.py")

    def imported(target: str) -> frozenset[str]:
        absolute = absolute_name(target, module, is_package)
        return returns.get(absolute, frozenset()) if absolute else frozenset()

    return imported


# what hostile input can make the parser or a rule raise: a finding, never a crash
ANALYSIS_ERRORS = (RecursionError, MemoryError, ValueError, TypeError, LookupError)
IMPORTED_ROLES = frozenset({ROLE_INIT, ROLE_MODULE, ROLE_SETUP_HELPER})
# code that runs at install, at start-up, on import or as the package's own commands
RUNNING_ROLES = IMPORTED_ROLES | {ROLE_SETUP, ROLE_PTH, ROLE_SCRIPT}
PROMOTED_ROLES = IMPORTED_ROLES  # Python that runs as the package's code


def _unreadable(exc: BaseException) -> Gap:
    return Gap("analysis.unreadable", None, "the analysis failed on it", type(exc).__name__)


def _limit(findings: list[Finding]) -> list[Finding]:
    """Drop duplicates and keep at most a few findings per rule and file, worst first."""
    seen: set[tuple[str, str, int | None]] = set()
    per_key: dict[tuple[str, str], int] = {}
    out: list[Finding] = []
    ranked = sorted(findings, key=lambda f: -SEVERITIES.index(f.severity))
    for f in ranked:
        key = (f.rule, f.path, f.line)
        if key in seen:
            continue
        seen.add(key)
        n = per_key.get((f.rule, f.path), 0)
        if n >= MAX_FINDINGS_PER_RULE_AND_FILE:
            continue
        per_key[(f.rule, f.path)] = n + 1
        out.append(f)
    return out


def nested_as_data(
    findings: list[Finding], artifact: Artifact, roles: Mapping[str, str]
) -> list[Finding]:
    """``findings`` with those about members of an archive *inside* the artifact (its odd
    entries, what could not be read of it, and its code) one level lower: installers never
    unpack a nested archive and nothing imports from a zip no code puts on its path, so it is
    data (test fixtures, bundled assets, a browser runtime's copy of the standard library).
    Unless Python of the package that may run (not tests or docs) names that archive's file:
    code that unpacks or imports from it counts in full."""
    out: list[Finding] = []
    named: dict[str, bool] = {}
    for f in findings:
        outer, nested, _ = f.path.partition("!/")
        if nested and f.severity not in ("info", "low"):
            if outer not in named:
                named[outer] = _named_by_code(artifact, roles, outer)
            if not named[outer]:
                lower = SEVERITIES[SEVERITIES.index(f.severity) - 1]
                why = f"{f.message.rstrip('.')} (in a nested archive installing never unpacks)"
                f = replace(f, severity=lower, message=why)
        out.append(f)
    return out


def _named_by_code(artifact: Artifact, roles: Mapping[str, str], archive: str) -> bool:
    name = archive.rpartition("/")[2].encode()
    return any(
        name in m.data
        for m in artifact.members
        if roles.get(m.path) in (*PROMOTED_ROLES, ROLE_SETUP, ROLE_PTH) and "!/" not in m.path
    )


def _scripts_run_at_install(
    parsed: list[tuple[Member, list[FileContext]]], scripts: set[str]
) -> set[str]:
    """Of the files setup.py runs as scripts (``scripts``), those it runs when installing: a call
    of its install-time code names them (not one in a command only a maintainer types, such as
    ``cmdclass={"import_cldr": ...}``, nor in a function nothing calls)."""
    if not scripts:
        return set()
    texts = [
        call.text
        for _member, contexts in parsed
        if contexts and contexts[0].role == ROLE_SETUP and contexts[0].facts is not None
        for call in contexts[0].facts.calls
        if contexts[0].when(call) != WHEN_CALL
    ]
    out = set()
    for path in scripts:
        rel = path.partition("/")[2].removeprefix("src/")  # below the sdist's top folder
        module = rel.removesuffix(".py").removesuffix("/__main__").replace("/", ".")
        if any(rel in t or module in t for t in texts):
            out.add(path)
    return out


def _loaded_by_name(
    order: list[Member], roles: dict[str, str], parsed: list[tuple[Member, list[FileContext]]]
) -> list[Member]:
    """Peripheral Python modules (tests, examples, tooling) that the package's own code
    (``PROMOTED_ROLES``, setup.py, ``.pth``) names exactly, in a short string: by the module's
    dotted name (``"pkg.tests.x"``, or ``".tests.x"`` relative to the naming module), or by a
    path of at least a folder and the file (``"tests/x.py"``). A bare word (``"x"``) is not
    enough: that only makes the file read in full (``_names_in_running_code``)."""
    candidates = {}
    for m in order:
        if roles[m.path] == ROLE_PERIPHERAL and m.path.endswith(".py"):
            name = module_name(m.path)
            if name is not None:
                candidates[m.path] = (m, name, m.path.lower())
    if not candidates:
        return []
    names: set[str] = set()
    paths: set[str] = set()
    for member, contexts in parsed:
        if not contexts or contexts[0].role not in (*PROMOTED_ROLES, ROLE_SETUP, ROLE_PTH):
            continue
        importer = module_name(member.path) or ""
        is_package = member.path.endswith("/__init__.py")
        for ctx in contexts:
            if ctx.facts is None:
                continue
            for _line, text in ctx.facts.strings:
                if len(text) >= MAX_NAMING_STRING or "." not in text:
                    continue
                if "/" in text.strip("/") and text.endswith(".py"):
                    paths.add("/" + text.lower().removeprefix("./").lstrip("/"))
                elif text.startswith(".") and importer:
                    absolute = absolute_name(text, importer, is_package)
                    if absolute:
                        names.add(absolute)
                elif _DOTTED.fullmatch(text):
                    names.add(text)
    return [
        m
        for m, name, lower in candidates.values()
        if name in names or any(lower.endswith(p) for p in paths)
    ]


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
IMPORT_TIME = (ROLE_MODULE, ROLE_INIT)
# what lets one module give another names before its first line runs: builtins written, an
# import hook or loader of the package's own
_NAME_INJECTION = re.compile(rb"builtins|meta_path|path_hooks|exec_module|create_module")


def _import_stops(artifact: Artifact, parsed: list[tuple[Member, list[FileContext]]]) -> set[str]:
    """Modules of the package whose every import stops with NameError before anything ran
    (``ModuleFacts.import_stops``), unless some Python of the artifact could provide the missing
    name from outside (``_NAME_INJECTION``)."""
    stops = {
        m.path: ctxs[0].facts.import_stops[1]
        for m, ctxs in parsed
        if ctxs and ctxs[0].facts is not None and ctxs[0].facts.import_stops is not None
    }
    if not stops:
        return set()
    own = {name.partition(".")[0] for name in modules_by_name(artifact.members)}
    stops = {path: roots for path, roots in stops.items() if not roots & own}
    if not stops:
        return set()
    for m in artifact.members:
        if m.path.endswith((*PY_SUFFIXES, ".pth")) and _NAME_INJECTION.search(m.data):
            return set()
    return set(stops)


def _stem(path: str) -> str:
    """The name code uses for a Python file: ``helper`` for ``tests/helper.py`` (an import, a
    module name, a path), the folder's name for an ``__init__.py``."""
    folder, _, name = path.rpartition("/")
    if name == "__init__.py":
        return folder.rpartition("/")[2]
    return name.rpartition(".")[0]


_WORD = re.compile(r"[\w-]+")
NAMED_IN = ("entry_points.txt", "setup.cfg", "pyproject.toml")  # configuration that runs code
MAX_NAMING_STRING = 300  # a module name or a path; longer strings are text, not names
MAX_CONFIG_READ = 1 << 20  # of each such configuration file


def _named_words(contexts: list[FileContext]) -> set[str]:
    """Words of the short strings and the imports of Python contexts: what they can name."""
    out: set[str] = set()
    for ctx in contexts:
        facts = ctx.facts
        if facts is None:
            continue
        for _line, text in facts.strings:
            if len(text) < MAX_NAMING_STRING:
                out.update(_WORD.findall(text))
        for name in (*facts.imports, *facts.imported_names):
            out.update(name.split("."))
    return out


def _names_in_running_code(
    artifact: Artifact, parsed: list[tuple[Member, list[FileContext]]]
) -> set[str]:
    """Words that the artifact's code that may run (its package, setup.py and what it runs,
    ``.pth`` files) and the configuration naming entry points use in strings and imports: a
    test, example or tool named there (``importlib.import_module("pkg.tests.x")``,
    ``runpy.run_path("tools/gen.py")``, an entry point) may run, and is read in full."""
    words: set[str] = set()
    for _member, contexts in parsed:
        words |= _named_words(contexts)
    for m in artifact.members:
        name = m.path.rpartition("/")[2]
        if "!/" not in m.path and (name in NAMED_IN or name.endswith(".pth")):
            words.update(_WORD.findall(decode_text(m.data[:MAX_CONFIG_READ])))
    return words


def analyze(artifact: Artifact) -> AnalysisResult:
    """Run every rule over the artifact's members and judge it.

    Every member is parsed first, so that functions one module's import-time code calls in
    another count as running on import there too (``reach``); then the rules run.
    """
    backend = in_tree_backend(artifact)  # the sdist's own build backend (read once)
    scripts = run_by_setup(artifact)  # run as scripts: their main blocks run at install too
    roles = _roles(artifact, backend, scripts)
    findings: list[Finding] = list(artifact.archive_findings)
    parsed: list[tuple[Member, list[FileContext]]] = []
    returns: dict[str, frozenset[str]] = {}  # "pkg.mod.func" -> labels of what it returns
    gaps: dict[str, list[Gap]] = {}  # member path -> what was not fully analysed

    def read(member: Member, light: bool = False) -> list[FileContext]:
        module = module_name(member.path)
        imported = _lookup(returns, module, member.path) if module else None
        member_gaps = gaps.setdefault(member.path, [])
        try:
            contexts = _file_contexts(
                member, roles[member.path], imported, member_gaps, light=light
            )
        except ANALYSIS_ERRORS as exc:
            member_gaps.append(_unreadable(exc))
            return []
        parsed.append((member, contexts))
        if module and contexts and contexts[0].facts is not None:
            for func, labels in contexts[0].facts.returns.items():
                returns[f"{module}.{func}"] = labels
        return contexts

    order = dependency_order(artifact.members)
    for member in order:
        if roles[member.path] != ROLE_PERIPHERAL:
            read(member)
    # a test-like module that the package's code loads by its exact name (import_module,
    # __import__, run_path of its path) is the package's code, as one it imports is
    promoted = _loaded_by_name(order, roles, parsed)
    while promoted:
        for member in promoted:
            roles[member.path] = ROLE_MODULE
            read(member)
        promoted = _loaded_by_name(order, roles, parsed)
    # tests, docs, examples and the sdist's own tooling run only when a person runs them,
    # unless code that runs names them: those are read in full, the rest for their constants
    words = _names_in_running_code(artifact, parsed)
    pending = [(m, _stem(m.path)) for m in order if roles[m.path] == ROLE_PERIPHERAL]
    while named := [m for m, stem in pending if stem in words]:
        pending = [(m, stem) for m, stem in pending if stem not in words]
        for member in named:
            words |= _named_words(read(member))
    for member, _stem_name in pending:
        read(member, light=True)
    helpers = _setup_helpers(parsed)
    at_install = _scripts_run_at_install(parsed, scripts)
    for member, contexts in parsed:
        if member.path in backend and contexts and contexts[0].facts is not None:
            facts = contexts[0].facts  # the frontend calls its hooks: they run at install
            facts.run_on_load = reachable(facts.call_edges, (*PEP517_HOOKS, *facts.run_on_load))
            facts.firm_on_load = reachable(facts.firm_edges, (*PEP517_HOOKS, *facts.firm_on_load))
        if member.path in at_install and contexts and contexts[0].facts is not None:
            facts = contexts[0].facts  # `python tools/x.py`, `python -m pkg.x`: run as __main__
            facts.run_on_load = reachable(facts.call_edges, (MAIN_CALLER, *facts.run_on_load))
            facts.firm_on_load = reachable(facts.firm_edges, (MAIN_CALLER, *facts.firm_on_load))
    helpers |= backend
    shell_scripts: set[str] = set()  # shell, batch, PowerShell scripts setup.py names
    if artifact.kind in BUILT_KINDS:  # a setuptools command class in a wheel: never run by pip
        parsed = [(m, [replace(c, built=True) for c in ctxs]) for m, ctxs in parsed]
    else:
        shell_scripts = scripts_named_by_setup(artifact)
        unshipped = scripts_not_shipped(artifact)
        if shell_scripts or unshipped:
            parsed = _mark_build_scripts(parsed, shell_scripts, unshipped)
    if helpers:
        parsed = [
            (m, [replace(c, role=ROLE_SETUP_HELPER) for c in ctxs] if m.path in helpers else ctxs)
            for m, ctxs in parsed
        ]
        roles.update(dict.fromkeys(helpers, ROLE_SETUP_HELPER))
    # a package's __main__.py that nothing imports runs for `python -m pkg` only, and a module
    # whose import stops with NameError at once runs only where a caller executes its text in a
    # namespace it prepared: both when called, never on import
    running = [m for m in artifact.members if roles.get(m.path) in RUNNING_ROLES]
    commands = run_as_command(artifact.members, running) | _import_stops(artifact, parsed)
    if commands:
        parsed = [
            (m, [replace(c, command=True) if c.role in IMPORT_TIME else c for c in ctxs])
            if m.path in commands
            else (m, ctxs)
            for m, ctxs in parsed
        ]
    modules = {}
    for member, contexts in parsed:
        if contexts and contexts[0].facts is not None and contexts[0].role in IMPORTED_ROLES:
            name = module_name(member.path)
            if name is not None:
                modules.setdefault(name, (contexts[0].facts, member.path.endswith("/__init__.py")))
    own = {
        module_name(m.path)
        for m, ctxs in parsed
        if ctxs and ctxs[0].role in (ROLE_INIT, ROLE_MODULE)
    }
    package = {name: entry for name, entry in modules.items() if name in own}
    if _install_hooks_call_package(parsed, package):
        propagate(modules)
    propagate(modules)
    for member, contexts in parsed:
        try:
            for ctx in contexts:
                for rule in BINARY_RULES if ctx.role == ROLE_BINARY else FILE_RULES:
                    findings.extend(rule(ctx))
        except ANALYSIS_ERRORS as exc:
            gaps.setdefault(member.path, []).append(_unreadable(exc))
    python2 = {p for p, gs in gaps.items() if any(g.rule in CANNOT_RUN_RULES for g in gs)}
    text_runner = _runs_text(parsed, python2)
    for path, member_gaps in gaps.items():
        if text_runner is not None:
            member_gaps = [coverage.python2_not_proof(g, text_runner) for g in member_gaps]
        findings.extend(gap_finding(path, roles[path], g) for g in member_gaps)
    findings = nested_as_data(findings, artifact, roles)
    for artifact_rule in ARTIFACT_RULES:
        findings.extend(artifact_rule(artifact))
    if artifact.kind in ("wheel", "sdist"):  # compiled Python a wheel installs, or an sdist's
        findings.extend(bytecode(artifact, frozenset(helpers)))  # build imports, unread
    findings = _limit(findings)
    tooling = frozenset(p for p, role in roles.items() if role == ROLE_PERIPHERAL)
    package_code = frozenset(  # test-like modules the package imports, files setup.py runs
        {p for p, role in roles.items() if role in PROMOTED_ROLES and is_peripheral(p)}
        | helpers
        | shell_scripts
    )
    verdict, score = judge(findings, tooling, package_code)
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.path, f.line or 0, f.rule))
    return AnalysisResult(verdict, score, tuple(findings), tooling, package_code)


__all__ = ["ENGINE_VERSION", "analyze"]
