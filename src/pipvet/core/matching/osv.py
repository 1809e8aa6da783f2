"""The OSV record model (https://ossf.github.io/osv-schema/), reduced to what matching needs.

``parse_advisory`` reads a decoded OSV JSON/YAML object. Unknown fields are ignored, as the schema
asks; a record without an ``id`` or with a malformed ``affected`` list raises ``AdvisoryError`` so
callers can count and report it instead of crashing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

PYPI = "PyPI"
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limited")
_EVENT_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2, "limited": 3}
_ZERO = Version("0")


class AdvisoryError(ValueError):
    """An OSV record that cannot be used (missing id, wrong shapes)."""


_canonical_name = lru_cache(maxsize=8192)(canonicalize_name)


_PLAIN_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*\Z")


@lru_cache(maxsize=65536)
def version_key(raw: str) -> str | None:
    """A string equal for equal PEP 440 versions ("1.0" and "1.0.0" and "v1.0"), or None.

    It is ``packaging.utils.canonicalize_version(..., strip_trailing_zero=True)``; plain
    releases such as "2.10.0" (most of every advisory's versions list) take a shortcut that
    gives the same string without building a ``Version`` (checked against packaging in tests).
    """
    if _PLAIN_RELEASE.match(raw):
        parts = [str(int(p)) for p in raw.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    try:
        return canonicalize_version(Version(raw), strip_trailing_zero=True)
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class Event:
    """One range event: ``kind`` is introduced, fixed, last_affected or limited."""

    kind: str
    value: str


@dataclass(frozen=True)
class Range:
    """An OSV range: its type (ECOSYSTEM, SEMVER, GIT) and its events in record order."""

    type: str
    events: tuple[Event, ...]

    @cached_property
    def parsed(self) -> tuple[tuple[tuple[Version, Event], ...], tuple[str, ...]]:
        """Events with parsed versions, sorted the OSV way ("0" first; at one version,
        introduced before the events that close a range), and the problems met parsing."""
        out, problems = [], []
        for ev in self.events:
            try:
                out.append((_ZERO if ev.value == "0" else Version(ev.value), ev))
            except InvalidVersion:
                problems.append(f"unparsable {ev.kind} version {ev.value!r}")
        out.sort(key=lambda pe: (pe[1].value != "0", pe[0], _EVENT_ORDER[pe[1].kind]))
        return tuple(out), tuple(problems)


@dataclass(frozen=True)
class SeverityScore:
    """A severity entry: ``type`` (CVSS_V3, CVSS_V4, ...) and the vector string."""

    type: str
    score: str


@dataclass(frozen=True)
class Affected:
    """One ``affected`` entry for one package."""

    name: NormalizedName
    ecosystem: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[SeverityScore, ...] = ()
    database_severity: str | None = None  # affected[].database_specific.severity, if any

    @cached_property
    def parsed_versions(self) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
        """The ``versions`` list read once: canonical PEP 440 forms (``version_key``), the
        strings that are not PEP 440, and a problem line for each of those."""
        good, bad = set(), set()
        for raw in self.versions:
            key = version_key(raw)
            if key is None:
                bad.add(raw)
            else:
                good.add(key)
        problems = tuple(f"unparsable listed version {b!r}" for b in sorted(bad))
        return frozenset(good), frozenset(bad), problems


@dataclass(frozen=True)
class Advisory:
    """One OSV record."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    modified: str = ""
    published: str = ""
    withdrawn: str | None = None
    affected: tuple[Affected, ...] = ()
    severity: tuple[SeverityScore, ...] = ()
    database_severity: str | None = None  # database_specific.severity, if any
    url: str | None = None  # the first ADVISORY reference, else None
    malicious: bool = False  # a known-malware record (MAL- id / malicious-packages form)

    @property
    def one_line(self) -> str:
        """One line: the summary field, else the opening of the details (a second sentence is
        added when the first is only a short introduction such as "X is an HTTP library.")."""
        text = " ".join((self.summary or self.details).split())
        if not self.summary:
            sentences = [s for s in text.split(". ") if s]
            line = sentences[0] if sentences else ""
            if len(line) < 60 and len(sentences) > 1:
                line = f"{line}. {sentences[1]}"
            text = line if line.endswith(".") else line + "."
        return text if len(text) <= 160 else text[:157].rstrip() + "..."

    def affected_for(self, name: str) -> tuple[Affected, ...]:
        key = _canonical_name(name)
        return tuple(a for a in self.affected if a.name == key and a.ecosystem == PYPI)


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _db_severity(obj: Mapping[str, Any]) -> str | None:
    ds = obj.get("database_specific")
    if isinstance(ds, Mapping):
        sev = ds.get("severity")
        if isinstance(sev, str) and sev.strip():
            return sev.strip()
    return None


def _severities(raw: Any) -> tuple[SeverityScore, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if isinstance(item, Mapping) and isinstance(item.get("score"), str):
            out.append(SeverityScore(_str(item.get("type")), item["score"]))
    return tuple(out)


def _event_value(value: Any) -> str:
    # YAML may decode unquoted versions such as 2.0 or 1 as numbers; OSV says they are strings.
    if isinstance(value, bool) or value is None:
        raise AdvisoryError(f"bad event value {value!r}")
    return str(value)


def _range(raw: Any) -> Range:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("events", []), list):
        raise AdvisoryError("malformed range")
    events = []
    for ev in raw.get("events", []):
        if not isinstance(ev, Mapping):
            raise AdvisoryError("malformed range event")
        for kind in EVENT_KINDS:
            if kind in ev:
                events.append(Event(kind, _event_value(ev[kind])))
    return Range(_str(raw.get("type")), tuple(events))


def _affected(raw: Any) -> Affected | None:
    if not isinstance(raw, Mapping):
        raise AdvisoryError("malformed affected entry")
    pkg = raw.get("package")
    if not isinstance(pkg, Mapping) or not isinstance(pkg.get("name"), str):
        return None  # e.g. git-only entries without a package: nothing to match by name
    versions = raw.get("versions") or []
    ranges = raw.get("ranges") or []
    if not isinstance(versions, list) or not isinstance(ranges, list):
        raise AdvisoryError("malformed affected entry")
    return Affected(
        name=canonicalize_name(pkg["name"]),
        ecosystem=_str(pkg.get("ecosystem")).split(":", 1)[0],
        ranges=tuple(_range(r) for r in ranges),
        versions=(
            tuple(versions)
            if all(type(v) is str for v in versions)
            else tuple(_event_value(v) for v in versions)
        ),
        severity=_severities(raw.get("severity")),
        database_severity=_db_severity(raw),
    )


def _advisory_url(refs: Any) -> str | None:
    if isinstance(refs, list):
        for ref in refs:
            if isinstance(ref, Mapping) and ref.get("type") == "ADVISORY":
                url = ref.get("url")
                if isinstance(url, str):
                    return url
    return None


def is_malware_record(obj: Mapping[str, Any]) -> bool:
    """True for an OSV record that reports malware rather than a vulnerability: an id of the
    OpenSSF malicious-packages database (``MAL-``) or that database's ``database_specific`` form
    (``malicious-packages-origins``, at the top or in an ``affected`` entry), whatever id it was
    republished under."""
    vid = obj.get("id")
    if isinstance(vid, str) and vid.strip().upper().startswith("MAL-"):
        return True
    specific = [obj.get("database_specific")]
    affected = obj.get("affected")
    if isinstance(affected, list):
        specific += [a.get("database_specific") for a in affected if isinstance(a, Mapping)]
    return any(isinstance(ds, Mapping) and "malicious-packages-origins" in ds for ds in specific)


def parse_advisory(obj: Any) -> Advisory:
    """Build an ``Advisory`` from a decoded OSV object; raise ``AdvisoryError`` if unusable."""
    if not isinstance(obj, Mapping):
        raise AdvisoryError("not an OSV object")
    vid = obj.get("id")
    if not isinstance(vid, str) or not vid.strip():
        raise AdvisoryError("record has no id")
    aliases = obj.get("aliases") or []
    if not isinstance(aliases, list):
        raise AdvisoryError(f"{vid}: aliases is not a list")
    affected_raw = obj.get("affected") or []
    if not isinstance(affected_raw, list):
        raise AdvisoryError(f"{vid}: affected is not a list")
    try:
        affected = tuple(a for a in (_affected(r) for r in affected_raw) if a is not None)
    except AdvisoryError as exc:
        raise AdvisoryError(f"{vid}: {exc}") from None
    withdrawn = obj.get("withdrawn")
    return Advisory(
        id=vid.strip(),
        aliases=tuple(str(a) for a in aliases if isinstance(a, str) and a != vid),
        summary=_str(obj.get("summary")),
        details=_str(obj.get("details")),
        modified=str(obj.get("modified") or ""),
        published=str(obj.get("published") or ""),
        withdrawn=str(withdrawn) if withdrawn else None,
        affected=affected,
        severity=_severities(obj.get("severity")),
        database_severity=_db_severity(obj),
        url=_advisory_url(obj.get("references")),
        malicious=is_malware_record(obj),
    )
