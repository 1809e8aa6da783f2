"""What the engine could not fully analyse, said as findings (fail closed, never silence).

A source is read the way Python would read it (its declared encoding), within a size bound; what
that reading or the parse had to give up on (a codec that hides code from a byte-level reading,
bytes no codec accepts, a file over the size limit, a file that does not parse, code nested too
deep to walk, a member only partly read) becomes a ``Gap``. The engine turns gaps into findings
once every member's role is known: in code that runs at install, at start-up or on import, a gap
is ``high`` (the verdict is at least ``suspicious``, so the install gate blocks by default).
"""

from __future__ import annotations

import ast
import codecs
import functools
import io
import itertools
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from pipvet.core.analysis.facts.syntax import parser_name
from pipvet.core.analysis.facts.tokens import MAX_TOKENS
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import (
    ROLE_INIT,
    ROLE_MODULE,
    ROLE_PERIPHERAL,
    ROLE_PTH,
    ROLE_SCRIPT,
    ROLE_SETUP,
    ROLE_SETUP_HELPER,
)

MAX_TEXT = 8_000_000  # characters of source parsed; beyond, comments are dropped, then the head

# A file read whole, with less precision (the tokenizer, when ``ast`` cannot parse it): honest
# packages hold modules in syntax newer than the Python pipvet runs on, so on import a partial
# reading is worth a warning; install-time code (setup.py and what it runs, .pth) stays high.
PARTIAL_SEVERITY_BY_ROLE = {
    ROLE_SETUP: "high",
    ROLE_SETUP_HELPER: "high",
    ROLE_PTH: "high",
    ROLE_INIT: "medium",
    ROLE_MODULE: "medium",
    ROLE_SCRIPT: "low",
    ROLE_PERIPHERAL: "low",
}
SEVERITY_BY_ROLE = {
    ROLE_SETUP: "high",
    ROLE_SETUP_HELPER: "high",
    ROLE_PTH: "high",
    ROLE_INIT: "high",
    ROLE_MODULE: "high",
    ROLE_SCRIPT: "medium",
    ROLE_PERIPHERAL: "medium",
}


@dataclass(frozen=True)
class Gap:
    """One part of a member that was not (fully) analysed, and why."""

    rule: str  # "analysis.encoding", "analysis.size-limit"...
    line: int | None
    why: str  # completes "Not fully analysed: ..."
    evidence: str = ""
    partial: bool = False  # read whole, with less precision (PARTIAL_SEVERITY_BY_ROLE)
    severity: str | None = None  # the same wherever the file sits (code no Python 3 can run)


def gap_finding(path: str, role: str, gap: Gap) -> Finding:
    return Finding(
        gap.rule,
        "analysis",
        gap.severity
        or (PARTIAL_SEVERITY_BY_ROLE if gap.partial else SEVERITY_BY_ROLE).get(role, "low"),
        path,
        gap.line,
        f"Not fully analysed: {gap.why}.",
        gap.evidence[:160],
    )


_PROBES = ("A", "\\", '"', "'", "#", "\n")


@functools.lru_cache(maxsize=64)
def plain_codec(name: str) -> bool:
    """True for codecs in which every ASCII byte means itself whatever precedes it (UTF-8, ASCII,
    the latin-1 family of single-byte codecs, EUC): code reads the same as in a byte-level
    reading. Others (utf-7, shift_jis, gbk, iso-2022...) can turn bytes that look like a comment
    or a string into code."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    if info.name in ("utf-8", "ascii"):
        return True
    if "2022" in info.name or info.name in ("hz", "utf-7"):
        return False  # escape sequences switch to modes where ASCII bytes are other characters
    try:
        if bytes(range(128)).decode(info.name) != "".join(map(chr, range(128))):
            return False
        return all(
            bytes([b]).decode(info.name, "replace") + p
            == (bytes([b]) + p.encode()).decode(info.name, "replace")
            for b in range(128, 256)
            for p in _PROBES
        )
    except (UnicodeError, LookupError, ValueError, TypeError):
        return False


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def decode_pth(data: bytes) -> tuple[str, list[Gap]]:
    """The text ``site`` reads from a ``.pth`` file: UTF-8 (a BOM dropped, as 3.13 does), never
    a coding cookie (``site`` does not read one: honouring it would analyse other code than what
    runs). Bytes that are not UTF-8 are read in the locale's encoding by ``site``: a gap."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        why = "it is not UTF-8, and site reads it in the encoding of the machine's locale"
        return data.decode("utf-8", "replace"), [Gap("analysis.encoding", 1, why)]


