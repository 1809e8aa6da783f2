"""Tokenizer fallback for Python that ``ast`` cannot parse (Python 2, broken files).

Produces the same ``ModuleFacts`` as ``python_ast.collect`` with less precision: dotted calls and
their string arguments, imports and aliases, string constants, assignments' labels, and whether a
call sits inside a ``def`` (Python 2's ``exec code`` statement counts as a call to ``exec``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings

from pipvet.core.analysis.facts.dataflow import DECODER_NAMES
from pipvet.core.analysis.facts.python_ast import (
    BUILTINS,
    FIXED_SOURCE,
    LABEL_SOURCES,
    WATCHED_METHODS,
    WATCHED_ROOTS,
    WHERE_FUNCTION,
    WHERE_MODULE,
    CallFact,
    ClassFact,
    ModuleFacts,
)
from pipvet.core.analysis.facts.syntax import code_lines

IMPORT = re.compile(r"^\s*import\s+([\w., ]+)", re.M)
FROM_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([\w, ]+)", re.M)
MAX_TOKENS = 400_000


def _literal(tok: str) -> str | None:
    body = re.sub(r"^[uUbBrR]{1,2}(?=['\"])", lambda m: m.group(0).replace("u", ""), tok)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(body)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else None


def _aliases(source: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for m in IMPORT.finditer(source):
        for part in m.group(1).split(","):
            bits = part.split()
            if len(bits) == 3 and bits[1] == "as":
                aliases[bits[2]] = bits[0]
            elif bits:
                aliases.setdefault(bits[0].split(".")[0], bits[0].split(".")[0])
    for m in FROM_IMPORT.finditer(source):
        for part in m.group(2).split(","):
            bits = part.split()
            if len(bits) == 3 and bits[1] == "as":
                aliases[bits[2]] = f"{m.group(1)}.{bits[0]}"
            elif len(bits) == 1:
                aliases[bits[0]] = f"{m.group(1)}.{bits[0]}"
    return aliases


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    out: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            out.append(tok)
            if len(out) >= MAX_TOKENS:
                break
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        pass
    return out


def collect_tokens(source: str) -> ModuleFacts:
    """Facts of a source that does not parse, from its tokens."""
    facts = ModuleFacts(parsed=False)
    aliases = _aliases(source)
    facts.imports.update(a for a in aliases.values())
    lines = code_lines(source)
    toks = [t for t in _tokens(source) if t.type not in (tokenize.COMMENT, tokenize.NL)]
    labels_by_name: dict[str, set[str]] = {}
    # block stack: True for def bodies
    stack: list[bool] = []
    pending_def = False
    n = len(toks)
    i = 0
    while i < n:
        tok = toks[i]
        if tok.type == tokenize.INDENT:
            stack.append(pending_def or (bool(stack) and stack[-1]))
            pending_def = False
        elif tok.type == tokenize.DEDENT:
            if stack:
                stack.pop()
        elif tok.type == tokenize.NAME and tok.string in ("def", "lambda"):
            pending_def = tok.string == "def"
        elif tok.type == tokenize.NAME and tok.string == "class" and i + 1 < n:
            facts.classes.append(_class_fact(toks, i, aliases))
        elif tok.type == tokenize.STRING:
            value = _literal(tok.string)
            if value is not None and len(value) >= 4:
                facts.strings.append((tok.start[0], value))
        elif tok.type == tokenize.NAME:
            j, dotted = _dotted(toks, i)
            nxt = toks[j] if j < n else None
            where = WHERE_FUNCTION if stack and stack[-1] else WHERE_MODULE
            if nxt is not None and nxt.string == "(":
                end = _matching(toks, j)
                name = _resolve(dotted, aliases)
                if name is not None:
                    arg_toks = toks[j + 1 : end]
                    facts.calls.append(
                        _call(name, tok.start[0], where, arg_toks, lines, labels_by_name, aliases)
                    )
            elif dotted == "exec" and nxt is not None and nxt.type != tokenize.OP:
                end = j
                while end < n and toks[end].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
                    end += 1
                facts.calls.append(
                    _call("exec", tok.start[0], where, toks[j:end], lines, labels_by_name, aliases)
                )
            elif nxt is not None and nxt.string == "=" and "." not in dotted:
                end = j + 1
                while end < n and toks[end].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
                    end += 1
                labels = _labels(toks[j + 1 : end], labels_by_name, aliases)
                if labels:
                    labels_by_name[dotted] = labels_by_name.get(dotted, set()) | labels
            i = j
            continue
        i += 1
    return facts


def _class_fact(toks: list[tokenize.TokenInfo], i: int, aliases: dict[str, str]) -> ClassFact:
    name = toks[i + 1].string
    bases: list[str] = []
    methods: list[str] = []
    k = i + 2
    if k < len(toks) and toks[k].string == "(":
        end = _matching(toks, k)
        parts = "".join(t.string for t in toks[k + 1 : end]).split(",")
        bases = [_resolve(p.strip(), aliases) or p.strip() for p in parts if p.strip()]
    depth = None
    for t in toks[k : k + 4000]:
        if t.type == tokenize.INDENT:
            depth = (depth or 0) + 1
        elif t.type == tokenize.DEDENT:
            depth = (depth or 0) - 1
            if depth <= 0:
                break
    for a, b in zip(toks[k : k + 4000], toks[k + 1 : k + 4001], strict=False):
        if a.string == "def" and b.type == tokenize.NAME:
            methods.append(b.string)
    return ClassFact(name, tuple(bases), toks[i].start[0], tuple(methods))


def _dotted(toks: list[tokenize.TokenInfo], i: int) -> tuple[int, str]:
    parts = [toks[i].string]
    j = i + 1
    while j + 1 < len(toks) and toks[j].string == "." and toks[j + 1].type == tokenize.NAME:
        parts.append(toks[j + 1].string)
        j += 2
    return j, ".".join(parts)


def _matching(toks: list[tokenize.TokenInfo], j: int) -> int:
    depth = 0
    for k in range(j, min(len(toks), j + 20000)):
        s = toks[k].string
        if s in "([{" and toks[k].type == tokenize.OP:
            depth += 1
        elif s in ")]}" and toks[k].type == tokenize.OP:
            depth -= 1
            if depth == 0:
                return k
    return min(len(toks), j + 20000)


def _resolve(dotted: str, aliases: dict[str, str]) -> str | None:
    head, _, rest = dotted.partition(".")
    base = aliases.get(head)
    name = (base + ("." + rest if rest else "")) if base else dotted
    root = name.split(".", 1)[0]
    if root in WATCHED_ROOTS or name in BUILTINS:
        return name
    last = name.rsplit(".", 1)[-1]
    if "." in name and last in WATCHED_METHODS:
        return "?." + last
    return None


def _labels(
    toks: list[tokenize.TokenInfo], by_name: dict[str, set[str]], aliases: dict[str, str]
) -> set[str]:
    out: set[str] = set()
    k = 0
    while k < len(toks):
        if toks[k].type == tokenize.NAME:
            j, dotted = _dotted(toks, k)
            out |= by_name.get(dotted, set())
            name = _resolve(dotted, aliases) or dotted
            if name in LABEL_SOURCES:
                out.add(LABEL_SOURCES[name])
                if LABEL_SOURCES[name] == "download":
                    out.add(FIXED_SOURCE)  # the address is not followed here: taken as fixed
            if name in DECODER_NAMES or name.endswith(("b64decode", "decodestring", "unhexlify")):
                out.add("decoded")
            if name.endswith(("urlopen", "urlretrieve")):
                out |= {"download", FIXED_SOURCE}
            if name in ("os.environ", "os.getenv") or name.startswith("os.environ"):
                out.add("secret")
            k = j
            continue
        k += 1
    return out


def _call(
    name: str,
    line: int,
    where: str,
    arg_toks: list[tokenize.TokenInfo],
    lines: list[str],
    by_name: dict[str, set[str]],
    aliases: dict[str, str],
) -> CallFact:
    first: list[tokenize.TokenInfo] = []
    depth = 0
    for t in arg_toks:
        if t.type == tokenize.OP and t.string in "([{":
            depth += 1
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
        elif t.type == tokenize.OP and t.string == "," and depth == 0:
            break
        first.append(t)
    folded: str | None = None
    if first and all(t.type == tokenize.STRING or t.string == "+" for t in first):
        parts = [_literal(t.string) for t in first if t.type == tokenize.STRING]
        if all(p is not None for p in parts):
            folded = "".join(p for p in parts if p is not None)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    labels = frozenset(_labels(arg_toks, by_name, aliases))
    return CallFact(
        name=name,
        line=line,
        where=where,
        func=None,
        class_bases=(),
        args=(folded,),
        kwargs=(),
        labels=labels,
        text=text if len(text) <= 160 else text[:157] + "...",
        computed_first_arg=not (len(first) == 1 and first[0].type == tokenize.STRING),
        target_labels=labels,  # (arguments are not told apart here: any may be where it goes)
    )
