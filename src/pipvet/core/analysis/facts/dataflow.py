"""Follow values through a module: constant folding, name resolution and taint labels.

Folding turns expressions built to hide a string (concatenation, ``join``, ``chr()`` runs, reversed
slices, ``bytes.fromhex``, base64/zlib/rot13 decoding of constants) back into the string. Resolution
turns a callee into a dotted name (``from os import system as s``; ``getattr(__import__('o'+'s'),
'system')``). Labels say where a value came from (decoded, downloaded, a secret...), so intent rules
can see a secret flowing into a network call or a decoded blob flowing into ``exec``.
"""

from __future__ import annotations

import ast
import base64
import binascii
import builtins
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable

MAX_FOLD = 1_000_000  # never build folded values larger than this (characters/bytes)

Value = str | bytes


def file_name(path: str) -> str:
    """The last part of a path written with either separator ("" for a folder's path)."""
    return path.replace("\\", "/").rpartition("/")[2]


class Scope:
    """Names bound in one function (or the module): folded values, aliases and labels."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.values: dict[str, Value] = {}
        self.aliases: dict[str, str] = {}
        self.labels: dict[str, frozenset[str]] = {}
        self.lists: dict[str, list[Value]] = {}
        self.params: set[str] = set()  # the function's parameters (this scope only)
        self.prefixes: dict[str, str] = {}  # constant starts of values that do not fold
        self.path_names: dict[str, str] = {}  # file names that such values end in, or ""
        self.settings: set[str] = set()  # names bound to an item of a configuration object
        # names bound to an environment variable named as an address (``url = os.getenv(
        # "SERVICE_URL")``): a destination the user configured (this scope only)
        self.addresses: set[str] = set()

    def is_setting(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.settings:
                return True
            if name in scope.labels or name in scope.values:
                return False
            scope = scope.parent
        return False

    def prefix(self, name: str) -> str:
        return self._text_of(name, "prefixes", lambda value: value[:200])

    def path_name(self, name: str) -> str:
        """The file name the path bound to ``name`` ends in (``Collector._path_name``), or ""."""
        return self._text_of(name, "path_names", file_name)

    def _text_of(self, name: str, table: str, of_value: Callable[[str], str]) -> str:
        """What ``table`` (a per-scope dict) holds for ``name``, from the nearest scope that
        binds it; for a name bound to a folded string, ``of_value`` of that string."""
        scope: Scope | None = self
        while scope is not None:
            held = getattr(scope, table)
            if name in held:
                return held[name]
            if name in scope.values:
                value = scope.values[name]
                return of_value(value) if isinstance(value, str) else ""
            scope = scope.parent
        return ""

    def value(self, name: str) -> Value | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None

    def items(self, name: str) -> list[Value] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.lists:
                return scope.lists[name]
            scope = scope.parent
        return None

    def alias(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.aliases:
                return scope.aliases[name]
            scope = scope.parent
        return None

    def label(self, name: str) -> frozenset[str]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.labels:
                return scope.labels[name]
            scope = scope.parent
        return NO_LABELS


NO_LABELS: frozenset[str] = frozenset()  # what carries no label (one shared value)
BUILTIN_ALIASES = {"__builtins__", "builtins", "__builtin__"}
BUILTIN_NAMES = (
    frozenset(dir(builtins)) | BUILTIN_ALIASES | {"execfile", "file", "reload", "unicode"}
)

# Calls that decode or decompress their first argument.
DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "base64.b64decode": lambda b: base64.b64decode(b + b"=" * (-len(b) % 4)),
    "base64.decodebytes": base64.decodebytes,
    "base64.decodestring": base64.decodebytes,
    "base64.standard_b64decode": lambda b: base64.b64decode(b + b"=" * (-len(b) % 4)),
    "base64.urlsafe_b64decode": lambda b: base64.urlsafe_b64decode(b + b"=" * (-len(b) % 4)),
    "base64.b32decode": base64.b32decode,
    "base64.b16decode": lambda b: base64.b16decode(b, casefold=True),
    "base64.b85decode": base64.b85decode,
    "base64.a85decode": base64.a85decode,
    "binascii.a2b_base64": binascii.a2b_base64,
    "binascii.unhexlify": binascii.unhexlify,
    "binascii.a2b_hex": binascii.a2b_hex,
    "bytes.fromhex": lambda b: bytes.fromhex(b.decode("ascii")),
    "zlib.decompress": lambda b: zlib.decompressobj().decompress(b, MAX_FOLD),
    "gzip.decompress": lambda b: zlib.decompressobj(31).decompress(b, MAX_FOLD),
    "bz2.decompress": bz2.decompress,
    "lzma.decompress": lzma.decompress,
}
DECODER_NAMES = frozenset(DECODERS) | {"codecs.decode", "marshal.loads", "pickle.loads"}


def _as_bytes(v: Value) -> bytes:
    return v.encode("latin-1", "ignore") if isinstance(v, str) else v


def _as_text(v: Value) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


class Folder:
    """Constant folding and name resolution over one scope chain."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._memo: dict[int, Value | None] = {}
        # resolutions by node, each with the ``aliases_version`` it was made under (and the node,
        # kept alive so that its id is not reused): a callee is resolved 2-3 times on average
        self._resolved: dict[int, tuple[int, ast.expr, str | None]] = {}
        self.aliases_version = 0

    @property
    def scope(self) -> Scope:
        return self._scope

    @scope.setter
    def scope(self, scope: Scope) -> None:
        self._scope = scope
        self.aliases_version += 1

    def aliases_changed(self) -> None:
        """Say that an alias of the scope chain was bound (resolutions made before are stale).
        What ``resolve`` reads besides aliases is folded values, memoised once for all."""
        self.aliases_version += 1

    # -- resolution -------------------------------------------------------------------------
    def resolve(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to, e.g. ``os.system`` or ``exec``."""
        key = id(node)
        hit = self._resolved.get(key)
        if hit is not None and hit[0] == self.aliases_version:
            return hit[2]
        name = self._resolve(node)
        self._resolved[key] = (self.aliases_version, node, name)
        return name

    def _resolve(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            alias = self._scope.alias(node.id)
            if alias is not None:
                return alias
            # an unknown local (``websocket``, ``requests`` as a variable) is not the module
            return node.id if node.id in BUILTIN_NAMES else None
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is None:
                value = self.fold(node.value)
                if isinstance(value, str):
                    base = "str"
                elif isinstance(value, bytes):
                    base = "bytes"
                else:
                    return None
            if base in BUILTIN_ALIASES:
                return node.attr
            return f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            callee = self.resolve(node.func)
            if callee in ("__import__", "importlib.import_module") and node.args:
                mod = self.fold(node.args[0])
                if isinstance(mod, str) and mod:
                    return mod
            if callee == "getattr" and len(node.args) >= 2:
                attr = self.fold(node.args[1])
                base = self.resolve(node.args[0])
                if isinstance(attr, str) and base is not None:
                    return attr if base in BUILTIN_ALIASES else f"{base}.{attr}"
            if callee in ("globals", "locals", "vars"):
                return "__builtins__"
            return None
        if isinstance(node, ast.Subscript):
            # __builtins__.__dict__['exec'], globals()['__builtins__']['eval'], vars(os)['system']
            key = self.fold(node.slice) if isinstance(node.slice, ast.expr) else None
            if isinstance(key, str):
                if isinstance(node.value, ast.Attribute) and node.value.attr == "__dict__":
                    base = self.resolve(node.value.value)
                else:
                    base = self.resolve(node.value)
                if base is not None:
                    return key if base in BUILTIN_ALIASES else f"{base}.{key}"
        return None

    # -- folding ----------------------------------------------------------------------------
    def fold(self, node: ast.AST | None, depth: int = 0) -> Value | None:
        """The constant string/bytes an expression evaluates to, when it can be known statically."""
        if node is None or depth > 40:
            return None
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        value = self._fold_guarded(node, depth)
        self._memo[key] = value
        return value

    def _fold_guarded(self, node: ast.AST, depth: int) -> Value | None:
        try:
            value = self._fold(node, depth + 1)
        except (ValueError, TypeError, binascii.Error, zlib.error, lzma.LZMAError, OSError):
            return None
        except (MemoryError, RecursionError, OverflowError, EOFError, LookupError):
            return None
        if value is not None and len(value) > MAX_FOLD:
            return None
        return value

    def _fold(self, node: ast.AST, depth: int) -> Value | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, bytes)) else None
        if isinstance(node, ast.Name):
            return self._scope.value(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    v = self.fold(part.value, depth)
                    if v is None:
                        return None
                    parts.append(_as_text(v))
                else:
                    v = self.fold(part, depth)
                    if v is None:
                        return None
                    parts.append(_as_text(v))
            return "".join(parts)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                left, right = self.fold(node.left, depth), self.fold(node.right, depth)
                if isinstance(left, str) and isinstance(right, str):
                    return left + right
                if isinstance(left, bytes) and isinstance(right, bytes):
                    return left + right
            if isinstance(node.op, ast.Mult):
                left = self.fold(node.left, depth)
                if left is not None and isinstance(node.right, ast.Constant):
                    n = node.right.value
                    if isinstance(n, int) and n >= 0 and len(left) * n <= MAX_FOLD:
                        return left * n
            return None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            base = self.fold(node.value, depth)
            sl = node.slice
            if base is not None and sl.lower is None and sl.upper is None:
                step = sl.step
                if step is None:
                    return base
                if (
                    isinstance(step, ast.UnaryOp)
                    and isinstance(step.operand, ast.Constant)
                    and isinstance(step.op, ast.USub)
                    and step.operand.value == 1
                ):
                    return base[::-1]
            return None
        if isinstance(node, ast.Call):
            return self._fold_call(node, depth)
        return None

    def _ints(self, node: ast.AST) -> list[int] | None:
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for elt in node.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, int):
                    out.append(elt.value)
                else:
                    return None
            return out
        return None

    def _fold_call(self, node: ast.Call, depth: int) -> Value | None:
        func = node.func
        args = node.args
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in ("decode", "encode", "strip", "lower", "upper", "replace", "join"):
                base = self.fold(func.value, depth)
                if method == "join":
                    if base is None or not args:
                        return None
                    items = self._fold_items(args[0], depth)
                    if items is None:
                        return None
                    if isinstance(base, str):
                        return base.join(_as_text(i) for i in items)
                    return base.join(_as_bytes(i) for i in items)
                if base is None:
                    return None
                if method == "decode":
                    enc = self.fold(args[0], depth) if args else "utf-8"
                    if isinstance(base, str) and enc in ("rot13", "rot_13"):
                        return codecs.decode(base, "rot13")
                    return _as_bytes(base).decode("utf-8", "replace")
                if method == "encode":
                    return base.encode("utf-8", "replace") if isinstance(base, str) else base
                if method in ("strip", "lower", "upper") and not args:
                    return getattr(base, method)()
                if method == "replace" and len(args) == 2:
                    a, b = self.fold(args[0], depth), self.fold(args[1], depth)
                    if isinstance(base, str) and isinstance(a, str) and isinstance(b, str):
                        return base.replace(a, b)
                    if isinstance(base, bytes) and isinstance(a, bytes) and isinstance(b, bytes):
                        return base.replace(a, b)
                return None
        name = self.resolve(func)
        if name is None:
            return None
        if name == "chr" and len(args) == 1:
            if isinstance(args[0], ast.Constant) and isinstance(args[0].value, int):
                return chr(args[0].value)
            return None
        if name in ("str", "bytes") and len(args) == 1:
            ints = self._ints(args[0]) if name == "bytes" else None
            if ints is not None:
                return bytes(i & 0xFF for i in ints)
            v = self.fold(args[0], depth)
            return v if (name == "str" and isinstance(v, str)) else None
        if name == "bytearray" and len(args) == 1:
            ints = self._ints(args[0])
            return bytes(i & 0xFF for i in ints) if ints is not None else None
        if name == "codecs.decode" and args:
            v = self.fold(args[0], depth)
            enc = self.fold(args[1], depth) if len(args) > 1 else None
            if v is None or not isinstance(enc, str):
                return None
            enc = enc.lower().replace("-", "_")
            if enc in ("rot13", "rot_13") and isinstance(v, str):
                return codecs.decode(v, "rot13")
            if enc in ("hex", "hex_codec"):
                return bytes.fromhex(_as_text(v))
            if enc in ("base64", "base64_codec"):
                return base64.b64decode(_as_bytes(v))
            if enc in ("zlib", "zlib_codec"):
                return zlib.decompressobj().decompress(_as_bytes(v), MAX_FOLD)
            return None
        decoder = DECODERS.get(name)
        if decoder is not None and args:
            v = self.fold(args[0], depth)
            return decoder(_as_bytes(v)) if v is not None else None
        return None

    def _fold_items(self, node: ast.AST, depth: int) -> list[Value] | None:
        """Items of a list/tuple/map(chr, [...])/generator of chr(x) whose values fold."""
        if isinstance(node, ast.Name):
            return self._scope.items(node.id)
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for elt in node.elts:
                v = self.fold(elt, depth)
                if v is None:
                    return None
                out.append(v)
            return out
        if isinstance(node, ast.Call) and self.resolve(node.func) == "map" and len(node.args) == 2:
            if self.resolve(node.args[0]) == "chr":
                ints = self._ints(node.args[1])
                if ints is not None:
                    return [chr(i) for i in ints if 0 <= i < 0x110000]
            return None
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
            gen = node.generators[0]
            elt = node.elt
            if (
                isinstance(elt, ast.Call)
                and self.resolve(elt.func) == "chr"
                and len(elt.args) == 1
                and isinstance(elt.args[0], ast.Name)
                and isinstance(gen.target, ast.Name)
                and elt.args[0].id == gen.target.id
            ):
                ints = self._ints(gen.iter)
                if ints is not None:
                    return [chr(i) for i in ints if 0 <= i < 0x110000]
        return None