def decode_source(data: bytes) -> tuple[str, list[Gap]]:
    """The text Python would run (its PEP 263 encoding), and any gap in reading it."""
    gaps: list[Gap] = []
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # unknown codec, or a BOM contradicting the cookie
        declared = _declared(data)
        gaps.append(Gap("analysis.encoding", 1, f"its declared encoding is unusable ({exc})"))
        encoding = declared if declared and _text_codec(declared) else "utf-8"
    if encoding == "utf-8-sig" or data.startswith(codecs.BOM_UTF8):
        data = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        encoding = "utf-8"
    if not plain_codec(encoding):
        gaps.append(
            Gap(
                "analysis.encoding",
                1,
                f"it declares the {encoding} encoding, which hides code from a plain reading "
                "(read here as decoded)",
                f"coding: {encoding}",
            )
        )
    try:
        text = data.decode(encoding)
    except (UnicodeError, LookupError):
        text = data.decode(encoding if _text_codec(encoding) else "utf-8", "replace")
        gaps.append(Gap("analysis.encoding", None, f"it holds bytes that are not valid {encoding}"))
    return text, gaps


def _declared(data: bytes) -> str | None:
    for line in data.split(b"\n", 2)[:2]:
        m = _COOKIE.match(line)
        if m:
            return m.group(1).decode("ascii", "replace")
    return None


