"""One home for parsing scanned Python into an ``ast`` tree.

The running interpreter's parser reads what its own Python version can. A file written for a newer
Python (PEP 695 generics and ``type`` aliases, PEP 701 f-strings, PEP 750 t-strings) does not parse
here, and an unparsed file is a file the rules cannot see. So when the local parser fails, the file
goes to the parser of the newest interpreter on this machine (``python3.13`` on ``PATH``, pyenv's or
uv's): a separate process started isolated (``-I -S``: no site, no user paths, no environment) that
only calls ``ast.parse`` on the text and hands the tree back as JSON data. Nothing of the file is
imported or run, here or there. The tree is rebuilt with this Python's node classes; a node kind
this Python does not have keeps its children visible (a ``type`` alias reads as an assignment, a
t-string as an f-string, anything else as the expressions and statements it holds), and fields it
does not have (``type_params``) are dropped. When no newer parser is found, or it fails too, the
file stays unparsed: the caller reports it (``analysis.parse-failed``), never silence.
"""

from __future__ import annotations

import ast
import atexit
import functools
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

NEWEST_MINOR = 20  # python3.20: far enough ahead that a machine's newest is always tried
REPLY_TIMEOUT = 30.0  # seconds the parser process may take over one file

# Run by the newer interpreter (``-c``): length-prefixed UTF-8 sources in, length-prefixed JSON
# trees out ("null" when it does not parse there either). Kept to the standard library.
HELPER = r"""
import ast, json, sys, warnings
sys.setrecursionlimit(20000)
def value(v):
    if v is None or v is True or v is False or isinstance(v, str):
        return [0, v]
    if isinstance(v, int):
        return [1, hex(v)]
    if isinstance(v, float):
        return [2, repr(v)]
    if isinstance(v, complex):
        return [3, repr(v)]
    if isinstance(v, bytes):
        return [4, v.decode("latin-1")]
    return [5, None]
def enc(n):
    if isinstance(n, ast.AST):
        d = {"_t": type(n).__name__,
             "_k": "stmt" if isinstance(n, ast.stmt) else "expr" if isinstance(n, ast.expr) else ""}
        for f in n._fields:
            v = getattr(n, f, None)
            d[f] = value(v) if f == "value" and isinstance(n, (ast.Constant, ast.MatchSingleton)) \
                else enc(v)
        if getattr(n, "lineno", None) is not None:
            d["_p"] = [n.lineno, n.col_offset, n.end_lineno, n.end_col_offset]
        return d
    if isinstance(n, list):
        return [enc(x) for x in n]
    return n
read, write = sys.stdin.buffer.read, sys.stdout.buffer.write
while True:
    head = read(8)
    if len(head) < 8:
        break
    text = read(int.from_bytes(head, "big")).decode("utf-8", "surrogatepass")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = json.dumps(enc(ast.parse(text)))
    except BaseException:
        out = "null"
    data = out.encode()
    write(len(data).to_bytes(8, "big") + data)
    sys.stdout.buffer.flush()
"""


def code_lines(text: str) -> list[str]:
    """The lines of source ``text`` as Python numbers them (breaks are ``\\n``, ``\\r\\n`` and
    ``\\r`` only). ``str.splitlines`` also breaks at form feeds, ``\\x1c``-``\\x1e``, ``\\x85``
    and ``\\u2028``: one of those in a comment would shift every line after it (an excerpt
    showing another line than the one reported, a call looked for on the wrong line)."""
    return code_text(text).split("\n")


def code_text(text: str) -> str:
    """``text`` with every line break Python knows as ``\\n`` (``code_lines``, joined)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_python(text: str, *, newer: bool = True) -> ast.Module | None:
    """The tree of ``text``, or None when neither this Python nor (with ``newer``) a newer
    interpreter's parser reads it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. in vetted code are not ours
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        if not newer:
            return None
    return parse_with_newer(text)


def parse_with_newer(text: str) -> ast.Module | None:
    parser = _parser()
    if parser is None:
        return None
    data = parser.parse(text)
    if data is None:
        return None
    return tree_from_json(data)


