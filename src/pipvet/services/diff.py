"""Review an update: what two locks, requirement files, artifacts or versions change.

``diff_inputs`` compares OLD and NEW (two locks or requirement files, two artifacts, or
``NAME==A`` and ``NAME==B``); ``diff_git`` compares a lock with its version at a git ref (read with
``git show REF:path``, nothing else is run). For every package added, upgraded or downgraded, the
old and new files (sdist and best wheel, hash-checked as the lock records them) are scanned by
the scan service (cached by sha256), their findings compared (``pipvet.core.diff``), their
metadata read as data, and both sides audited against the local advisory index. Prints nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipvet.core import diff as core
from pipvet.core.errors import InputError, PipvetError, UsageError
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.models import DEFAULT_INDEX_URL, PackageId
from pipvet.core.progress import Counter, Level, Progress, silent
from pipvet.services.scan import ScanInput, ScanReport, verdict_rank

METADATA_CACHE_KEY = "diff-metadata/1"  # ScanCache "engine" under which metadata is kept
LOCAL = "*"  # the one package of a comparison of two artifacts or two versions
LOCK_NAMES = ("pylock.toml", "requirements.lock", "requirements.txt")
_WANTED_META = ("name", "version", "requires-dist", *core.METADATA_FIELDS)


@dataclass
class _Side:
    """One side of the comparison: pinned packages, or one package's local artifacts."""

    label: str
    packages: dict[str, LockedPackage] = field(default_factory=dict)
    index_url: str = DEFAULT_INDEX_URL
    local: dict[str, list[ScanInput]] = field(default_factory=dict)  # name -> artifacts
    notes: list[str] = field(default_factory=list)


@dataclass
class _Inspection:
    """What was read of one version of one package."""

    reports: list[ScanReport] = field(default_factory=list)
    metadata: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    has_wheel: bool = False


# -- public entry points -----------------------------------------------------------------------


def diff_inputs(
    old: str,
    new: str,
    *,
    index_url: str | None = None,
    jobs: int = 1,
    use_cache: bool = True,
    db_path: Path | None = None,
    fail_on: str = "none",
    progress: Progress = silent,
) -> core.DiffReport:
    """Compare OLD and NEW: two lock/requirements files, two artifacts, or NAME==A NAME==B
    (``progress`` hears what is downloaded and scanned, as status lines)."""
    with tempfile.TemporaryDirectory(prefix="pipvet-diff-") as tmp:
        work = Path(tmp)
        progress(Level.STATUS, f"reading {old} and {new}")
        a, b = _read_pair(old, new, index_url, work)
        return _compare(
            a,
            b,
            work,
            jobs=jobs,
            use_cache=use_cache,
            db_path=db_path,
            fail_on=fail_on,
            progress=progress,
        )


def diff_git(
    ref: str,
    lockfile: Path | None = None,
    *,
    index_url: str | None = None,
    jobs: int = 1,
    use_cache: bool = True,
    db_path: Path | None = None,
    fail_on: str = "none",
    cwd: Path | None = None,
    progress: Progress = silent,
) -> core.DiffReport:
    """Compare the lock in the working tree with the same file at git ``ref``."""
    cwd = Path(cwd or Path.cwd())
    path = Path(lockfile) if lockfile else _find_lock(cwd)
    if not path.is_absolute():
        path = cwd / path
    if not path.is_file():
        raise InputError(f"{path}: no such lock file")
    text = git_show(ref, path, cwd)
    old_lock = _parse_lock_text(text, path, f"{ref}:{path.name}")
    new_lock = _read_lock_file(path)
    with tempfile.TemporaryDirectory(prefix="pipvet-diff-") as tmp:
        a = _lock_side(old_lock, f"{path.name} at {ref}", index_url)
        b = _lock_side(new_lock, f"{path.name} (working tree)", index_url)
        return _compare(
            a,
            b,
            Path(tmp),
            jobs=jobs,
            use_cache=use_cache,
            db_path=db_path,
            fail_on=fail_on,
            progress=progress,
        )