def _text_codec(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding  # type: ignore[attr-defined]
    except LookupError:
        return False


_COMMENT_LINE = re.compile(r"(?m)^[ \t]*#[^\n]*$")


def bounded(text: str, limit: int = MAX_TEXT) -> tuple[str, list[Gap]]:
    """``text`` cut to what the parser is given: comment lines emptied (line numbers kept),
    then, if still too large, the head up to a line end. Each step is a gap."""
    if len(text) <= limit:
        return text, []
    size = f"{len(text) / 1e6:.1f} MB"
    stripped = _COMMENT_LINE.sub("", text)
    if len(stripped) <= limit:
        why = f"it is over the {limit / 1e6:.0f} MB size limit ({size}); read without comments"
        return stripped, [Gap("analysis.size-limit", None, why, size)]
    head = stripped[: stripped.rfind("\n", 0, limit) + 1] or stripped[:limit]
    line = head.count("\n") + 1
    why = (
        f"it is over the {limit / 1e6:.0f} MB size limit ({size}); only its first "
        f"{line - 1} lines were read"
    )
    return head, [Gap("analysis.size-limit", line, why, size)]


def parts(text: str, limit: int | None = None) -> tuple[list[str], list[Gap]]:
    """``text`` as the parser is given it: whole when within ``limit``; else without comment
    lines; else split at top-level statements into parts of at most ``limit`` characters, each
    read whole by ``ast`` (decision (a) of the fail-closed rules: a generated module over the
    limit is still read whole, with less precision across parts, so the gap is *partial*).

    Each part keeps the line numbers of the file (earlier lines are blank) and the module's
    top-level imports above it, so calls resolve as in the whole file. Only what no split can
    bring under the limit (one statement larger than it, or text the tokenizer cannot read to
    its end) is cut to its head, as ``bounded`` does: that gap stays whole (not partial).
    """
    limit = MAX_TEXT if limit is None else limit
    if len(text) <= limit:
        return [text], []
    size = f"{len(text) / 1e6:.1f} MB"
    stripped = _COMMENT_LINE.sub("", text)
    if len(stripped) <= limit:
        why = f"it is over the {limit / 1e6:.0f} MB size limit ({size}); read without comments"
        return [stripped], [Gap("analysis.size-limit", None, why, size, partial=True)]
    found = _top_level(stripped)
    if found is None:
        head, gaps = bounded(stripped, limit)
        return [head], gaps
    starts, imports = found
    lines = io.StringIO(stripped).readlines()  # the lines the tokenizer numbered
    texts: list[str] = []
    gaps: list[Gap] = []
    bounds = [*_pack(starts, lines, limit), len(lines) + 1]
    for first, end in itertools.pairwise(bounds):
        above = "".join(lines[i - 1] if i in imports else "\n" for i in range(1, first))
        body = "".join(lines[first - 1 : end - 1])
        if len(body) > limit and literal_data(body):
            # one assignment of literal data over the limit (a dictionary's table): nothing in
            # it runs; its lines are left blank for the parser, its strings unread by it
            why = (
                f"one statement over the {limit / 1e6:.0f} MB size limit is literal data "
                "(strings, numbers, brackets): checked as data, not parsed"
            )
            gaps.append(Gap("analysis.size-limit", first, why, size, partial=True))
            body = "\n" * body.count("\n")
        elif len(body) > limit:  # one statement over the limit: its head only
            body, cut = bounded(body, limit)
            gaps.extend(replace(g, line=(g.line or 1) + first - 1) for g in cut)
        texts.append(above + body)
    why = (
        f"it is over the {limit / 1e6:.0f} MB size limit ({size}); read whole in {len(texts)} "
        "parts split at top-level statements"
    )
    return texts, [Gap("analysis.size-limit", None, why, size, partial=True), *gaps]


# an assignment's target (a name, maybe annotated without a call) and what literal data is made of
_LITERAL_TARGET = re.compile(r"\s*[A-Za-z_]\w*(?:\s*:\s*[\w.\[\], ]*)?\s*=(?!=)")
_STRING = re.compile(
    r"(?<!\w)(?i:[rbu]|rb|br)?"
    r"(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\")",
    re.S,
)
_NUMBER = re.compile(
    r"(?<![\w.])(?:0[xX][0-9a-fA-F_]+|0[oObB][0-7_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)"
    r"(?:[eE][+-]?\d+)?[jJ]?)(?![\w.])"
)
_CONSTANT_WORD = re.compile(r"\b(?:True|False|None)\b")
_PUNCTUATION_ONLY = re.compile(r"[\s(){}\[\],:+\-]*")


def literal_data(statement: str) -> bool:
    """``statement`` assigns literal data and nothing else: a name (maybe annotated) given
    strings (no f-strings), numbers, True/False/None, brackets, commas and colons. Nothing in
    it can call or run anything."""
    head = _LITERAL_TARGET.match(statement)
    if head is None:
        return False
    rest = _STRING.sub(" ", statement[head.end() :])
    rest = _CONSTANT_WORD.sub(" ", _NUMBER.sub(" ", rest))
    return _PUNCTUATION_ONLY.fullmatch(rest) is not None


_CONTINUATIONS = frozenset({"else", "elif", "except", "finally", "case"})


def _top_level(text: str) -> tuple[list[int], set[int]] | None:
    """Lines where a top-level statement may start a part (not a decorated ``def``/``class``
    nor an ``else``-like clause), and the lines of top-level ``import`` statements; None when
    the tokenizer stops short."""
    starts: list[int] = [1]
    imports: set[int] = set()
    depth = 0
    at_start = True
    decorated = False
    importing: int | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tok.type
            if kind == tokenize.INDENT:
                depth += 1
                continue
            if kind == tokenize.DEDENT:
                depth -= 1
                continue
            if kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
                continue
            if kind == tokenize.NEWLINE:
                if importing is not None:
                    imports.update(range(importing, tok.start[0] + 1))
                    importing = None
                at_start = True
                continue
            if at_start:
                at_start = False
                if depth == 0 and tok.start[1] == 0:
                    if not decorated and tok.string not in _CONTINUATIONS:
                        starts.append(tok.start[0])
                    if tok.string in ("import", "from"):
                        importing = tok.start[0]
                decorated = tok.string == "@"
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return starts, imports


def _pack(starts: list[int], lines: list[str], limit: int) -> list[int]:
    """First lines of parts: consecutive top-level statements while they fit in ``limit``."""
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out = [1]
    previous = 1
    for line in sorted(set(starts)):
        if line > 1 and offsets[line - 1] - offsets[out[-1] - 1] > limit:
            if previous > out[-1]:
                out.append(previous)
            if offsets[line - 1] - offsets[out[-1] - 1] > limit:
                out.append(line)  # the statement before ``line`` is over the limit alone
        previous = line
    return out


def prefix_only(size: int, kept: int) -> Gap:
    """A member of which the archive reader kept only the first bytes."""
    return Gap(
        "analysis.truncated",
        None,
        f"only its first {kept} of {size} bytes were read (a size limit of the reader)",
    )


def parse_failed(text: str) -> Gap:
    """A Python file ``ast`` could not parse: read by the tokenizer, whole (a partial reading)
    or only up to where the tokenizer stopped too (not analysed beyond)."""
    running = f"Python {sys.version_info.major}.{sys.version_info.minor}"
    newer = parser_name()
    if newer is not None:  # it was tried (syntax.parse_python) and failed too
        running += f" or as {Path(newer).name.removesuffix('.exe')}"
    error = _first_error(text)
    line, detail = (error.lineno, str(error.msg or "")[:100]) if error else (None, "")
    if isinstance(error, RecursionError | MemoryError | ValueError):
        line, detail = None, type(error).__name__
    stop = _tokenizer_stop(text)
    python2 = _python2_only(text, error) if isinstance(error, SyntaxError) else None
    if python2 is not None and stop is None:
        where, what = python2
        why = f"it is Python 2 ({what}){CANNOT_RUN}"
        evidence = _line(text, where)[:100]
        return Gap("analysis.python2", where, why, evidence, partial=True, severity="low")
    broken = _never_compiles(text, error) if isinstance(error, SyntaxError) else None
    if broken is not None:
        where, what, tail = broken
        why = f"{what} at line {where}{tail}"
        evidence = _line(text, where)[:100]
        return Gap(NEVER_COMPILES, where, why, evidence, partial=stop is None, severity="low")
    if stop is None:
        why = f"it does not parse as {running} (read by the tokenizer only)"
        return Gap("analysis.parse-failed", line, why, detail, partial=True)
    why = f"it does not parse as {running}, and the tokenizer stopped at line {stop}"
    return Gap("analysis.parse-failed", line or stop, why, detail)


def _first_error(text: str) -> BaseException | None:
    """Why this Python's parser rejects ``text`` (None when it does not)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. in vetted code are not ours
            compile(text, "<scanned>", "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        return exc
    return None


CANNOT_RUN = ", which no Python 3 compiles: it cannot run"  # ends an analysis.python2 gap's why
# What CPython says of Python 2 statements and literals that no Python 3 grammar accepts
_PY2_MESSAGES = (
    ("Missing parentheses in call to 'print'", "a print statement"),
    ("Missing parentheses in call to 'exec'", "an exec statement"),
    ("leading zeros in decimal integer literals", "an octal literal written 0777"),
)
_PY2_AT = (  # the token where the parser stopped, for its plain "invalid syntax"
    (re.compile(r"`"), "a backquoted repr"),
    (re.compile(r"<>"), "the <> operator"),
)
_RAISE_PAIR = re.compile(r"\s*raise\s+[^,]+$")  # raise E, "message": up to the comma it stopped at
_LONG = re.compile(r"\b\d+[lL]\b")  # "invalid decimal literal" points into the number
# ``except A, B:`` is Python 2's ``except A as B:``; Python 3.14 reads it as ``except (A, B):``
# (PEP 758), so it alone does not prove the file Python 2: it is read the 3.14 way and parsing
# goes on to the next error
_EXCEPT_PAIR = re.compile(r"^(\s*except\s+)([^:#()]+?,[^:#]+?)(\s*:)")
PY2_ROUNDS = 20


def _python2_only(text: str, error: SyntaxError) -> tuple[int, str] | None:
    """Line and kind of the Python 2 construct that makes ``text`` fail to compile in every
    Python 3 (a print statement, ``0777``...), or None when its first error is anything else.
    Only the parser's first error counts: what stops it there stops the whole file, and code
    past it never runs, whatever it holds."""
    lines = text.splitlines(keepends=True)
    for _ in range(PY2_ROUNDS):
        msg, where = str(error.msg or ""), error.lineno or 0
        if not 0 < where <= len(lines):
            return None
        for start, what in _PY2_MESSAGES:
            if msg.startswith(start):
                return where, what
        at = (error.offset or 0) - 1
        if msg == "invalid syntax" and at >= 0:
            for pattern, what in _PY2_AT:
                if pattern.match(lines[where - 1], at):
                    return where, what
            if lines[where - 1][at : at + 1] == "," and _RAISE_PAIR.match(lines[where - 1][:at]):
                return where, "a raise statement written raise E, value"
        if msg == "invalid decimal literal" and any(
            m.start() <= at < m.end() for m in _LONG.finditer(lines[where - 1])
        ):
            return where, "a long literal written 10L"
        pair = _EXCEPT_PAIR.match(lines[where - 1])
        if not msg.startswith("multiple exception types") or pair is None or " as " in pair[2]:
            return None
        lines[where - 1] = _EXCEPT_PAIR.sub(r"\1(\2)\3", lines[where - 1], count=1)
        again = _first_error("".join(lines))
        if not isinstance(again, SyntaxError):
            return None  # it compiles the 3.14 way (or fails for another reason)
        error = again
    return None


# Errors of the tokenizer's bracket and indentation bookkeeping, the same in every Python
# version (3.0 to 3.14 word them alike): a module with one compiles nowhere, so nothing of it runs
_NEVER_MESSAGES = (
    ("unmatched '", "an unmatched closing bracket"),
    ("closing parenthesis '", "a mismatched closing bracket"),
    ("unindent does not match any outer indentation level", "an unindent matching no block"),
    ("inconsistent use of tabs and spaces in indentation", "tabs and spaces mixed in an indent"),
    ("unexpected indent", "an indent where no block opens"),
)
# ... and the escapes of a str literal that do not decode (``"\\N"`` with no name, ``"\\x4"``):
# every Python 3 rejects them alike (Python 2 read such a literal as bytes)
_ESCAPE_MESSAGE = ("(unicode error) 'unicodeescape' codec", "a string escape that does not decode")
# a string prefix whose literal a later Python tokenizes differently (PEP 701 f-strings in 3.12,
# PEP 750 t-strings in 3.14): quotes inside their braces may leave a bracket looking unmatched
# to an older tokenizer, so a file with one before its error proves nothing
_LATER_STRING = re.compile(r"""(?<![\w.])(?:[rR]?[fFtT]|[fFtT][rR])['"]""")
NEVER_COMPILES = "analysis.never-compiles"
NEVER_RUNS = ", which no Python version compiles: it cannot run"
CANNOT_RUN_RULES = frozenset({"analysis.python2", NEVER_COMPILES})


def _never_compiles(text: str, error: SyntaxError) -> tuple[int, str, str] | None:
    """Line, kind and reason of a bracket or indentation error that every Python's tokenizer
    makes of ``text`` (``f(x))``, an unindent to no block), or of a str escape no Python 3
    decodes; None for any other first error, or when an f- or t-string comes before it (a newer
    Python may read that string, and the bracket, apart). The parser stops at the first error:
    what follows it never runs either."""
    msg, where = str(error.msg or ""), error.lineno or 0
    what = next((w for start, w in _NEVER_MESSAGES if msg.startswith(start)), None)
    tail = NEVER_RUNS
    if what is None and msg.startswith(_ESCAPE_MESSAGE[0]):
        what, tail = _ESCAPE_MESSAGE[1], CANNOT_RUN
    if what is None or where < 1:
        return None
    lines = text.splitlines(keepends=True)
    if where > len(lines) or _later_string_before("".join(lines[:where])):
        return None
    return where, what, tail


_STRING_STARTS = frozenset(
    getattr(tokenize, name)
    for name in ("FSTRING_START", "TSTRING_START")
    if hasattr(tokenize, name)
)


def _later_string_before(head: str) -> bool:
    """An f- or t-string in the code of ``head`` (the lines up to an error): read as tokens, so
    that prose in a docstring (``don't"``) is not taken for one. A token this Python reads as an
    f-string, or a ``t``/``rt`` name right before a string (3.14's t-string to an older reader)."""
    if not _LATER_STRING.search(head):
        return False  # (most files: no such prefix anywhere)
    previous = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(head).readline):
            if tok.type in _STRING_STARTS:
                return True
            if tok.type == tokenize.STRING:
                prefix = tok.string[: len(tok.string) - len(tok.string.lstrip("rRbBuUfFtT"))]
                if "f" in prefix.lower() or "t" in prefix.lower():
                    return True
                if (
                    previous is not None
                    and previous.type == tokenize.NAME
                    and previous.string.lower() in ("t", "rt", "tr")
                    and previous.end == tok.start
                ):
                    return True
            previous = tok
    except (tokenize.TokenError, SyntaxError):
        return False  # (the head ends inside the statement or the indent that fails)
    return False


def python2_not_proof(gap: Gap, runner: str) -> Gap:
    """``gap`` again as a parse failure when it says no Python compiles the file (Python 2, a
    bracket or indent no tokenizer accepts) but code of the artifact (``runner``, path:line)
    executes text it reads: that code may edit a file before running it."""
    if gap.rule not in CANNOT_RUN_RULES:
        return gap
    said = gap.why.removesuffix(CANNOT_RUN).removesuffix(NEVER_RUNS)
    why = f"{said}; but {runner} executes text it reads, edited or not"
    return Gap("analysis.parse-failed", gap.line, why, gap.evidence, partial=gap.partial)


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _tokenizer_stop(text: str) -> int | None:
    """The line where tokenizing ``text`` stops short (None when it reads it whole)."""
    count = 0
    last = 1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            count += 1
            last = tok.start[0]
            if count > MAX_TOKENS:
                return last
    except tokenize.TokenError as exc:
        # a bracket left open at the end of the file: every token was read, to the last line
        return None if str(exc.args[0]).startswith(EOF_IN_STATEMENT) else last
    except (SyntaxError, ValueError):
        return last
    return None


EOF_IN_STATEMENT = "EOF in multi-line statement"


def incomplete(facts_incomplete: list[tuple[int, str]]) -> list[Gap]:
    return [Gap("analysis.depth-limit", line or None, why) for line, why in facts_incomplete]


__all__ = [
    "MAX_TEXT",
    "Gap",
    "bounded",
    "decode_source",
    "gap_finding",
    "incomplete",
    "parse_failed",
    "parts",
    "plain_codec",
    "prefix_only",
    "python2_not_proof",
]
