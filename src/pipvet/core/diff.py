"""What an update changes: the report model of ``pipvet diff`` and the pure comparisons behind it.

Capabilities gained and lost come from the inspection findings of the old and the new artifacts,
compared by (rule, file): a file's path is taken without an sdist's top folder, so the sdist and
the wheel of one version, and the same file in two versions, line up. Lines are the new one's.
Also pure and shared: re-uploads (a changed sha256 for the same version and filename, between two
locks: ``pipvet lock`` checks the lock it is about to overwrite with it), dependency and metadata
changes, and the verdict -> action policy (one small function, the gate's defaults).
No network, no processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipvet.core.analysis.model import SEVERITIES, Finding
from pipvet.core.lockfile import LockedPackage

# -- policy ------------------------------------------------------------------------------------

BLOCK, WARN, OK = "block", "warn", "ok"
ACTIONS = (OK, WARN, BLOCK)


def verdict_action(verdict: str, policy=None) -> str:
    """What the install gate does with a scan verdict: the policy's word for it (``block``,
    ``warn`` or ``ignore`` in ``pipvet.core.policy``), else the gate's default: malicious and
    suspicious block, risky warns."""
    if policy is not None and verdict != "clean":
        said = policy.action([verdict])
        if said is not None:
            return {"block": BLOCK, "warn": WARN}.get(said, OK)
    if verdict in ("malicious", "suspicious"):
        return BLOCK
    if verdict == "risky":
        return WARN
    return OK


def worst_action(actions: Iterable[str]) -> str:
    return max(actions, key=ACTIONS.index, default=OK)


# -- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """One finding that an update brings (gained) or takes away (lost)."""

    rule: str
    category: str
    severity: str
    phrase: str  # "network access", "obfuscated code"
    path: str  # inside the package, without an sdist's top folder ("" for the artifact)
    line: int | None
    message: str
    evidence: str = ""
    install_time: bool = False  # runs when the package is installed (setup.py, .pth, hooks)
    peripheral: bool = False  # tests, docs, examples: code that installing never runs

    @property
    def where(self) -> str:
        if not self.path:
            return "the package"
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class VulnChange:
    """A known vulnerability an update fixes or introduces."""

    id: str
    aliases: tuple[str, ...]
    severity: str  # label: "critical", "high", "moderate", "low", "unknown"
    summary: str
    fixed_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetadataChange:
    """A changed core-metadata field (author, maintainer, project URLs, home page...)."""

    field: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Reupload:
    """Different bytes under the same version and filename: files on an index must never change."""

    filename: str
    old_sha256: str
    new_sha256: str


@dataclass(frozen=True)
class PackageChange:
    """Everything one package's update changes, and what the policy makes of it."""

    name: str
    kind: str  # "added", "removed", "upgraded", "downgraded", "files-changed"
    old_version: str | None
    new_version: str | None
    action: str = OK  # BLOCK, WARN or OK
    reasons: tuple[str, ...] = ()  # why it blocks or warns, one line each
    verdict: str = ""  # the scan verdict of the new version ("" when not scanned)
    gained: tuple[Capability, ...] = ()
    lost: tuple[Capability, ...] = ()
    install_time: tuple[str, ...] = ()  # install-time code gained, in words
    vulns_fixed: tuple[VulnChange, ...] = ()
    vulns_introduced: tuple[VulnChange, ...] = ()
    known_malware: tuple[str, ...] = ()  # advisory ids of malicious-package records (MAL-...)
    deps_added: tuple[str, ...] = ()
    deps_removed: tuple[str, ...] = ()
    metadata: tuple[MetadataChange, ...] = ()
    reuploads: tuple[Reupload, ...] = ()
    files_added: tuple[str, ...] = ()  # same version, new filenames (files-changed)
    files_removed: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()  # the new version's files that were inspected
    problems: tuple[str, ...] = ()  # what could not be inspected, and why (never silent)

    @property
    def title(self) -> str:
        if self.kind == "added":
            return f"{self.name} {self.new_version} (new)"
        if self.kind == "removed":
            return f"{self.name} {self.old_version} (removed)"
        if self.old_version == self.new_version:
            return f"{self.name} {self.new_version}"
        return f"{self.name} {self.old_version} -> {self.new_version}"

    @property
    def risky(self) -> bool:
        """Something a reviewer should look at (what "nothing risky changed" excludes)."""
        return bool(
            self.action != OK
            or self.gained
            or self.install_time
            or self.vulns_introduced
            or self.known_malware
            or self.reuploads
            or self.problems
        )