def git_show(ref: str, path: Path, cwd: Path) -> str:
    """``git show REF:./path``: the file's text at ``ref`` (the only git command pipvet runs)."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n:"):
        raise UsageError(f"{ref!r} is not a git revision")
    rel = os.path.relpath(path, cwd).replace(os.sep, "/")
    try:
        proc = subprocess.run(
            ["git", "show", f"{ref}:./{rel}"],
            cwd=cwd,
            capture_output=True,
            timeout=60,
            env={**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError:
        raise InputError("git is not installed; give OLD and NEW files instead") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git show {ref}:{rel} took too long") from None
    if proc.returncode != 0:
        first = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[0]
        raise InputError(f"git show {ref}:{rel}: {first}")
    try:
        return proc.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{ref}:{rel} is not UTF-8 text") from None


# -- reading the two sides ---------------------------------------------------------------------


def _find_lock(cwd: Path) -> Path:
    for name in LOCK_NAMES:
        if (cwd / name).is_file():
            return cwd / name
    raise UsageError(
        "no lock file found here", hint=f"name it: pipvet diff --git REF LOCKFILE ({LOCK_NAMES})"
    )


def _is_artifact(path: Path) -> bool:
    from pipvet.sources.scan_targets import ARTIFACT_SUFFIXES

    return path.is_file() and path.name.lower().endswith(ARTIFACT_SUFFIXES)


def _read_pair(old: str, new: str, index_url: str | None, work: Path) -> tuple[_Side, _Side]:
    po, pn = Path(old), Path(new)
    if po.exists() or pn.exists():
        for p in (po, pn):
            if not p.is_file():
                raise InputError(f"{p}: no such file")
        if _is_artifact(po) != _is_artifact(pn):
            raise UsageError("compare like with like: two artifacts, or two lock/requirement files")
        if _is_artifact(po):
            return _artifact_side(po), _artifact_side(pn)
        return (
            _lock_side(_read_lock_file(po), str(po), index_url),
            _lock_side(_read_lock_file(pn), str(pn), index_url),
        )
    ra, rb = _requirement(old), _requirement(new)
    if canonicalize_name(ra.name) != canonicalize_name(rb.name):
        raise UsageError(f"{old} and {new} name different projects")
    url = index_url or DEFAULT_INDEX_URL
    return _download_side(old, url, work / "old"), _download_side(new, url, work / "new")


def _requirement(text: str) -> Requirement:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        raise UsageError(f"{text!r} is neither a file nor NAME==VERSION") from None
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
        raise UsageError(f"{text}: give an exact version, NAME==VERSION")
    return req


def _artifact_side(path: Path) -> _Side:
    return _Side(label=str(path), local={LOCAL: [ScanInput(path, str(path))]})


def _download_side(text: str, index_url: str, dest: Path) -> _Side:
    from pipvet.sources.scan_targets import Expansion, expand_requirement

    out = Expansion()
    expand_requirement(text, index_url, dest, out)
    return _Side(label=text, local={LOCAL: list(out.inputs)}, index_url=index_url)


def _read_lock_file(path: Path) -> Lock:
    """A lock in either form; a plain requirements file's ``==`` pins otherwise."""
    from pipvet.core.lockfile_io import read_lock

    try:
        return read_lock(path)
    except InputError as lock_error:
        try:
            return _pins_of_requirements(path)
        except InputError:
            raise lock_error from None


def _parse_lock_text(text: str, path: Path, source: str) -> Lock:
    from pipvet.core.lockfile_io import is_pylock, parse_pylock, parse_requirements_lock

    if is_pylock(path, text):
        return parse_pylock(text, source=source)
    try:
        return parse_requirements_lock(text, source=source)
    except InputError as lock_error:
        with tempfile.TemporaryDirectory(prefix="pipvet-diff-git-") as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(text, encoding="utf-8")
            try:
                return _pins_of_requirements(copy)
            except InputError:
                raise lock_error from None


