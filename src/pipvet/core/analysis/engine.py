"""The inspection engine: one parse per member, every rule over it, then a verdict.

``analyze`` never executes, imports or builds anything: members are bytes, Python is read with
``ast`` (or the tokenizer when it does not parse), payloads hidden behind ``exec`` are folded
back to text and analysed as code of the same file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pipvet.core.analysis.layout import sdist_tooling
from pipvet.core.analysis.model import (
    SCRIPT_SUFFIXES,
    SEVERITIES,
    AnalysisResult,
    Artifact,
    Finding,
    Member,
)
from pipvet.core.analysis.reach import absolute_name, dependency_order, module_name, propagate
from pipvet.core.analysis.rules import (
    ROLE_INIT,
    ROLE_MODULE,
    ROLE_OTHER,
    ROLE_PERIPHERAL,
    ROLE_PTH,
    ROLE_SCRIPT,
    ROLE_SETUP,
    ROLE_SETUP_HELPER,
    FileContext,
    capabilities,
    indicators,
    install_time,
    intent,
    is_peripheral,
    metadata,
    obfuscation,
)
from pipvet.core.analysis.rules.python_ast import ImportedReturns, ModuleFacts, collect
from pipvet.core.analysis.rules.tokens import collect_tokens
from pipvet.core.analysis.verdict import judge

ENGINE_VERSION = "11"

PY_SUFFIXES = (".py", ".pyw")
MAX_TEXT = 8_000_000  # members larger than this are not parsed (the reader caps them anyway)
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

ARTIFACT_RULES: tuple[Callable[[Artifact], list[Finding]], ...] = (metadata.check_artifact,)


def role_of(path: str) -> str:
    """The role of a member, from its path inside the artifact."""
    lower = path.lower()
    name = lower.rsplit("/", 1)[-1]
    if name.endswith(".pth"):
        return ROLE_PTH
    if name.endswith(PY_SUFFIXES):
        if name == "setup.py" and lower.count("/") <= 1:
            return ROLE_SETUP
        if is_peripheral(path):
            return ROLE_PERIPHERAL
        return ROLE_INIT if name == "__init__.py" else ROLE_MODULE
    if name.endswith(SCRIPT_SUFFIXES):
        return ROLE_SCRIPT
    return ROLE_OTHER


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace")


def _file_contexts(
    member: Member, role: str, imported: ImportedReturns | None = None
) -> list[FileContext]:
    """Contexts of a member: the file itself, then any payloads folded out of it."""
    if role == ROLE_OTHER or member.size > MAX_TEXT:
        return []
    text = decode_text(member.data)
    if role == ROLE_PTH:
        code = install_time.pth_code(text)
        facts = parse(code) if code else None
        return [FileContext(member.path, role, text, facts)]
    if role == ROLE_SCRIPT:
        return [FileContext(member.path, role, text, None)]
    facts = parse(text, imported)
    contexts = [FileContext(member.path, role, text, facts)]
    _payload_contexts(member.path, role, facts, contexts, 0)
    if role == ROLE_SETUP:
        _embedded_code(member.path, role, facts, contexts)
    return contexts


def _embedded_code(path: str, role: str, facts: ModuleFacts, out: list[FileContext]) -> None:
    """Python kept in string constants of install-time code (often written out and run)."""
    for _line, text in facts.strings:
        if len(text) >= 120 and "\n" in text and "import " in text:
            inner = collect(text)
            if inner is not None and inner.calls:
                out.append(FileContext(path, role, text, inner))


def _roles(artifact: Artifact) -> dict[str, str]:
    """Role of every member, from its path and the sdist's layout.

    In an sdist, Python under a top-level folder that holds no package (no ``__init__.py``
    anywhere below it) and that the build configuration does not name is the project's own
    tooling (``utils/``, ``release/``...): installing neither runs nor installs it.
    """
    roles = {m.path: role_of(m.path) for m in artifact.members}
    for path in sdist_tooling(artifact):
        if roles[path] in (ROLE_MODULE, ROLE_INIT):
            roles[path] = ROLE_PERIPHERAL
    return roles


def _setup_helpers(parsed: list[tuple[Member, list[FileContext]]]) -> set[str]:
    """Modules next to setup.py that setup.py imports: they run at install too."""
    helpers: set[str] = set()
    paths = [m.path for m, _ in parsed]
    for _member, contexts in parsed:
        if not contexts or contexts[0].role != ROLE_SETUP or contexts[0].facts is None:
            continue
        imported = {name.split(".")[0] for name in contexts[0].facts.imports}
        folder = contexts[0].path.rpartition("/")[0]
        for path in paths:
            head, _, name = path.rpartition("/")
            if head == folder and name.endswith(".py") and name[:-3] in imported:
                helpers.add(path)
    return helpers


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


def _unreadable(member: Member, exc: BaseException) -> Finding:
    return Finding(
        "analysis.unreadable",
        "analysis",
        "low",
        member.path,
        None,
        "This file could not be fully analysed.",
        type(exc).__name__,
    )


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


def analyze(artifact: Artifact) -> AnalysisResult:
    """Run every rule over the artifact's members and judge it.

    Every member is parsed first, so that functions one module's import-time code calls in
    another count as running on import there too (``reach``); then the rules run.
    """
    findings: list[Finding] = list(artifact.archive_findings)
    roles = _roles(artifact)
    parsed: list[tuple[Member, list[FileContext]]] = []
    returns: dict[str, frozenset[str]] = {}  # "pkg.mod.func" -> labels of what it returns
    for member in dependency_order(artifact.members):
        module = module_name(member.path)
        imported = _lookup(returns, module, member.path) if module else None
        try:
            contexts = _file_contexts(member, roles[member.path], imported)
        except ANALYSIS_ERRORS as exc:
            findings.append(_unreadable(member, exc))
            continue
        parsed.append((member, contexts))
        if module and contexts and contexts[0].facts is not None:
            for func, labels in contexts[0].facts.returns.items():
                returns[f"{module}.{func}"] = labels
    helpers = _setup_helpers(parsed)
    if helpers:
        parsed = [
            (m, [replace(c, role=ROLE_SETUP_HELPER) for c in ctxs] if m.path in helpers else ctxs)
            for m, ctxs in parsed
        ]
    modules = {}
    for member, contexts in parsed:
        if contexts and contexts[0].facts is not None and contexts[0].role in IMPORTED_ROLES:
            name = module_name(member.path)
            if name is not None:
                modules.setdefault(name, (contexts[0].facts, member.path.endswith("/__init__.py")))
    propagate(modules)
    for member, contexts in parsed:
        try:
            for ctx in contexts:
                for rule in FILE_RULES:
                    findings.extend(rule(ctx))
        except ANALYSIS_ERRORS as exc:
            findings.append(_unreadable(member, exc))
    for artifact_rule in ARTIFACT_RULES:
        findings.extend(artifact_rule(artifact))
    findings = _limit(findings)
    tooling = frozenset(p for p, role in roles.items() if role == ROLE_PERIPHERAL)
    verdict, score = judge(findings, tooling)
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.path, f.line or 0, f.rule))
    return AnalysisResult(verdict, score, tuple(findings), tooling)


__all__ = ["ENGINE_VERSION", "analyze"]