def tree_from_json(data: bytes | str) -> ast.Module | None:
    """This Python's tree from a newer parser's JSON (``HELPER``), or None when it is not one."""
    try:
        raw = json.loads(data)
        tree = _build(raw) if isinstance(raw, dict) else None
        if not isinstance(tree, ast.Module):
            return None
        return ast.fix_missing_locations(tree)
    except (ValueError, TypeError, KeyError, RecursionError, MemoryError):
        return None


def parser_name() -> str | None:
    """The newer interpreter whose parser is used, when there is one (for messages): the
    newest, found without looking for the older ones."""
    explicit = os.environ.get("PIPVET_PARSER_PYTHON", "")
    return _newest(explicit, os.environ.get("PATH", ""), str(Path.home()))


def newer_interpreters() -> tuple[str, ...]:
    """Interpreters on this machine newer than this one, newest first: ``python3.X`` on
    ``PATH``, pyenv's and uv's managed ones (the interpreter itself, never a launcher); or only
    the one ``PIPVET_PARSER_PYTHON`` names."""
    explicit = os.environ.get("PIPVET_PARSER_PYTHON", "")
    return _discover(explicit, os.environ.get("PATH", ""), str(Path.home()))


@functools.cache
def _newest(explicit: str, path: str, home_dir: str) -> str | None:
    return next(_found(explicit, path, home_dir), None)


@functools.cache
def _discover(explicit: str, path: str, home_dir: str) -> tuple[str, ...]:
    return tuple(_found(explicit, path, home_dir))


def _found(explicit: str, path: str, home_dir: str) -> Iterator[str]:
    if explicit:
        exe = _real_interpreter(explicit)
        if exe:
            yield exe
        return
    home = Path(home_dir)
    for minor in range(NEWEST_MINOR, sys.version_info.minor, -1):
        name = f"python3.{minor}"
        candidates = [
            shutil.which(name, path=path),
            *sorted(home.glob(f".pyenv/versions/3.{minor}.*/bin/{name}"), reverse=True),
            *sorted(home.glob(f".local/share/uv/python/cpython-3.{minor}.*/bin/{name}"),
                    reverse=True),
        ]  # fmt: skip
        paths = [str(c) for c in candidates if c]
        # an interpreter's own executable is used as it is; a launcher (a pyenv shim, a
        # script) is asked which interpreter it runs, and only when no executable is found
        exe = next((p for p in paths if _is_executable_binary(p)), None)
        if exe is None:
            exe = next(filter(None, map(_real_interpreter, paths)), None)
        if exe is not None:
            yield exe


_BINARY_MAGIC = (
    b"\x7fELF",  # Linux, BSD
    b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe",  # macOS (Mach-O, fat)
    b"MZ",  # Windows
)  # fmt: skip


def _is_executable_binary(path: str) -> bool:
    """A compiled executable (not a script that launches something else)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return os.access(path, os.X_OK) and head.startswith(_BINARY_MAGIC)


def _real_interpreter(path: str) -> str | None:
    """The interpreter a path runs (a pyenv shim resolves to one, or fails), or None."""
    try:
        out = subprocess.run(
            [path, "-I", "-S", "-c", "import sys; print(sys.executable)"],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    exe = out.stdout.strip()
    return exe if out.returncode == 0 and exe else None


class _Parser:
    """One long-lived parser process of a newer interpreter; replies are read by a thread so a
    file that hangs it is given up after ``REPLY_TIMEOUT`` (the process is then stopped)."""

    def __init__(self, exe: str) -> None:
        self.exe = exe
        self.pid = os.getpid()
        self.proc = subprocess.Popen(
            [exe, "-I", "-S", "-c", HELPER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.replies: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            head = out.read(8)
            if len(head) < 8:
                self.replies.put(None)
                return
            self.replies.put(out.read(int.from_bytes(head, "big")))

    def alive(self) -> bool:
        return self.proc.poll() is None and self.pid == os.getpid()

    def parse(self, text: str) -> bytes | None:
        data = text.encode("utf-8", "surrogatepass")
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(len(data).to_bytes(8, "big") + data)
            self.proc.stdin.flush()
            reply = self.replies.get(timeout=REPLY_TIMEOUT)
        except (OSError, ValueError, queue.Empty):
            reply = None
        if reply is None:
            self.close()
        return reply if reply and reply != b"null" else None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_current: list[_Parser] = []


def _parser() -> _Parser | None:
    """This process's parser process (started on first need; a forked worker starts its own)."""
    exe = parser_name()
    if _current and _current[0].alive() and _current[0].exe == exe:
        return _current[0]
    if _current and _current[0].pid == os.getpid():
        _current[0].close()  # it died (a file it gave up on), or another one is named now
    _current.clear()  # (one inherited from the parent process is not ours to use)
    if exe is None:
        return None
    try:
        _current.append(_Parser(exe))
    except OSError:
        return None
    return _current[0]


