"""Verdict and 0-100 score of one artifact, from its findings.

Severity already encodes *where* code runs and *intent* (rules raise it for install-time and
import-time code and for combinations), so the verdict follows the worst finding, with code in
tests, docs and examples counting one level less. Counts of capability hits do not add up to intent.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipvet.core.analysis.coverage import CANNOT_RUN_RULES
from pipvet.core.analysis.model import SCRIPT_SUFFIXES, SEVERITIES, Finding
from pipvet.core.analysis.rules import is_peripheral

_BAND = {
    "critical": (90, 100),
    "high": (60, 89),
    "medium": (30, 59),
    "low": (10, 29),
    "info": (1, 9),
}
_VERDICT = {
    "critical": "malicious",
    "high": "suspicious",
    "medium": "risky",
    "low": "risky",
    "info": "clean",
}


def weighs_less(path: str, tooling: frozenset[str], package_code: frozenset[str]) -> bool:
    """Tests, docs, examples and the project's own tooling (``tooling``: paths the engine found
    installing never uses), unless they run as the package's code (``package_code``: the package
    imports them, or ``setup.py`` runs them, so they run at install wherever they sit)."""
    return bool(path) and path not in package_code and (path in tooling or is_peripheral(path))


def effective_severity(
    f: Finding, tooling: frozenset[str] = frozenset(), package_code: frozenset[str] = frozenset()
) -> str:
    """The severity a finding counts with: one level less where it ``weighs_less``."""
    if weighs_less(f.path, tooling, package_code) and f.severity != "info":
        return SEVERITIES[SEVERITIES.index(f.severity) - 1]
    return f.severity


def judge(
    findings: Iterable[Finding],
    tooling: frozenset[str] = frozenset(),
    package_code: frozenset[str] = frozenset(),
) -> tuple[str, int]:
    """(verdict, score) for an artifact's findings.

    The worst finding sets the band. Two escalations express intent that single findings do not:
    serious findings of two different kinds (e.g. obfuscation and an exfiltration channel) make
    ``malicious``; a deceptive identity (typosquat, dependency-confusion version) together with
    any code worth a warning makes ``suspicious`` (honest popular projects have neither).
    """
    findings = list(findings)
    levels = [SEVERITIES.index(effective_severity(f, tooling, package_code)) for f in findings]
    if not levels:
        return "clean", 0
    top = max(levels)
    high = SEVERITIES.index("high")
    medium = SEVERITIES.index("medium")
    serious_kinds = {
        f.category
        for f, lv in zip(findings, levels, strict=True)
        if lv >= high and f.category not in NOT_INTENT
    }
    if top == high and len(serious_kinds) >= 2:
        top = SEVERITIES.index("critical")
    deceptive = any(f.rule in DECEPTIVE for f in findings)
    # (a module no Python 3 compiles is excused as code that cannot run, but not in a package
    # that lies about who it is: there it is a payload its author botched, or one hidden from us)
    code_warning = any(
        (lv >= medium and f.category != "metadata") or f.rule in CANNOT_RUN_RULES
        for f, lv in zip(findings, levels, strict=True)
    )
    if top < high and deceptive and code_warning:
        top = high
    if top < high and _intent_with_company(findings, levels, medium, tooling, package_code):
        top = high  # e.g. fetch-and-run code that also talks to a raw IP or hides itself
    top_name = SEVERITIES[top]
    at_top = levels.count(top)
    low, band_high = _BAND[top_name]
    score = min(band_high, low + 2 * max(0, at_top - 1) + sum(1 for lv in levels if lv == top - 1))
    return _VERDICT[top_name], score


def _intent_with_company(
    findings: list[Finding],
    levels: list[int],
    floor: int,
    tooling: frozenset[str],
    package_code: frozenset[str] = frozenset(),
) -> bool:
    """One file with an intent finding plus another intent, indicator or obfuscation finding
    near it (within ``NEAR`` lines; a finding of the whole file, without a line, is near every
    line): in a module of thousands of lines, two signs far apart are two unrelated features."""
    per_file: dict[str, list[Finding]] = {}
    for f, lv in zip(findings, levels, strict=True):
        path = f.path
        if path.lower().endswith(SCRIPT_SUFFIXES) or weighs_less(path, tooling, package_code):
            continue  # shipped scripts, tests and examples are not run by installing
        if lv >= floor and f.category in ("intent", "indicator", "obfuscation"):
            per_file.setdefault(f.path, []).append(f)
    for signs in per_file.values():
        for f in signs:
            if not f.rule.startswith("intent."):
                continue
            near = {g.rule for g in signs if _near(f.line, g.line)}
            if len(_distinct_signs(near)) >= 2:
                return True
    return False


NEAR = 300  # lines: a helper and the code that uses it, in one screenful or two


def _near(a: int | None, b: int | None) -> bool:
    return a is None or b is None or abs(a - b) <= NEAR


# a link to a program (``.../install.ps1``) is what a download of a program fetches: beside
# downloading or writing that file, it is the same act seen twice, not a second sign of intent
SAME_ACT = {
    "indicator.executable-url": frozenset({"intent.download-execute", "intent.drop-payload"})
}
# writing a download to disk, beside running what was downloaded, is a step of that one act
STEP_OF = {"intent.drop-payload": "intent.download-execute"}


def _distinct_signs(rules: set[str]) -> set[str]:
    intents = {r for r in rules if r.startswith("intent.")}
    return {
        r
        for r in rules
        if not (r in SAME_ACT and intents and intents <= SAME_ACT[r])
        and STEP_OF.get(r) not in rules
    }


# what the engine could not read, or the archive: fail closed, but not a second sign of intent
NOT_INTENT = frozenset({"analysis", "scan"})
DECEPTIVE = frozenset({"metadata.typosquat", "metadata.dependency-confusion-version"})