@dataclass(frozen=True)
class DiffReport:
    """The comparison of two locks, requirement files, artifacts or versions."""

    old_label: str
    new_label: str
    changes: tuple[PackageChange, ...]
    unchanged: int = 0
    notes: tuple[str, ...] = ()  # about the whole comparison (skipped lines, advisory data age)
    problems: tuple[str, ...] = ()  # whole-comparison failures to inspect (fail closed: warn)

    @property
    def action(self) -> str:
        return worst_action([c.action for c in self.changes] + ([WARN] if self.problems else []))

    @property
    def blocked(self) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.action == BLOCK)

    @property
    def warned(self) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.action == WARN)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return out


# -- capabilities ------------------------------------------------------------------------------

RULE_PHRASES = {
    "capability.network": "network access",
    "capability.process": "process execution",
    "capability.dynamic-code": "dynamic code execution",
    "capability.clipboard": "clipboard access",
    "capability.screen-keyboard": "screen or keyboard capture",
    "capability.registry-write": "registry writes",
    "capability.fingerprint": "system fingerprinting",
    "capability.credential-path": "access to credential files",
    "capability.persistence-path": "writes to autostart locations",
    "capability.vendor-installer": "a vendor's install line run on request",
    "install-time.setup-code": "install-time code",
    "install-time.cmdclass": "custom install commands",
    "install-time.pth-code": "code in a .pth file (runs at every start)",
    "install-time.runs-executable": "running an executable at install time",
    "install-time.setup-network": "network access at install time",
    "intent.decode-execute": "decode-and-execute of hidden code",
    "intent.download-execute": "download-and-execute",
    "intent.shell-download-execute": "a shell download-and-execute",
    "intent.exfiltration": "data exfiltration",
    "intent.credential-theft": "credential theft",
    "intent.reverse-shell": "a reverse shell",
    "intent.drop-payload": "dropping a payload",
}
CATEGORY_PHRASES = {
    "obfuscation": "obfuscated code",
    "network": "network access",
    "process": "process execution",
    "dynamic-code": "dynamic code execution",
    "credentials": "access to credentials",
    "persistence": "persistence",
    "install-time": "install-time code",
    "archive": "an archive anomaly",
}
INSTALL_TIME_FILES = ("setup.py", "setup.cfg", "pyproject.toml")


def phrase_for(f: Finding) -> str:
    """A few words for what a finding lets the package do ("network access")."""
    if f.rule in RULE_PHRASES:
        return RULE_PHRASES[f.rule]
    if f.category in CATEGORY_PHRASES:
        return CATEGORY_PHRASES[f.category]
    text = f.message.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text else f.rule


def normalize_path(path: str, sdist: bool) -> str:
    """A finding's path as the wheel has it: without an sdist's top folder and ``src/`` or
    ``lib/`` (``foo-1.3/src/foo/x.py`` -> ``foo/x.py``), so sdist and wheel findings line up."""
    if sdist and "/" in path:
        path = path.split("/", 1)[1]
        if path.startswith(("src/", "lib/")) and path.count("/") > 1:
            path = path[len("src/") :]  # the src/ (or lib/) layout: where the wheel has no folder
    return path


_VERSIONED_DIR = re.compile(r"^[^/]+-[^/-]+\.(data|dist-info)/")
_BUILD_HASH = re.compile(r"(?<![A-Za-z])[0-9a-f]{2,}(?![A-Za-z])")