def _pins_of_requirements(path: Path) -> Lock:
    from pipvet.sources.dependencies.requirements import exact_pin
    from pipvet.sources.requirements import read_requirements

    read = read_requirements(path)
    packages: dict[str, LockedPackage] = {}
    for line in read.requirements:
        version = exact_pin(line.requirement)
        if version is None:
            raise InputError(
                f"{line.source}:{line.lineno}: {line.requirement.name} is not pinned with ==; "
                "diff compares pinned versions",
                hint="compare locks made with `pipvet lock`",
            )
        name = canonicalize_name(line.requirement.name)
        packages[name] = LockedPackage(name, version, hashes=line.hashes)
    return Lock(
        packages=tuple(sorted(packages.values(), key=lambda p: p.name)),
        index_url=read.index_url,
        source_path=str(path),
    )


def _lock_side(lock: Lock, label: str, index_url: str | None) -> _Side:
    url = index_url or lock.index_url or DEFAULT_INDEX_URL
    return _Side(label=label, packages={p.name: p for p in lock.packages}, index_url=url)


# -- comparing ---------------------------------------------------------------------------------


def _kind(old: LockedPackage | None, new: LockedPackage | None) -> str | None:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if new.version > old.version:
        return "upgraded"
    if new.version < old.version:
        return "downgraded"
    if set(old.hashes) != set(new.hashes) or core.file_hashes(old) != core.file_hashes(new):
        return "files-changed"
    return None


def _compare(
    a: _Side,
    b: _Side,
    work: Path,
    *,
    jobs: int,
    use_cache: bool,
    db_path,
    fail_on: str,
    progress: Progress = silent,
) -> core.DiffReport:
    from pipvet.services.scan import scan_inputs

    # what changed, by name
    plan: list[tuple[str, str, LockedPackage | None, LockedPackage | None]] = []
    unchanged = 0
    if a.local or b.local:
        plan.append((LOCAL, "local", None, None))
    else:
        for name in sorted(a.packages.keys() | b.packages.keys()):
            kind = _kind(a.packages.get(name), b.packages.get(name))
            if kind is None:
                unchanged += 1
            else:
                plan.append((name, kind, a.packages.get(name), b.packages.get(name)))

    # fetch what must be read: the new side of everything but removals, the old side of version
    # changes (a re-upload's old bytes are gone from the index: only the new ones are read)
    fetches: list[tuple[str, str, _Side, LockedPackage]] = []
    for name, kind, old, new in plan:
        if new is not None and kind in ("added", "upgraded", "downgraded"):
            fetches.append(("new", name, b, new))
        if new is not None and kind == "files-changed" and core.find_reuploads(old, new):
            fetches.append(("new", name, b, new))
        if old is not None and kind in ("upgraded", "downgraded"):
            fetches.append(("old", name, a, old))
    inputs: dict[tuple[str, str], list[ScanInput]] = {}
    problems: dict[tuple[str, str], list[str]] = {}
    if a.local or b.local:
        inputs = {("old", LOCAL): a.local[LOCAL], ("new", LOCAL): b.local[LOCAL]}
    else:
        fetched = Counter(progress, "downloading (hash-checked)", len(fetches))
        inputs, problems = _fetch_all(fetches, work, jobs, on_done=fetched.advance)

    # scan everything in one go (cached by sha256), then read metadata (cached too)
    order = [(key, item) for key, items in inputs.items() for item in items]
    scanned = Counter(progress, "scanning (as data, never run)", len(order))
    reports = scan_inputs(
        [item for _, item in order],
        jobs=jobs,
        use_cache=use_cache,
        progress=lambda _report: scanned.advance(),
    )
    progress(Level.STATUS, "reading metadata and known vulnerabilities")
    seen: dict[tuple[str, str], _Inspection] = {}
    for (key, item), report in zip(order, reports, strict=True):
        seen.setdefault(key, _Inspection()).reports.append(report)
        if item.path.name.endswith(".whl"):
            seen[key].has_wheel = True
    for key, items in inputs.items():
        insp = seen.setdefault(key, _Inspection())
        insp.metadata = _metadata(items, use_cache, insp.problems)
    for key, probs in problems.items():
        seen.setdefault(key, _Inspection()).problems.extend(probs)

    if a.local or b.local:
        names = {canonicalize_name(r.name) for i in seen.values() for r in i.reports if r.name}
        if len(names) > 1:
            a.notes.append("the two artifacts name different projects: " + ", ".join(sorted(names)))
    audit_notes, vulns = _audit(plan, seen, db_path)
    from pipvet.core.policy import load_policy

    policy = load_policy(Path.cwd())  # verdicts weigh as in the install gate
    changes = [
        _change(name, kind, old, new, seen, vulns, fail_on, policy) for name, kind, old, new in plan
    ]
    notes = tuple(a.notes + b.notes + audit_notes)
    return core.DiffReport(
        old_label=a.label,
        new_label=b.label,
        changes=tuple(changes),
        unchanged=unchanged,
        notes=notes,
    )


