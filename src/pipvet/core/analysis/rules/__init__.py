"""Detection rules of the inspection engine.

Each rule module has ``check(ctx: FileContext) -> list[Finding]`` over one member (its text and, for
Python, the facts of its single parse); ``metadata`` and ``intent`` also have artifact-level checks.
``FileContext.when`` tells rules *where* code runs: at install (``setup.py``, ``cmdclass``), at
every interpreter start (``.pth``), on import (module level) or only when called.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from pipvet.core.analysis.facts.python_ast import (
    WHERE_FUNCTION,
    WHERE_MAINTAINER,
    CallFact,
    ModuleFacts,
)
from pipvet.core.analysis.facts.setup_reach import INSTALL_COMMANDS, SetupReach, setup_reach
from pipvet.core.analysis.model import Finding

# Roles of a member, decided from its path.
ROLE_SETUP = "setup"  # setup.py at the project root: runs at install/build time
ROLE_SETUP_HELPER = "setup-helper"  # a module next to setup.py that setup.py imports
ROLE_PTH = "pth"  # .pth file: import lines run at every interpreter start
ROLE_INIT = "init"  # package __init__.py: runs on import
ROLE_MODULE = "module"  # other Python module
ROLE_PERIPHERAL = "peripheral"  # tests, docs, examples, benchmarks: never run by installing
ROLE_SCRIPT = "script"  # shell, batch, PowerShell, JavaScript and similar
ROLE_OTHER = "other"
ROLE_BINARY = "binary"  # a native module, executable or bytecode: only its indicator strings

MAX_STRING = 20_000  # longer string constants are scanned only up to this length
# Characters that re.IGNORECASE matches with ASCII letters but str.lower() does not turn into them
# (long s, dotless i, dotted capital I, Kelvin sign): folded before needle pre-filters.
_REGEX_CASE_FOLDS = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0130": "i", "\u212a": "k"})

# When code runs, from worst to mildest.
WHEN_INSTALL = "install"
WHEN_STARTUP = "startup"
WHEN_IMPORT = "import"
WHEN_CALL = "call"


def _spelt_in(line: str, text: str) -> bool:
    """``line`` is written in ``text`` as it reads, or with only its backslashes and quotes
    escaped as a string literal holds them (``"...{!r}\\n"`` inside ``exec('...')``); letters
    spelt as escapes (``\\x65``) are not."""
    if line in text:
        return True
    if "\\" not in line and "'" not in line and '"' not in line:
        return False
    escaped = line.replace("\\", "\\\\")
    return any(
        form in text for form in (escaped, escaped.replace("'", "\\'"), escaped.replace('"', '\\"'))
    )


def is_install_command_base(base: str) -> bool:
    """True for a base class like ``setuptools.command.install.install``."""
    last = base.rsplit(".", 1)[-1]
    return last in INSTALL_COMMANDS and (
        base == last or base.startswith(("setuptools", "distutils", "wheel"))
    )


@dataclass(frozen=True)
class FileContext:
    """One member as the rules see it."""

    path: str
    role: str
    text: str
    facts: ModuleFacts | None  # None for non-Python members and Python that did not parse
    built: bool = False  # in a wheel or an installed distribution: installing runs none of it
    # runs only when called, never on import: a package's ``__main__.py`` that nothing of the
    # artifact imports (``python -m pkg``, a person's command: ``reach.run_as_command``), or a
    # module whose import stops with NameError at once (``facts.namespace``)
    command: bool = False
    # a shipped shell, batch or PowerShell script that the sdist's setup.py names
    # (``layout.scripts_named_by_setup``): it runs at install
    run_by_setup: bool = False
    # setup.py only: those scripts, by their path from the sdist's top (``build/make.sh``)
    build_scripts: frozenset[str] = frozenset()
    # setup.py only: script and program files it names by a relative path that the sdist does
    # not hold (``layout.scripts_not_shipped``)
    unshipped: frozenset[str] = frozenset()

    def when(self, call: CallFact) -> str:
        """When the code of ``call`` runs."""
        if call.where == WHERE_MAINTAINER:
            return WHEN_CALL  # `if sys.argv[-1] == "publish":` runs on a maintainer's command
        if self.role == ROLE_SETUP:
            if self._setup_reach.in_maintainer_command(call.line):
                return WHEN_CALL  # a method of cmdclass["upload"]: run by a maintainer
            if call.where == WHERE_FUNCTION and call.func in self._setup_reach.dead_functions:
                return WHEN_CALL  # a function of setup.py nothing calls
            return WHEN_INSTALL
        if self.role == ROLE_PTH:
            return WHEN_STARTUP
        on_load = (
            call.where == WHERE_FUNCTION
            and self.facts is not None
            and (call.func in self.facts.run_on_load)
        )
        if self.role == ROLE_SETUP_HELPER:
            return WHEN_CALL if call.where == WHERE_FUNCTION and not on_load else WHEN_INSTALL
        if not self.built and any(is_install_command_base(b) for b in call.class_bases):
            return WHEN_INSTALL  # a build command setup.py may register (an sdist's module)
        if self.command:
            return WHEN_CALL
        if call.where == WHEN_FUNCTION_MARK and not on_load:
            return WHEN_CALL
        if call.where == "main":
            return WHEN_CALL
        if self.role == ROLE_PERIPHERAL:
            return WHEN_CALL
        return WHEN_IMPORT

    def conditional(self, call: CallFact) -> bool:
        """``call`` runs only on a condition: inside an ``if`` branch or an ``except`` handler
        of its function, or in a function that loading the module reaches only through such a
        call (``except ImportError: check_requirements(...)``)."""
        if call.guarded:
            return True
        facts = self.facts
        return (
            call.where == WHERE_FUNCTION
            and facts is not None
            and call.func in facts.run_on_load
            and call.func not in facts.firm_on_load
        )

    @cached_property
    def hidden_payload_lines(self) -> frozenset[int]:
        """Lines whose executed code the reader cannot see.

        Code is in plain sight when each of its lines is written out, whole, in a string literal
        of the file: one literal (``exec(compile("def f(): ..."))``) or whole lines joined
        (``exec("\\n".join(["from sympy import *", "init_printing()"]))``). Code folded out of
        escapes, ``chr`` calls, reversals, decoding or pieces of a line is hidden. Either way the
        code is analysed on its own as well."""
        facts = self.facts
        if facts is None or not facts.payloads:
            return frozenset()
        text = self.text
        written = {line.strip() for _at, literal in facts.strings for line in literal.splitlines()}
        return frozenset(
            at
            for at, code in facts.payloads
            if not all(
                line in written and _spelt_in(line, text)
                for line in (raw.strip() for raw in code.splitlines())
                if line
            )
        )

    @cached_property
    def _setup_reach(self) -> SetupReach:
        if self.facts is not None and self.facts.setup_reach is not None:
            return self.facts.setup_reach  # read with the facts, from the same tree
        return setup_reach(self.text)

    @cached_property
    def _blob(self) -> tuple[str, list[int], list[int]]:
        """All string constants (or, without facts, the text) joined for one regex scan each."""
        if self.facts is None:
            return self.text, [], []
        parts: list[str] = []
        starts: list[int] = []
        lines: list[int] = []
        pos = 0
        for line, s in self.facts.strings:
            s = s[:MAX_STRING]
            starts.append(pos)
            lines.append(line)
            parts.append(s)
            pos += len(s) + 1
        return "\n".join(parts), starts, lines

    @cached_property
    def _needles_seen(self) -> dict[int, bool]:
        """Whether one of a needle tuple (by identity: module constants) occurs, per tuple."""
        return {}

    @cached_property
    def _lower(self) -> str:
        blob = self._blob[0]
        if blob.isascii():
            return blob.lower()
        # re.I also matches these with s/i/k: fold them so that needles do not miss such matches
        return blob.translate(_REGEX_CASE_FOLDS).lower()

    def find(
        self,
        pattern: re.Pattern[str],
        limit: int = 1,
        needles: tuple[str, ...] = (),
        begins: tuple[str, ...] = (),
    ) -> list[tuple[int | None, re.Match]]:
        """Matches of ``pattern`` in the file's strings (or text), with their line numbers.

        ``needles`` are lowercase substrings one of which every match contains: when none occurs,
        the regex is not run at all (a fast pre-filter). ``begins`` are lowercase literals one of
        which every match starts with: the pattern is then tried only where one occurs (the same
        matches; a large pattern of many alternatives tried at every position was the cost).
        """
        if needles:
            seen = self._needles_seen
            present = seen.get(id(needles))  # rules share needle tuples (one test per file)
            if present is None:
                lower = self._lower
                for n in needles:  # a plain loop: this runs for every pattern of every file
                    if n in lower:
                        present = True
                        break
                else:
                    present = False
                seen[id(needles)] = present
            if not present:
                return []
        blob, starts, lines = self._blob
        out: list[tuple[int | None, re.Match]] = []
        matches = self._anchored(pattern, begins) if begins else None
        for m in matches if matches is not None else pattern.finditer(blob):
            if starts:
                line: int | None = lines[bisect.bisect_right(starts, m.start()) - 1]
            else:
                line = blob.count("\n", 0, m.start()) + 1
            out.append((line, m))
            if len(out) >= limit:
                break
        return out

    def _anchored(
        self, pattern: re.Pattern[str], begins: tuple[str, ...]
    ) -> Iterator[re.Match] | None:
        """``pattern.finditer`` over the blob, tried only at the places where one of ``begins``
        occurs (None when the folded text does not line up with the blob: then search it all)."""
        blob, lower = self._blob[0], self._lower
        if len(lower) != len(blob):
            return None
        places: set[int] = set()
        for word in begins:
            at = lower.find(word)
            while at >= 0:
                places.add(at)
                at = lower.find(word, at + 1)

        def run() -> Iterator[re.Match]:
            end = 0
            for at in sorted(places):
                if at < end:
                    continue  # inside the previous match: finditer does not overlap
                m = pattern.match(blob, at)
                if m is not None:
                    yield m
                    end = max(m.end(), at + 1)

        return run()

    def find_paths(
        self, pattern: re.Pattern[str], needles: tuple[str, ...] = ()
    ) -> list[tuple[int | None, re.Match]]:
        """The first match of ``pattern`` (a file or folder name) that is not part of a web
        address: ``https://example.com/services/discord/`` names a page, not a file on disk."""
        blob = self._blob[0]
        for line, m in self.find(pattern, limit=50, needles=needles):
            token = _TOKEN_START.split(blob[max(0, m.start() - 300) : m.start()])[-1]
            if not _WEB_ADDRESS.match(token):
                return [(line, m)]
        return []

    @property
    def file_when(self) -> str:
        """When code of this file runs at the earliest (for text rules without call facts)."""
        if self.role in (ROLE_SETUP, ROLE_SETUP_HELPER) or self.run_by_setup:
            return WHEN_INSTALL
        if self.role == ROLE_PTH:
            return WHEN_STARTUP
        if self.role in (ROLE_INIT, ROLE_MODULE) and not self.command:
            return WHEN_IMPORT
        return WHEN_CALL