def comparison_key(path: str) -> str:
    """What makes "the same file" in two versions: a wheel's ``name-1.2.data/`` and
    ``.dist-info/`` folders without the version, and numbers and content hashes in file names
    (``2874.6abba0b935c30437.js``, as bundlers write them) folded, so a rebuild is no gain."""
    path = _VERSIONED_DIR.sub(lambda m: f"*.{m.group(1)}/", path)
    head, _, base = path.rpartition("/")
    base = _BUILD_HASH.sub("#", base)
    return f"{head}/{base}" if head else base


_TRAILING_COMMENT = re.compile(r"#[^'\"]*$")
_SPACE = re.compile(r"\s+")


def evidence_key(text: str) -> str:
    """A finding's excerpt as code, for "is this the same code": without whitespace or a trailing
    comment (reformatting, or an added ``# noqa``, is no change)."""
    return _SPACE.sub("", _TRAILING_COMMENT.sub("", text))


def findings_not_in(
    new: Iterable[Finding], new_sdist: bool, old: Iterable[Finding], old_sdist: bool
) -> list[Finding]:
    """The findings of ``new`` that ``old`` does not have: the same rule in the same file (paths
    lined up as ``capabilities`` lines them up), on the same code, at no lower severity (the same
    code moved to where it runs on import is new). Lines may differ; each old finding matches
    one new finding at most."""
    have: dict[tuple[str, str, str], list[int]] = {}
    for f in old:
        key = (f.rule, comparison_key(normalize_path(f.path, old_sdist)), evidence_key(f.evidence))
        have.setdefault(key, []).append(SEVERITIES.index(f.severity))
    for levels in have.values():
        levels.sort()
    out = []
    for f in new:
        key = (f.rule, comparison_key(normalize_path(f.path, new_sdist)), evidence_key(f.evidence))
        level = SEVERITIES.index(f.severity)
        levels = have.get(key, [])
        match = next((i for i, lv in enumerate(levels) if lv >= level), None)
        if match is None:
            out.append(f)
        else:
            del levels[match]
    return out