@atexit.register
def _close() -> None:
    for parser in _current:
        if parser.pid == os.getpid():
            parser.close()


def _build(d: Any) -> Any:
    if isinstance(d, list):
        out: list[Any] = []
        for item in d:
            built = _build(item)
            if isinstance(built, _Spliced):
                out.extend(built.nodes)
            elif built is not _DROP:
                out.append(built)
        return out
    if not isinstance(d, dict):
        return d
    kind = d["_t"]
    cls = _NODE_CLASSES.get(kind)
    if cls is None:
        return _unknown(d)
    node = cls()
    for name in cls._fields:
        if name not in d:
            setattr(node, name, None)
        elif name == "value" and cls in (ast.Constant, ast.MatchSingleton):
            setattr(node, name, _value(d[name]))
        else:
            built = _build(d[name])
            if isinstance(built, _Spliced):  # an unknown statement in a single-node field
                built = built.nodes[0] if built.nodes else None
            setattr(node, name, None if built is _DROP else built)
    _place(node, d)
    return node


class _Spliced:
    """Statements that stand for one statement this Python has no class for."""

    def __init__(self, nodes: list[ast.AST]) -> None:
        self.nodes = nodes


_DROP = object()


def _unknown(d: dict[str, Any]) -> Any:
    """A node kind this Python does not have, read as what it holds."""
    fields = {k: v for k, v in d.items() if not k.startswith("_")}
    if d["_t"] == "TypeAlias":  # `type X = ...`: an assignment of X
        name = _build(fields.get("name"))
        node = ast.Assign(targets=[name], value=_build(fields.get("value")), type_comment=None)
        if isinstance(name, ast.Name):
            name.ctx = ast.Store()
        return _place(node, d)
    if d["_t"] == "TemplateStr":  # t"..." (PEP 750): its parts, as an f-string's
        return _place(ast.JoinedStr(values=_build(fields.get("values", []))), d)
    if d["_t"] == "Interpolation":
        node = ast.FormattedValue(
            value=_build(fields.get("value")),
            conversion=fields.get("conversion", -1),
            format_spec=_build(fields.get("format_spec")),
        )
        return _place(node, d)
    children = [_build(v) for v in fields.values()]
    flat: list[Any] = []
    for child in children:
        flat.extend(child if isinstance(child, list) else [child])
    exprs = [c for c in flat if isinstance(c, ast.expr)]
    stmts = [c for c in flat if isinstance(c, ast.stmt)]
    if d.get("_k") == "expr":
        return _place(ast.Tuple(elts=exprs, ctx=ast.Load()), d)
    if d.get("_k") == "stmt":
        return _Spliced([_place(ast.Expr(value=e), d) for e in exprs] + stmts)
    return _DROP  # a type parameter and the like: nothing that runs when the module loads


def _place(node: ast.AST, d: dict[str, Any]) -> ast.AST:
    pos = d.get("_p")
    if pos and "lineno" in node._attributes:
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = pos
    return node


def _value(v: list[Any]) -> Any:
    tag, payload = v
    if tag == 0:
        return payload
    if tag == 1:
        return int(payload, 16)
    if tag == 2:
        return float(payload)
    if tag == 3:
        return complex(payload)
    if tag == 4:
        return payload.encode("latin-1")
    return ...


def _node_classes() -> dict[str, type[ast.AST]]:
    """This Python's node classes by name (a parser only ever emits concrete ones)."""
    return {
        name: cls
        for name in dir(ast)
        if isinstance(cls := getattr(ast, name), type) and issubclass(cls, ast.AST)
    }


_NODE_CLASSES = _node_classes()