def _fetch_all(
    fetches: Sequence[tuple[str, str, _Side, LockedPackage]],
    work: Path,
    jobs: int,
    on_done: Callable[[], None] = lambda: None,
) -> tuple[dict[tuple[str, str], list[ScanInput]], dict[tuple[str, str], list[str]]]:
    """Download and hash-check each package's files; a failure is that package's problem."""
    from pipvet.sources.scan_targets import fetch_pinned, open_index

    indexes: dict[str, object] = {}
    for _, _, side, _ in fetches:
        if side.index_url not in indexes:
            indexes[side.index_url] = open_index(side.index_url)

    def one(item):
        side_name, name, side, pkg = item
        dest = work / side_name
        what = f"the lock {side.label}"
        work_item = [(pkg.name, pkg.version, pkg.hashes, pkg.files)]
        try:
            got = fetch_pinned(indexes[side.index_url], work_item, dest, what, jobs=1)
        except PipvetError as exc:
            return item, [], [f"could not fetch {name} {pkg.version}: {exc.message}"]
        except OSError as exc:  # network trouble below the index client
            return item, [], [f"could not fetch {name} {pkg.version}: {exc}"]
        finally:
            on_done()
        return item, got.inputs, []

    inputs: dict[tuple[str, str], list[ScanInput]] = {}
    problems: dict[tuple[str, str], list[str]] = {}
    workers = min(8, max(jobs, 4))  # concurrent_map uses no more than there are fetches
    from pipvet.sources.index import concurrent_map

    for (side_name, name, _, _), got, probs in concurrent_map(one, fetches, workers):
        if got:
            inputs[(side_name, name)] = list(got)
        if probs:
            problems[(side_name, name)] = probs
    return inputs, problems


def _metadata(items: Sequence[ScanInput], use_cache: bool, problems: list[str]) -> dict:
    """Core metadata of one version: its wheel's METADATA (or the sdist's PKG-INFO), read as data
    by the archive reader, cached by sha256 beside the scan results."""
    from pipvet.core.analysis.archive import read_artifact
    from pipvet.core.hashes import file_digest
    from pipvet.sources.scan_cache import ScanCache

    ordered = sorted(items, key=lambda i: not i.path.name.endswith(".whl"))
    if not ordered:
        return {}
    item = ordered[0]
    cache = ScanCache() if use_cache else None
    try:
        digest = file_digest(item.path)
        hit = cache.get(digest, METADATA_CACHE_KEY) if cache else None
        if hit is not None:
            return hit
        try:
            art = read_artifact(item.path)
        except PipvetError as exc:
            problems.append(f"metadata of {item.path.name} not read: {exc.message}")
            return {}
        meta = {k: list(v) for k, v in art.metadata.items() if k in _WANTED_META}
        if cache:
            cache.put(digest, METADATA_CACHE_KEY, json.loads(json.dumps(meta)))
        return meta
    except OSError as exc:
        problems.append(f"metadata of {item.path.name} not read: {exc}")
        return {}
    finally:
        if cache:
            cache.close()