WHEN_FUNCTION_MARK = WHERE_FUNCTION
# the text of a token before a match (split at whitespace, quotes and brackets), and a web
# address at its start: scheme, host, then a path
_TOKEN_START = re.compile(r"[\s'\"`()<>\[\]{},;|]")
_WEB_ADDRESS = re.compile(r"(?:https?|wss?)://[\w.-]+(?::\d+)?/", re.I)


def finding(
    rule: str,
    category: str,
    severity: str,
    ctx: FileContext | None,
    line: int | None,
    message: str,
    evidence: str = "",
) -> Finding:
    """Build a Finding with evidence shortened to one line."""
    evidence = " ".join(evidence.split())
    if len(evidence) > 160:
        evidence = evidence[:157] + "..."
    return Finding(rule, category, severity, ctx.path if ctx else "", line, message, evidence)


def bump(severity: str, when: str, table: dict[str, str]) -> str:
    """Severity from a per-``when`` table, defaulting to ``severity``."""
    return table.get(when, severity)


PERIPHERAL_DIRS = frozenset(
    [
        *("test", "tests", "testing", "docs", "doc", "examples", "example", "samples", "sample"),
        *("benchmarks", "benchmark", "testsuite", "testsuites"),
    ]
)


SDIST_TOP = re.compile(r"^[\w.+-]+-\d[\w.+!-]*$")  # "name-1.2.3", the folder of an sdist
SDIST_DEV_DIRS = frozenset({"scripts", "tools", "ci", ".github", "dev", "devtools", "bench"})