def _install_time(f: Finding, path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return (
        f.category == "install-time"
        or f.rule.startswith("install-time.")
        or base in INSTALL_TIME_FILES
        or base.endswith(".pth")
    )


def capabilities(findings: Iterable[tuple[Finding, bool]]) -> dict[tuple[str, str], Capability]:
    """(rule, normalised path) -> the capability (the most severe, then the first line);
    ``info`` findings left out. Each finding comes with whether its artifact is an sdist."""
    from pipvet.core.analysis.rules import is_peripheral

    out: dict[tuple[str, str], Capability] = {}
    for f, sdist in findings:
        if f.severity == "info":
            continue
        path = normalize_path(f.path, sdist)
        peripheral = bool(f.path) and is_peripheral(f.path)
        key = (f.rule, comparison_key(path))
        cap = Capability(
            rule=f.rule,
            category=f.category,
            severity=f.severity,
            phrase=phrase_for(f),
            path=path,
            line=f.line,
            message=f.message,
            evidence=f.evidence,
            install_time=_install_time(f, path) and not peripheral,
            peripheral=peripheral,
        )
        have = out.get(key)
        if have is None or _better(cap, have):
            out[key] = cap
    return out


def _better(a: Capability, b: Capability) -> bool:
    """Prefer the more severe finding, then the earlier line."""
    sa, sb = SEVERITIES.index(a.severity), SEVERITIES.index(b.severity)
    if sa != sb:
        return sa > sb
    return (a.line or 0) < (b.line or 0)


def compare_capabilities(
    old: Mapping[tuple[str, str], Capability], new: Mapping[tuple[str, str], Capability]
) -> tuple[tuple[Capability, ...], tuple[Capability, ...]]:
    """(gained, lost): what installing runs first, then most severe first."""

    def order(c: Capability) -> tuple:
        return (c.peripheral, -SEVERITIES.index(c.severity), c.path, c.line or 0, c.rule)

    gained = sorted((c for k, c in new.items() if k not in old), key=order)
    lost = sorted((c for k, c in old.items() if k not in new), key=order)
    return tuple(gained), tuple(lost)


# -- dependencies and metadata -----------------------------------------------------------------


def _dependency_key(text: str) -> str:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return text.strip()
    marker = str(req.marker) if req.marker else ""
    extras = ",".join(sorted(req.extras))
    return f"{canonicalize_name(req.name)}[{extras}];{marker}"


def dependency_names(requires: Iterable[str]) -> dict[str, str]:
    """Requires-Dist entries by name (and extras and marker) -> the entry as written."""
    return {_dependency_key(r): r.strip() for r in requires if r.strip()}


def compare_dependencies(
    old: Sequence[str], new: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, removed) Requires-Dist entries; a changed version range alone is no change."""
    a, b = dependency_names(old), dependency_names(new)
    added = tuple(sorted(b[k] for k in b if k not in a))
    removed = tuple(sorted(a[k] for k in a if k not in b))
    return added, removed


PEOPLE_FIELDS = ("author", "author-email", "maintainer", "maintainer-email")
URL_FIELDS = ("home-page", "download-url", "project-url")
METADATA_FIELDS = PEOPLE_FIELDS + URL_FIELDS


def people(meta: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The e-mail addresses of authors and maintainers (their names when none gives one)."""
    from email.utils import getaddresses

    values = [v for f in PEOPLE_FIELDS for v in meta.get(f, ()) if v.strip()]
    pairs = getaddresses(values)
    emails = {addr.strip().lower() for _, addr in pairs if "@" in addr}
    if emails:
        return frozenset(emails)
    return frozenset(" ".join(v.split()) for v in values)


def urls(meta: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """Home page, download and project URLs (``Project-URL: label, url`` keeps the url)."""
    out = set()
    for f in URL_FIELDS:
        for v in meta.get(f, ()):
            url = v.split(",", 1)[1] if f == "project-url" and "," in v else v
            url = url.strip().rstrip("/")
            if url and url.upper() != "UNKNOWN":
                out.add(url)
    return frozenset(out)


def compare_metadata(
    old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]]
) -> tuple[MetadataChange, ...]:
    """Who publishes the package and where it points, when that changed: the addresses of
    authors and maintainers, and the set of URLs (a URL moved between fields is no change)."""
    out = []
    for label, read in (("authors and maintainers", people), ("project URLs", urls)):
        a, b = read(old), read(new)
        if a != b:
            out.append(MetadataChange(label, tuple(sorted(a)), tuple(sorted(b))))
    return tuple(out)


# -- files and re-uploads ----------------------------------------------------------------------


def file_hashes(pkg: LockedPackage) -> dict[str, str]:
    """filename -> sha256 of the files a lock records for a package (when it names them)."""
    return {f.filename: f.sha256 for f in pkg.files if f.sha256}


def find_reuploads(old: LockedPackage, new: LockedPackage) -> tuple[Reupload, ...]:
    """Same version and filename, other sha256: the alarm, whoever meets it."""
    if old.version != new.version:
        return ()
    a, b = file_hashes(old), file_hashes(new)
    return tuple(
        Reupload(name, a[name], b[name])
        for name in sorted(a.keys() & b.keys())
        if a[name] != b[name]
    )


def lock_reuploads(
    old: Sequence[LockedPackage], new: Sequence[LockedPackage]
) -> list[tuple[LockedPackage, Reupload]]:
    """Every re-upload between two locks' packages, by name."""
    by_name = {p.name: p for p in old}
    out = []
    for p in new:
        before = by_name.get(p.name)
        if before is not None:
            out += [(p, r) for r in find_reuploads(before, p)]
    return out


def render_reupload(name: str, version: str, r: Reupload) -> str:
    return (
        f"RE-UPLOAD: {r.filename} ({name}=={version}) has another sha256 than before "
        f"(was {r.old_sha256[:16]}..., now {r.new_sha256[:16]}...). Files on an index must never "
        "change; this may be tampering."
    )