def _audit(plan, seen: dict[tuple[str, str], _Inspection], db_path) -> tuple[list[str], dict]:
    """Known vulnerabilities of both sides' changed versions: (notes, {(side, name): findings})."""
    from pipvet.services.audit import audit_packages
    from pipvet.sources.advisories.db import AdvisoryDbError

    ids: dict[str, set[PackageId]] = {"old": set(), "new": set()}
    for _, _, old, new in plan:
        if old is not None:
            ids["old"].add(PackageId(old.name, old.version))
        if new is not None:
            ids["new"].add(PackageId(new.name, new.version))
    for side_name in ("old", "new"):
        insp = seen.get((side_name, LOCAL))
        pid = _identity(insp) if insp else None
        if pid:
            ids[side_name].add(pid)
    out: dict[tuple[str, str], list] = {}
    notes: list[str] = []
    for side_name, pkgs in ids.items():
        if not pkgs:
            continue
        try:
            report = audit_packages(sorted(pkgs), db_path=db_path)
        except AdvisoryDbError as exc:
            return [f"vulnerabilities not checked: {exc.message}"], {}
        for f in report.findings:
            key = LOCAL if (side_name, LOCAL) in seen else f.package.name
            out.setdefault((side_name, key), []).append(f)
        for m in report.malware:  # known malware is kept apart from vulnerabilities
            key = LOCAL if (side_name, LOCAL) in seen else m.package.name
            out.setdefault((f"malware-{side_name}", key), []).append(m)
        if side_name == "new" and report.data_source:
            notes.append(f"advisories: {report.data_source}")
    return notes, out


def _identity(insp: _Inspection) -> PackageId | None:
    for r in insp.reports:
        if r.name and r.version:
            try:
                return PackageId.of(r.name, r.version)
            except ValueError:
                return None
    return None


def _vuln(f) -> core.VulnChange:
    return core.VulnChange(
        id=f.id,
        aliases=tuple(f.aliases),
        severity=f.severity.label,
        summary=f.summary,
        fixed_in=tuple(str(v) for v in f.fixed_in),
    )


