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
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass

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


def gap_finding(path: str, role: str, gap: Gap) -> Finding:
    return Finding(
        gap.rule,
        "analysis",
        (PARTIAL_SEVERITY_BY_ROLE if gap.partial else SEVERITY_BY_ROLE).get(role, "low"),
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. in vetted code are not ours
            compile(text, "<scanned>", "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except SyntaxError as exc:
        line, detail = exc.lineno, str(exc.msg or "")[:100]
    except (RecursionError, MemoryError, ValueError) as exc:
        line, detail = None, type(exc).__name__
    else:
        line, detail = None, ""
    stop = _tokenizer_stop(text)
    if stop is None:
        why = f"it does not parse as {running} (read by the tokenizer only)"
        return Gap("analysis.parse-failed", line, why, detail, partial=True)
    why = f"it does not parse as {running}, and the tokenizer stopped at line {stop}"
    return Gap("analysis.parse-failed", line or stop, why, detail)


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
    except (tokenize.TokenError, SyntaxError, ValueError):
        return last
    return None


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
    "plain_codec",
    "prefix_only",
]
