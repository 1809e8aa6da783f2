"""Obfuscation: code written so that people cannot read it.

Encoded layers feeding execution, builtins looked up by computed names, code folded out of
``chr()``/join tricks reaching ``exec``, long high-entropy blobs, machine-generated identifiers,
bidi and homoglyph Unicode, and markers of known obfuscators. Honest packages minify JS and vendor
wheels, but almost never hide *Python* behind these tricks.
"""

from __future__ import annotations

import io
import math
import re
import tokenize
import unicodedata
from collections import Counter

from pipvet.core.analysis.facts.syntax import code_lines
from pipvet.core.analysis.model import Finding
from pipvet.core.analysis.rules import WHEN_CALL, FileContext, finding
from pipvet.core.analysis.rules.capabilities import WHEN_TEXT

# Folded text that is real code (not a tuple literal kept in a variable and eval'd).
CODE_LIKE = re.compile(r"\bimport\b|\b(exec|eval|system|popen|urlopen|b64decode|__import__)\s*\(")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
MARKERS = re.compile(
    r"(__pyarmor__|pyarmor_runtime|from pytransform import|__pyarmor_|"
    r"obfuscated (with|by)|import\s+pyobfuscate|Hyperion|BlankOBF|"
    r"__obfuscator__|Kramer|specter|pyobfus|Anubis)",
    re.I,
)
# Lowercase substrings one of which every MARKERS match contains (exact for ASCII text, where
# re.I folds only A-Z; non-ASCII text, e.g. a Kelvin sign for K, always runs the regex).
MARKER_NEEDLES = (
    "pyarmor",
    "pytransform",
    "obfuscat",
    "pyobfus",
    "hyperion",
    "blankobf",
    "kramer",
    "specter",
    "anubis",
)
# Identifiers made of look-alike characters (O/0, l/I/1) or hex-style names: whole words of
# [O0lI1_]{10,}, [Il1]{8,}, [O0]{8,}, _0x[0-9a-fA-F]{4,} or __[0-9]{3,}. Written to begin with a
# plain character class, so the regex engine skips in C the positions no branch can start at (a
# leading \b or lookahead made it try every position of every file: 5x slower): the first
# character is taken, the lookbehind (?<!\w.) stands for the \b before it, and each branch
# checks that first character (?<=...) then matches the rest.
JUNK_IDENT = re.compile(
    r"[O0lI1_](?<!\w[O0lI1_])"
    r"(?:(?<=[O0lI1_])[O0lI1_]{9,}|(?<=[Il1])[Il1]{7,}|(?<=[O0])[O0]{7,}"
    r"|(?<=_)0x[0-9a-fA-F]{4,}|(?<=_)_[0-9]{3,})\b"
)


def _junk(word: str) -> bool:
    """An identifier made only of look-alike characters (O/0, l/I/1), or hex-style names."""
    if word.startswith(("_0x", "__")):
        return True
    return not word.strip("_").isdigit() and len(set(word) - {"_"}) >= 2


IDENT = re.compile(r"[^\W\d]\w*", re.UNICODE)
BLOB = re.compile(r"[A-Za-z0-9+/=_\-\\x]{400,}")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _scripts(word: str) -> set[str]:
    out = set()
    for ch in word:
        if ch.isascii():
            if ch.isalpha():
                out.add("LATIN")
            continue
        name = unicodedata.name(ch, "")
        out.add(name.split(" ")[0] if name else "?")
    return out