def _change(name, kind, old, new, seen, vulns, fail_on, policy=None) -> core.PackageChange:
    from pipvet.core.matching.severity import Severity

    old_insp = seen.get(("old", name), _Inspection())
    new_insp = seen.get(("new", name), _Inspection())
    old_version = str(old.version) if old is not None else None
    new_version = str(new.version) if new is not None else None
    if kind == "local":
        old_version = _version_of(old_insp)
        new_version = _version_of(new_insp)
        kind = _local_kind(old_version, new_version)
        pid = _identity(new_insp) or _identity(old_insp)
        name = pid.name if pid else "artifact"

    reasons: list[str] = []
    actions: list[str] = []

    # capabilities
    def caps(insp: _Inspection):
        return core.capabilities((f, r.kind == "sdist") for r in insp.reports for f in r.findings)

    scanned_new = bool(new_insp.reports)
    if kind == "added" or (old_insp.reports and new_insp.reports):
        gained, lost = core.compare_capabilities(caps(old_insp), caps(new_insp))
    else:
        gained, lost = (), ()
    verdict = ""
    if scanned_new:
        verdict = max((r.verdict for r in new_insp.reports), key=verdict_rank)
        act = core.verdict_action(verdict, policy)
        actions.append(act)
        if act != core.OK:
            reasons.append(f"scan verdict {verdict}")

    install_time = [f"{c.phrase} in {c.where}" for c in gained if c.install_time]
    moved = kind in ("upgraded", "downgraded") and new_insp.reports
    if moved and old_insp.has_wheel and not new_insp.has_wheel:
        install_time.append("no wheel any more: installing builds the sdist (runs its code)")
    if install_time:
        actions.append(core.WARN)
        reasons.append("install-time code gained")

    # vulnerabilities and known malware
    before = vulns.get(("old", name), [])
    after = vulns.get(("new", name), [])
    before_ids = {i for f in before for i in f.ids}
    after_ids = {i for f in after for i in f.ids}
    introduced = tuple(_vuln(f) for f in after if not (set(f.ids) & before_ids))
    fixed = tuple(_vuln(f) for f in before if not (set(f.ids) & after_ids))
    malware = tuple(sorted({m.id for m in vulns.get(("malware-new", name), [])}))
    if malware:
        actions.append(core.BLOCK)
        reasons.append("known malware: " + ", ".join(malware))
    if introduced:
        limit = None if fail_on == "none" else Severity.from_label(fail_on)
        new_ones = [f for f in after if not (set(f.ids) & before_ids)]
        hit = limit is not None and any(f.severity >= limit for f in new_ones)
        actions.append(core.BLOCK if hit else core.WARN)
        n = len(introduced)
        reasons.append(f"{n} known vulnerabilit{'y' if n == 1 else 'ies'} introduced")

    # dependencies, metadata
    deps_added: tuple[str, ...] = ()
    deps_removed: tuple[str, ...] = ()
    metadata: tuple[core.MetadataChange, ...] = ()
    if old_insp.metadata and new_insp.metadata:
        deps_added, deps_removed = core.compare_dependencies(
            old_insp.metadata.get("requires-dist", []), new_insp.metadata.get("requires-dist", [])
        )
        metadata = core.compare_metadata(old_insp.metadata, new_insp.metadata)
    elif kind == "added" and new_insp.metadata:
        deps_added = tuple(sorted(new_insp.metadata.get("requires-dist", [])))

    # files of the same version
    reuploads: tuple[core.Reupload, ...] = ()
    files_added: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()
    if kind == "files-changed" and old is not None and new is not None:
        reuploads = core.find_reuploads(old, new)
        fa, fb = core.file_hashes(old), core.file_hashes(new)
        files_added = tuple(sorted(fb.keys() - fa.keys()))
        files_removed = tuple(sorted(fa.keys() - fb.keys()))
        if not fa or not fb:  # the lock does not name its files: hashes only
            added_h = {str(h) for h in new.hashes} - {str(h) for h in old.hashes}
            removed_h = {str(h) for h in old.hashes} - {str(h) for h in new.hashes}
            if removed_h:
                actions.append(core.WARN)
                reasons.append(
                    "hashes of the same version changed and the locks do not name their files: "
                    "a re-upload cannot be told from a changed file set"
                )
            files_added = files_added or tuple(sorted(added_h))
            files_removed = files_removed or tuple(sorted(removed_h))
    if reuploads:
        actions.append(core.BLOCK)
        reasons += [f"re-upload: {r.filename} has other bytes, same version" for r in reuploads]

    problems = tuple(old_insp.problems + new_insp.problems)
    if problems:
        actions.append(core.BLOCK)  # fail closed: what could not be read is not approved
        reasons.append("could not be inspected completely")
    return core.PackageChange(
        name=name,
        kind=kind,
        old_version=old_version,
        new_version=new_version,
        action=core.worst_action(actions),
        reasons=tuple(reasons),
        verdict=verdict,
        gained=gained,
        lost=lost,
        install_time=tuple(install_time),
        vulns_fixed=fixed,
        vulns_introduced=introduced,
        known_malware=malware,
        deps_added=deps_added,
        deps_removed=deps_removed,
        metadata=metadata,
        reuploads=reuploads,
        files_added=files_added,
        files_removed=files_removed,
        artifacts=tuple(r.filename for r in new_insp.reports),
        problems=problems,
    )


def _version_of(insp: _Inspection) -> str | None:
    for r in insp.reports:
        if r.version:
            return r.version
    return (insp.metadata.get("version") or [None])[0]


def _local_kind(old: str | None, new: str | None) -> str:
    try:
        a, b = Version(old or ""), Version(new or "")
    except ValueError:
        return "upgraded" if old != new else "files-changed"
    if b > a:
        return "upgraded"
    if b < a:
        return "downgraded"
    return "files-changed"  # the same version in two artifacts: still compared
