"""The install gate's policy: what blocks, what warns, what is allowed and until when.

Read from, in order (a later file overrides an earlier one, lists add up):

1. the user-level file ``<config dir>/pipvet.toml`` (``PIPVET_CONFIG_DIR``, else
   ``$XDG_CONFIG_HOME/pipvet`` or ``~/.config/pipvet``);
2. ``pipvet.toml`` in the project folder (keys at the top level);
3. ``[tool.pipvet]`` in the project's ``pyproject.toml``.

Keys (the ``audit`` table belongs to ``pipvet audit`` and is left to it)::

    index-url = "https://pypi.org/simple/"      # the index
    extra-index-urls = ["https://corp/simple/"] # more indexes (names served by two are refused)
    index-pins = { corp-lib = "https://corp/simple/" }   # the one index a name may come from
    min-release-age = 7                          # days; newer uploads are left out
    allow-sdist = ["pkg"]                        # names that may be built from sdists
    block = ["risky", "category:network", "rule:gate.archived"]
    warn = ["rule:gate.typosquat"]
    ignore = ["rule:gate.sdist-only"]
    [[allow]]                                    # lifts a block: reason and expiry required
    package = "name==1.0"                        # or "name" for every version
    rule = "suspicious"                          # optional: only blocks by this selector
    reason = "reviewed by hand, see TICKET-1"
    expires = 2026-12-31

A selector is a verdict (``malicious``, ``suspicious``, ``risky``), ``category:NAME`` (a scan
category) or ``rule:ID`` (a scan rule, or one of the gate's own ``gate.*`` rules). The most
specific selector wins: rule, then category, then verdict. A wrong key or value is an
``InputError`` naming the key, the file and its line (exit 2).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from pipvet.core.errors import InputError

if TYPE_CHECKING:  # loaded where used: ``pipvet lock`` reads the policy before starting uv
    import datetime as dt

ACTIONS = ("block", "warn", "ignore")
VERDICT_SELECTORS = ("malicious", "suspicious", "risky")

# the gate's own checks, and what they do unless the policy says otherwise
GATE_RULES: dict[str, str] = {
    "gate.typosquat": "block",  # a name the user asked for, close to a much more popular one
    "gate.typosquat-dependency": "warn",  # the same, named by a package's dependencies
    "gate.not-on-index": "block",  # the index does not know the name
    "gate.quarantined": "block",  # PEP 792: unsafe for use (e.g. malware)
    "gate.archived": "warn",  # PEP 792: no more updates expected
    "gate.deprecated": "warn",  # PEP 792: obsolete
    "gate.yanked": "block",  # a yanked file that was not pinned exactly
    "gate.yanked-pinned": "warn",  # a yanked file pinned exactly (pip installs it too)
    "gate.known-malware": "block",  # an OSV MAL- record for this name and version
    "gate.cooldown": "block",  # a locked version uploaded less than min-release-age ago
    "gate.no-upload-time": "warn",  # the index gives no upload time: no cooldown possible
    "gate.confusion-version": "warn",  # 99.x / 999.x style versions (dependency confusion)
    "gate.new-project": "warn",  # first upload less than 30 days ago
    "gate.few-releases": "ignore",  # one release only (said in the summary when it warns)
    "gate.sdist-only": "warn",  # the version ships only an sdist
    "gate.multi-index": "block",  # a name served by more than one index in play
    "gate.scan-error": "block",  # an artifact the scanner could not read
    # a suspicious verdict of a popular project whose code was already in a release uploaded 90
    # days or more before: long-standing behaviour, not brought by this update
    "gate.long-standing": "warn",
}
DEFAULT_VERDICTS = {"malicious": "block", "suspicious": "block", "risky": "warn"}

KNOWN_KEYS = (
    "index-url",
    "extra-index-urls",
    "index-pins",
    "min-release-age",
    "allow-sdist",
    "block",
    "warn",
    "ignore",
    "allow",
    "audit",
)


class AllowEntry(NamedTuple):
    """A lifted block: which package (and version), optionally which selector, why, until when.
    (Records here are NamedTuples: ``pipvet lock`` reads the policy before it starts uv, and
    ``dataclasses`` costs ~7 ms to import.)"""

    package: str  # normalised name
    version: str | None
    rule: str | None
    reason: str
    expires: dt.date
    origin: str  # "pyproject.toml:12"

    def matches(self, name: str, version: str | None, selectors: Iterable[str]) -> bool:
        from packaging.utils import canonicalize_name

        if canonicalize_name(name) != self.package:
            return False
        if self.version is not None and version is not None and self.version != version:
            return False
        return self.rule is None or self.rule in set(selectors)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


_EMPTY: Mapping[str, str] = MappingProxyType({})


class Policy(NamedTuple):
    """The merged policy; ``Policy()`` is the built-in default."""

    actions: Mapping[str, str] = _EMPTY  # selector -> block/warn/ignore
    allow: tuple[AllowEntry, ...] = ()
    min_release_age_days: float | None = None
    allow_sdist: frozenset[str] = frozenset()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    index_pins: Mapping[str, str] = _EMPTY  # name -> index URL
    sources: tuple[str, ...] = ()  # files read, for messages

    def action(self, selectors: Iterable[str]) -> str | None:
        """What the most specific of ``selectors`` says (rule, then category, then verdict),
        from the policy or else the defaults; None when nothing applies."""
        sel = list(selectors)
        order = sorted(sel, key=_specificity)
        for s in order:
            if s in self.actions:
                return self.actions[s]
        for s in order:
            if s.startswith("rule:") and s[5:] in GATE_RULES:
                return GATE_RULES[s[5:]]
            if s in DEFAULT_VERDICTS:
                return DEFAULT_VERDICTS[s]
        return None

    def explicit(self, selector: str) -> str | None:
        return self.actions.get(selector)

    def allowed(
        self, name: str, version: str | None, selectors: Iterable[str], today: dt.date
    ) -> AllowEntry | None:
        sel = list(selectors)
        for entry in self.allow:
            if not entry.expired(today) and entry.matches(name, version, sel):
                return entry
        return None

    def expired_allows(self, today: dt.date) -> tuple[AllowEntry, ...]:
        return tuple(e for e in self.allow if e.expired(today))


def _specificity(selector: str) -> int:
    if selector.startswith("rule:"):
        return 0
    if selector.startswith("category:"):
        return 1
    return 2


# -- loading ------------------------------------------------------------------------------------


def config_dir() -> Path | None:
    """Where the user-level ``pipvet.toml`` lives (not created); None without a home folder."""
    override = os.environ.get("PIPVET_CONFIG_DIR")
    if override:
        return Path(override)
    from pipvet.paths import home_dir

    base = os.environ.get("APPDATA" if sys.platform == "win32" else "XDG_CONFIG_HOME")
    if base:
        return Path(base) / "pipvet"
    home = home_dir()
    if home is None:  # no home folder at all: no user-level file to read
        return None
    sub = ("AppData", "Roaming") if sys.platform == "win32" else (".config",)
    return home.joinpath(*sub, "pipvet")


def policy_files(start: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """The files that may hold policy, lowest precedence first, with the table path in each."""
    user = config_dir()
    return [
        *([(user / "pipvet.toml", ())] if user is not None else []),
        (Path(start) / "pipvet.toml", ()),
        (Path(start) / "pyproject.toml", ("tool", "pipvet")),
    ]


def load_policy(start: Path | None = None) -> Policy:
    """The merged policy of the user-level file, ``pipvet.toml`` and ``pyproject.toml`` (the
    TOML parser and ``packaging`` are loaded only when there is a file to read)."""
    actions: dict[str, str] = {}
    allow: list[AllowEntry] = []
    merged: dict[str, object] = {}
    sdists: set[str] = set()
    extra: list[str] = []
    pins: dict[str, str] = {}
    sources: list[str] = []
    for path, keys in policy_files(Path(start or Path.cwd())):
        try:
            if not path.is_file():
                continue
        except OSError as exc:  # a folder we may not look into: its policy cannot be read
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        from packaging.utils import canonicalize_name

        try:
            text = path.read_text(encoding="utf-8")
            doc = tomllib.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
        except ValueError as exc:
            raise InputError(f"{path}: not valid TOML: {exc}") from None
        table: object = doc
        for k in keys:
            table = table.get(k, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict) or not table:
            continue
        where = _Where(path, text, keys)
        sources.append(str(path))
        for key, value in table.items():
            if key not in KNOWN_KEYS:
                known = ", ".join(KNOWN_KEYS)
                raise where.error(key, f"unknown key {key!r} (known: {known})")
            if key == "audit":
                continue
            if key in ("block", "warn", "ignore"):
                for sel in _str_list(value, key, where):
                    _check_selector(sel, key, where)
                    actions[sel] = key
            elif key == "allow":
                if not isinstance(value, list):
                    raise where.error(key, "allow must be an array of tables ([[allow]])")
                for n, entry in enumerate(value):
                    allow.append(_allow_entry(entry, n, where))
            elif key == "min-release-age":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise where.error(key, "min-release-age must be a number of days (>= 0)")
                merged[key] = float(value)
            elif key == "allow-sdist":
                sdists |= {canonicalize_name(n) for n in _str_list(value, key, where)}
            elif key == "index-url":
                merged[key] = _url(value, key, where)
            elif key == "extra-index-urls":
                extra += [_url(u, key, where) for u in _str_list(value, key, where)]
            elif key == "index-pins":
                if not isinstance(value, dict):
                    raise where.error(key, "index-pins must be a table of name = index URL")
                for name, url in value.items():
                    pins[canonicalize_name(name)] = _url(url, f"index-pins.{name}", where)
    return Policy(
        actions=actions,
        allow=tuple(allow),
        min_release_age_days=merged.get("min-release-age"),  # type: ignore[arg-type]
        allow_sdist=frozenset(sdists),
        index_url=merged.get("index-url"),  # type: ignore[arg-type]
        extra_index_urls=tuple(dict.fromkeys(extra)),
        index_pins=pins,
        sources=tuple(sources),
    )


class _Where:
    """Finds the line of a key in a policy file, for error messages."""

    def __init__(self, path: Path, text: str, keys: tuple[str, ...]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.section = ".".join(keys)

    def line_of(self, key: str, nth: int = 0) -> int | None:
        start = 0
        if self.section:
            header = re.compile(r"^\s*\[\s*" + re.escape(self.section).replace(r"\.", r"\s*\.\s*"))
            start = next((i for i, ln in enumerate(self.lines) if header.match(ln)), 0)
        pat = re.compile(
            r'^\s*(\[\[?\s*)?("?)' + r"(?:[\w.\"-]*\.)?" + re.escape(key) + r"\2\s*(=|\]\]|\])"
        )
        hits = [i + 1 for i, ln in enumerate(self.lines[start:], start) if pat.match(ln)]
        if not hits:
            return None
        return hits[min(nth, len(hits) - 1)]

    def error(self, key: str, message: str, nth: int = 0, line: int | None = None) -> InputError:
        line = line or self.line_of(key, nth)
        full = f"{self.section}.{key}" if self.section else key
        at = f"{self.path}:{line}" if line else str(self.path)
        return InputError(f"{at}: {full}: {message}")


def _str_list(value: object, key: str, where: _Where) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error(key, f"{key} must be a list of strings")
    return list(value)


def _url(value: object, key: str, where: _Where) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise where.error(key.split(".")[0], f"{value!r} is not an http(s) index URL")
    return value if value.endswith("/") else value + "/"


def _check_selector(sel: str, key: str, where: _Where) -> None:
    if sel in VERDICT_SELECTORS:
        return
    kind, _, rest = sel.partition(":")
    if kind in ("rule", "category") and re.fullmatch(r"[A-Za-z0-9_.-]+", rest or ""):
        if kind == "rule" and rest.startswith("gate.") and rest not in GATE_RULES:
            raise where.error(key, f"unknown gate rule {rest!r} (known: {', '.join(GATE_RULES)})")
        return
    raise where.error(
        key, f"{sel!r} is not a selector (malicious, suspicious, risky, category:X or rule:X)"
    )


def _allow_entry(entry: object, n: int, where: _Where) -> AllowEntry:
    import datetime as dt

    from packaging.utils import canonicalize_name

    line = where.line_of("allow", n)
    if not isinstance(entry, dict):
        raise where.error("allow", "each allow entry is a table (package, reason, expires)", n)
    for k in entry:
        if k not in ("package", "rule", "reason", "expires"):
            raise where.error(
                "allow", f"unknown key {k!r} in an allow entry (package, rule, reason, expires)", n
            )
    pkg = entry.get("package")
    if not isinstance(pkg, str) or not pkg.strip():
        raise where.error("allow", 'an allow entry needs package = "name" or "name==version"', n)
    name, _, version = pkg.partition("==")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise where.error("allow", f"the allow entry for {pkg} needs a reason", n)
    expires = entry.get("expires")
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, dt.date):
        raise where.error(
            "allow", f"the allow entry for {pkg} needs expires = YYYY-MM-DD (a date)", n
        )
    rule = entry.get("rule")
    if rule is not None:
        if not isinstance(rule, str):
            raise where.error("allow", "rule must be a selector string", n)
        _check_selector(rule, "allow", where)
    return AllowEntry(
        package=canonicalize_name(name.strip()),
        version=version.strip() or None,
        rule=rule,
        reason=reason.strip(),
        expires=expires,
        origin=f"{where.path}:{line or '?'}",
    )