_WORDS = re.compile(r"[\s_.-]+")


def _unimportable_or_peripheral(part: str, nested: bool) -> bool:
    """A folder no import can reach (hidden, or a name with spaces) or named for tests/docs.

    Compound names ("manual tests", "test_data") count only for ``nested`` folders: a top-level
    package called ``doc_builder`` is the project's own code.
    """
    if part in PERIPHERAL_DIRS:
        return True
    if part.startswith(".") and part not in (".", ".."):
        return True  # .github, .circleci, .ci: CI configuration, never imported
    if " " in part or ("{{" in part and "}}" in part):
        return True  # a name with spaces, or a template's ({{cookiecutter.name}}): not a package
    return nested and any(w in PERIPHERAL_DIRS for w in _WORDS.split(part))


def is_peripheral(path: str) -> bool:
    """True for tests, docs, examples and benchmarks: code that installing never runs."""
    parts = path.lower().split("/")
    name = parts[-1]
    first_own = 2 if len(parts) > 2 and SDIST_TOP.match(parts[0]) else 1
    if any(_unimportable_or_peripheral(p, i >= first_own) for i, p in enumerate(parts[:-1])):
        return True
    if len(parts) > 2 and SDIST_TOP.match(parts[0]) and parts[1] in SDIST_DEV_DIRS:
        return True  # an sdist's own dev tooling (scripts/, tools/, ci/), never installed
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "test.py", "tests.py")
    )