def check(ctx: FileContext) -> list[Finding]:
    out: list[Finding] = []
    text = ctx.text
    facts = ctx.facts
    # -- unicode tricks (Python code) ------------------------------------------------------------
    m = None if text.isascii() or ctx.role in ("other", "script") else _trojan_bidi(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        out.append(
            finding(
                "obfuscation.bidi",
                "obfuscation",
                "high",
                ctx,
                line,
                "Bidirectional control characters can make code read differently than it runs.",
                repr(m.group(0)),
            )
        )
    if facts is None:
        return out
    # -- exec of code that was hidden (folded out of chr/join/decoding) ---------------------------
    hidden = ctx.hidden_payload_lines  # folded, not written out as is
    payload_lines = {
        line for line, text in facts.payloads if line in hidden and CODE_LIKE.search(text)
    }
    hidden_exec = [c for c in facts.calls if c.line in payload_lines and c.name in ("exec", "eval")]
    runs = [c for c in facts.calls if c.name in ("exec", "eval", "compile") and c.args]
    if runs and "\\x" in text:
        source = code_lines(text)
        hidden_exec += [c for c in runs if _escaped_letters(source, c.line)]
    for call in hidden_exec[:1]:
        when = ctx.when(call)
        out.append(
            finding(
                "obfuscation.hidden-code-exec",
                "obfuscation",
                "high" if when == WHEN_CALL else "critical",
                ctx,
                call.line,
                f"Executes code that was built to be unreadable {WHEN_TEXT[when]}.",
                call.text,
            )
        )
    hidden_import = next(
        (
            c
            for c in facts.calls
            if c.name in ("__import__", "importlib.import_module")
            and c.args
            and c.args[0] is None
            and ("chr(" in c.text or "[::-1]" in c.text or "^" in c.text)
        ),
        None,
    )
    if hidden_import is not None:
        out.append(
            finding(
                "obfuscation.hidden-import",
                "obfuscation",
                "high",
                ctx,
                hidden_import.line,
                "Imports a module whose name is hidden behind chr()/join tricks.",
                hidden_import.text,
            )
        )
    if facts.dynamic_builtins:
        line, where = facts.dynamic_builtins[0]
        out.append(
            finding(
                "obfuscation.builtins-lookup",
                "obfuscation",
                "low" if where == "function" and ctx.role not in ("setup", "pth") else "high",
                ctx,
                line,
                "Looks up builtins by a computed name, a way to hide exec/eval/__import__.",
            )
        )
    # -- generated identifiers and homoglyphs -----------------------------------------------------
    junk = [w for w in JUNK_IDENT.findall(text) if _junk(w)]
    non_ascii_idents = 0
    mixed = ""
    if not text.isascii():
        for word in dict.fromkeys(IDENT.findall(_code_only(text))):  # first seen first
            if word.isascii():
                continue
            scripts = _scripts(word)
            non_ascii_idents += 1
            if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"} and not mixed:
                mixed = word
    exec_like = any(c.name in ("exec", "eval", "compile", "__import__") for c in facts.calls)
    if len(junk) >= 15 or non_ascii_idents >= 15:
        out.append(
            finding(
                "obfuscation.generated-identifiers",
                "obfuscation",
                "high" if exec_like or facts.dynamic_builtins else "medium",
                ctx,
                None,
                "Machine-generated or non-Latin identifiers throughout: typical of obfuscators.",
                (junk[:1] or [""])[0],
            )
        )
    if mixed:
        out.append(
            finding(
                "obfuscation.homoglyph",
                "obfuscation",
                "medium",
                ctx,
                None,
                "An identifier mixes Latin with Cyrillic or Greek look-alike letters.",
                mixed,
            )
        )
    # -- markers and blobs -------------------------------------------------------------------------
    m = _marker(text[:200_000])
    if m:
        # an obfuscated file carries the marker as code or a comment (``from pytransform import
        # pyarmor_runtime``, ``# Obfuscated with ...``); one that has it only inside its string
        # literals is a tool that writes or recognises such files (an obfuscator's own source)
        coded = _outside_strings(text[:200_000], m)
        if coded is not None:
            sev, message, m = (
                "high" if exec_like else "medium",
                "Marker of a known Python obfuscator.",
                coded,
            )
        else:
            sev = "low"
            message = (
                "Names a known Python obfuscator's marker in its strings only (a tool that "
                "writes or reads obfuscated files; this file is not obfuscated)."
            )
        out.append(
            finding(
                "obfuscation.obfuscator-marker",
                "obfuscation",
                sev,
                ctx,
                text.count("\n", 0, m.start()) + 1,
                message,
                m.group(0),
            )
        )
    if exec_like:
        for line, s in facts.strings:
            if len(s) >= 400 and BLOB.fullmatch(s[:2000]) and entropy(s[:4000]) > 4.5:
                out.append(
                    finding(
                        "obfuscation.encoded-blob",
                        "obfuscation",
                        "medium",
                        ctx,
                        line,
                        "Long encoded blob in a file that also executes dynamic code.",
                        s[:60],
                    )
                )
                break
    return out


# a letter or digit written as a hex escape ("\x63"): nobody spells plain text this way
ESCAPED_LETTER = re.compile(r"\\x(?:[46][1-9a-f]|[57][0-9a]|3[0-9])", re.I)
MIN_ESCAPED = 8


def _escaped_letters(source: list[str], line: int) -> bool:
    """The source line of a call spells text in hex escapes (``eval('\x6d\x61\x67...')``)."""
    if not 0 < line <= len(source):
        return False
    return len(ESCAPED_LETTER.findall(source[line - 1][:20_000])) >= MIN_ESCAPED


def _trojan_bidi(text: str) -> re.Match[str] | None:
    """A bidi control that can make Python read differently than it runs (Trojan Source).

    Such a control sits on a line of code, inside a string or trailing comment that holds more
    than the control itself. Not a trick: a line that is a comment only (prose in a right-to-left
    language), a string literal holding nothing but control characters (a Unicode table, a
    sanitiser's list), and very long lines (minified or generated data).
    """
    spans: tuple[list[tuple[int, int]], int] | bool | None = False  # read when needed
    for m in BIDI.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        end = end if end >= 0 else len(text)
        line = text[start:end]
        if len(line) > 1000 or line.lstrip().startswith("#"):
            continue
        if _BIDI_ONLY_LITERAL.search(line) and not _BIDI_IN_TEXT.search(line):
            continue
        if spans is False:
            spans = _string_spans(text)
        if spans and _inner_line(spans, start, end):  # type: ignore[arg-type]
            continue
        return m
    return None


def _inner_line(found: tuple[list[tuple[int, int]], int], start: int, end: int) -> bool:
    """The line from ``start`` to ``end`` lies wholly inside one string literal that opens on
    an earlier line and closes on a later one (a docstring's example in another language): it
    holds neither quote of that string, so no control on it can move code in or out of it."""
    spans, read = found
    return end < read and any(a < start and end < b for a, b in spans)


_BIDI_CLASS = "\u202a-\u202e\u2066-\u2069"
# a quoted literal made only of bidi controls (and escapes/spaces): '\u202e', "\u2066\u2069"
_BIDI_ONLY_LITERAL = re.compile(f"(['\"])[{_BIDI_CLASS}\\s]+\\1")
# a control next to other characters inside a literal or a trailing comment
_BIDI_IN_TEXT = re.compile(
    f"(['\"][^'\"\\n]*[^{_BIDI_CLASS}\\s'\"][^'\"\\n]*[{_BIDI_CLASS}]|"
    f"[{_BIDI_CLASS}][^'\"\\n]*[^{_BIDI_CLASS}\\s'\"][^'\"\\n]*['\"]|#[^\\n]*[{_BIDI_CLASS}])"
)


_COMMENT_OR_STRING = re.compile(r"#[^\n]*|'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|\"[^\"\n]*\"", re.S)


def _code_only(text: str) -> str:
    """Text without comments and string literals (roughly): identifiers only count in code."""
    return _COMMENT_OR_STRING.sub(" ", text[:500_000])


# the only non-ASCII characters that an IGNORECASE pattern of ASCII letters matches (re's docs:
# U+0130, U+0131, U+017F, U+212A); without them, lowercasing is exact for the substring test
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def _string_spans(text: str) -> tuple[list[tuple[int, int]], int] | None:
    """Offsets (start, end) of the string literals of ``text``, as the tokenizer reads them,
    and how far it read (past that, text counts as code: fail closed); None when it cannot
    read the text at all."""
    spans: list[tuple[int, int]] = []
    starts = [0]  # offset of each line's start
    for line in text.split("\n"):  # as StringIO's readline breaks it (newline="\n")
        starts.append(starts[-1] + len(line) + 1)
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    read = len(text)  # what the tokenizer read
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in strings:
                spans.append(
                    (starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1])
                )
    except tokenize.TokenError as exc:
        # a bracket still open at the end (a file cut at the scan's text bound): every token
        # was read; otherwise (a string left open) it stops where that string starts
        if not str(exc.args[0]).startswith("EOF in multi-line statement"):
            line, col = exc.args[1]
            read = starts[min(max(line, 1), len(starts)) - 1] + col
    except SyntaxError as exc:  # IndentationError: read up to that line
        read = starts[min(max(exc.lineno or 1, 1), len(starts)) - 1]
    except (IndexError, ValueError):
        return None
    return spans, read


def _outside_strings(text: str, first: re.Match[str]) -> re.Match[str] | None:
    """The first marker of ``text`` (``first`` onwards) that is not inside a string literal, or
    None when every one is. Text the tokenizer cannot read counts as code (fail closed)."""
    found = _string_spans(text)
    if found is None:
        return first
    spans, read = found
    m: re.Match[str] | None = first
    while m is not None:
        if m.start() >= read or not any(a <= m.start() < b for a, b in spans):
            return m
        m = MARKERS.search(text, m.end())
    return None


def _marker(text: str) -> re.Match[str] | None:
    """The first obfuscator marker in ``text``; most files skip the regex by a substring test."""
    if text.isascii() or not any(c in text for c in _FOLDS_TO_ASCII):
        lower = text.lower()
        for n in MARKER_NEEDLES:  # a plain loop: this runs for every string of every file
            if n in lower:
                break
        else:
            return None
    return MARKERS.search(text)
