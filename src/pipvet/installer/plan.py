"""What to install: for each pinned package, which file, and which hashes it must have.

From a lock: every line must be pinned and hashed with a strong algorithm (each bad line is named),
and for each package the best wheel for the TARGET interpreter (by its tag priority) among the files
the lock knows. A file the lock does not know is refused with an explained cause (a later upload,
another platform, another index; pip#3996, pip#11692, pip-tools#414, pip#12424).

Without a lock: pins come from the resolver, the expected hash is the one the index lists, checked
against the trust-on-first-use store (a known filename with a different hash is the red flag).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipvet.core.errors import InputError, PolicyRefusal
from pipvet.core.filenames import is_release_file, sdist_preference, wheel_rank
from pipvet.core.hashes import (
    STRONG_ALGORITHMS,
    WEAK_ALGORITHMS,
    HashMismatch,
    MismatchCause,
    WeakHashError,
    check_algorithm,
    classify_mismatch,
    render_mismatch,
)
from pipvet.core.lockfile import Lock, LockedPackage
from pipvet.core.models import DistFile, FileHash
from pipvet.installer.target import Target


@dataclass(frozen=True)
class PlannedFile:
    """One file to download, verify and stage."""

    name: NormalizedName
    version: Version
    file: DistFile  # as the index lists it now
    expected: tuple[FileHash, ...]  # the bytes must match one of these (empty: not checked)
    expected_from: str  # "requirements.lock:12", "trust store ...", "index listing ..."
    locked_files: tuple[DistFile, ...] = ()  # what the lock knows for this package (messages)
    index_files: tuple[DistFile, ...] = ()  # what the index lists for this version (messages)
    build_dependency: bool = False  # staged only so an allowed sdist can be built offline
    tofu: bool = False  # expected hash comes from the index: record it in the trust store
    unhashed: bool = False  # the index listed no strong hash: the download's own sha256 is recorded

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def is_sdist(self) -> bool:
        return not self.file.is_wheel


@dataclass(frozen=True)
class InstallPlan:
    """Everything ``pipvet.installer.run.install`` needs; nothing has been downloaded yet."""

    target: Target
    index_url: str
    files: tuple[PlannedFile, ...]
    verify_hashes: bool = True
    lock_path: str | None = None
    lock_index_url: str | None = None
    allow_sdist: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()  # things the user must hear before anything is installed
    build_locked: bool = False  # build dependencies come from the lock (never resolved anew)


# -- choosing a file ----------------------------------------------------------------------------


def _wheel_rank(filename: str, name: str, version: Version, rank: dict[Tag, int]) -> int | None:
    if not filename.endswith(".whl") or not is_release_file(filename, name, version):
        return None
    return wheel_rank(filename, rank)


def _is_sdist_of(filename: str, name: str, version: Version) -> bool:
    return not filename.endswith(".whl") and is_release_file(filename, name, version)


def version_files(files: Iterable[DistFile], name: str, version: Version) -> list[DistFile]:
    """The files of one release (wheels and sdists) among a project's listing."""
    return [f for f in files if is_release_file(f.filename, name, version)]


def candidates(
    files: Iterable[DistFile], name: str, version: Version, target: Target, *, allow_sdist: bool
) -> list[DistFile]:
    """Files of ``name==version`` the target can install, best first: wheels by the target's tag
    priority, then (only when allowed) the sdist. Files whose Requires-Python excludes the
    target's version are left out."""
    rank = target.tag_rank
    wheels: list[tuple[int, str, DistFile]] = []
    sdists: list[DistFile] = []
    for f in files:
        if f.requires_python:
            try:
                if not SpecifierSet(f.requires_python).contains(target.version, prereleases=True):
                    continue
            except InvalidSpecifier:
                pass
        if f.is_wheel:
            r = _wheel_rank(f.filename, name, version, rank)
            if r is not None:
                wheels.append((r, f.filename, f))
        elif allow_sdist and _is_sdist_of(f.filename, name, version):
            sdists.append(f)
    sdists.sort(key=lambda f: sdist_preference(f.filename))
    return [f for _r, _n, f in sorted(wheels, key=lambda t: (t[0], t[1]))] + sdists


def _no_file_error(name: str, version: Version, listed: Sequence[DistFile], target: Target) -> str:
    has_sdist = any(_is_sdist_of(f.filename, name, version) for f in listed)
    if not listed:
        return f"{name}=={version}: the index has no files for this version"
    msg = f"{name}=={version}: no wheel for this Python ({target.version}, {target.tags[0]})"
    if has_sdist:
        msg += f"; only an sdist, and building it runs its code: --allow-sdist {name} to allow it"
    return msg


# -- from a lock --------------------------------------------------------------------------------


_TOML_NAME_RE = re.compile(r'^\s*name\s*=\s*"([^"]+)"')
_REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(==|===|;|\s|$)")


def lock_line_numbers(path: str | Path) -> dict[str, int]:
    """Line of each package in a lock file (requirements or pylock form), for messages."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return {}
    lines: dict[str, int] = {}
    is_toml = str(path).endswith(".toml")
    for no, line in enumerate(text.splitlines(), start=1):
        m = (_TOML_NAME_RE if is_toml else _REQ_NAME_RE).match(line)
        if m and not line.lstrip().startswith(("#", "-")):
            lines.setdefault(canonicalize_name(m.group(1)), no)
    return lines


def check_lock_hashes(lock: Lock, lines: dict[str, int], source: str) -> None:
    """Refuse unhashed and weakly hashed lock lines, naming every one of them."""
    unhashed, weak = [], []
    for pkg in (*lock.packages, *lock.build_packages):
        where = f"{source}:{lines.get(pkg.name, '?')}"
        if not pkg.hashes:
            unhashed.append(f"  {where}: {pkg.name}=={pkg.version}")
        bad = sorted({h.algorithm for h in pkg.hashes if h.algorithm not in STRONG_ALGORITHMS})
        if bad:
            weak.append(f"  {where}: {pkg.name}=={pkg.version} ({', '.join(bad)})")
    if weak:
        known_weak = all(
            h.algorithm in WEAK_ALGORITHMS or h.algorithm in STRONG_ALGORITHMS
            for p in lock.packages
            for h in p.hashes
        )
        what = "weak hashes (md5, sha1 and sha224 are refused)" if known_weak else "unknown hashes"
        raise WeakHashError(
            f"the lock has {what}; only sha256, sha384 or sha512 prove integrity:\n"
            + "\n".join(weak[:10]),
            hint="re-create the lock with `pipvet lock`, which records sha256 for every file",
        )
    if unhashed:
        raise PolicyRefusal(
            "every locked package needs a hash; these lines have none:\n"
            + "\n".join(unhashed[:10]),
            hint="re-create the lock with `pipvet lock`, which hashes every file of every package"
            " (or pass --no-verify-hashes to install without checking, not recommended)",
        )


def _applies(pkg: LockedPackage, target: Target) -> bool:
    if not pkg.marker or target.markers is None:
        return True
    from packaging.markers import InvalidMarker, Marker

    try:
        return Marker(pkg.marker).evaluate(dict(target.markers))
    except InvalidMarker as e:
        raise InputError(f"invalid marker {pkg.marker!r} for {pkg.name}: {e}") from None


def plan_from_lock(
    lock: Lock,
    listings: dict[str, list[DistFile]],
    target: Target,
    *,
    index_url: str,
    allow_sdist: Iterable[str] = (),
    verify_hashes: bool = True,
    names: Iterable[str] | None = None,
) -> InstallPlan:
    """Choose a file for every locked package that applies to the target.

    ``listings`` maps each normalised name to what the index lists now. ``names`` restricts the
    plan to some packages (``pipvet install PKG --lock FILE``). Refusals (``PolicyRefusal``) list
    every problem found, each mismatch in at most five lines.
    """
    source = lock.source_path or "lock"
    lines = lock_line_numbers(source) if lock.source_path else {}
    if verify_hashes:
        check_lock_hashes(lock, lines, source)
    allowed = {canonicalize_name(n) for n in allow_sdist}
    wanted = {canonicalize_name(n) for n in names} if names is not None else None
    planned: list[PlannedFile] = []
    mismatches: list[HashMismatch] = []
    problems: list[str] = []
    warnings: list[str] = []
    if lock.index_line and lock.index_url and index_url.rstrip("/") == lock.index_url.rstrip("/"):
        warnings.append(
            f"{source}:{lock.index_line} names the index {lock.index_url} (an --index-url line): "
            "files come from there, checked against the lock's hashes"
        )
    todo = [(pkg, False) for pkg in lock.packages]
    for pkg, build in _with_build_packages(lock, todo, listings, target, allowed, wanted, warnings):
        if not build and (wanted is not None and pkg.name not in wanted):
            continue
        if not _applies(pkg, target):
            continue
        listed = version_files(listings.get(pkg.name, []), pkg.name, pkg.version)
        may_build = pkg.name in allowed and not build  # build dependencies: wheels only
        cands = candidates(listed, pkg.name, pkg.version, target, allow_sdist=may_build)
        if not cands:
            problems.append(_no_file_error(pkg.name, pkg.version, listed, target))
            continue
        where = f"{source}:{lines.get(pkg.name, '?')}"
        if build:
            where += " (build dependency)"
        if not verify_hashes:
            planned.append(
                PlannedFile(
                    pkg.name, pkg.version, cands[0], (), "not checked", build_dependency=build
                )
            )
            continue
        pick, expected = _pick_locked(pkg, cands)
        if pick is None:
            best = cands[0]
            cause = classify_mismatch(
                filename=best.filename,
                locked_files=pkg.files,
                locked_hashes=pkg.hashes,
                actual_sha256=best.sha256,
                index_files=listed,
                lock_index_url=lock.index_url,
                index_url=index_url,
                compatible=[c.filename for c in cands],
            )
            mismatches.append(
                HashMismatch(
                    requirement=f"{pkg.name}=={pkg.version}",
                    filename=best.filename,
                    url=best.url,
                    expected=pkg.hashes,
                    actual=FileHash("sha256", best.sha256) if best.sha256 else None,
                    expected_from=where,
                    cause=cause,
                    listed_only=True,
                )
            )
            continue
        planned.append(
            PlannedFile(
                pkg.name,
                pkg.version,
                pick,
                expected,
                where,
                locked_files=pkg.files,
                index_files=tuple(listed),
                build_dependency=build,
            )
        )
    _raise_problems(problems, mismatches)
    return InstallPlan(
        target=target,
        index_url=index_url,
        files=tuple(planned),
        verify_hashes=verify_hashes,
        lock_path=lock.source_path,
        lock_index_url=lock.index_url,
        allow_sdist=frozenset(allowed),
        warnings=tuple(warnings),
        build_locked=bool(lock.build_packages),
    )


def _with_build_packages(
    lock: Lock,
    todo: list[tuple[LockedPackage, bool]],
    listings: dict[str, list[DistFile]],
    target: Target,
    allowed: set[str],
    wanted: set[str] | None,
    warnings: list[str],
) -> list[tuple[LockedPackage, bool]]:
    """The lock's packages, and its locked build dependencies when an sdist will be built.

    pip does not hash-check build dependencies; the lock pins them, so they are staged exactly
    as locked (and nothing newer from the index is ever looked at). A lock that pins none gets a
    warning: they are then resolved now and trusted on first use."""
    sdists = []
    for pkg, _b in todo:
        if pkg.name not in allowed or (wanted is not None and pkg.name not in wanted):
            continue
        listed = version_files(listings.get(pkg.name, []), pkg.name, pkg.version)
        if not candidates(listed, pkg.name, pkg.version, target, allow_sdist=False):
            sdists.append(pkg.name)  # no wheel for this target: the sdist will be built
    if not sdists:
        return todo
    if not lock.build_packages:
        warnings.append(
            f"the lock pins no build dependencies for {', '.join(sdists)}: they are resolved "
            "now and trusted on first use (re-create the lock with `pipvet lock --allow-sdist` "
            "to pin them)"
        )
        return todo
    return todo + [(pkg, True) for pkg in lock.build_packages]


def _pick_locked(
    pkg: LockedPackage, cands: Sequence[DistFile]
) -> tuple[DistFile | None, tuple[FileHash, ...]]:
    """The best candidate the lock knows, and the hashes its bytes must have.

    With per-file names in the lock (``#   <filename> sha256:...`` comments, pylock files), a file
    is known by its name and must have that file's hash. Without them, a file is known when the
    index lists one of the package's locked hashes for it; one with no listed hash is still tried
    (its bytes are checked after download against all of the package's hashes).
    """
    if pkg.files:
        by_name = {f.filename: f for f in pkg.files}
        for c in cands:
            known = by_name.get(c.filename)
            if known is not None:
                return c, tuple(h for h in known.hashes if h.algorithm in STRONG_ALGORITHMS)
        return None, ()
    digests = {h.digest for h in pkg.hashes}
    for c in cands:
        if any(h.digest in digests for h in c.hashes):
            return c, pkg.hashes
    for c in cands:
        if not c.hashes:
            return c, pkg.hashes
    return None, ()


def _raise_problems(problems: list[str], mismatches: list[HashMismatch]) -> None:
    if not problems and not mismatches:
        return
    parts = [render_mismatch(m) for m in mismatches[:5]]
    if len(mismatches) > 5:
        parts.append(f"... and {len(mismatches) - 5} more files refused")
    parts += problems
    if mismatches:
        raise PolicyRefusal("\n".join(parts))
    raise PolicyRefusal("\n".join(problems))


# -- without a lock (trust on first use) ---------------------------------------------------------


def plan_from_pins(
    pins: Sequence[tuple[str, Version]],
    listings: dict[str, list[DistFile]],
    target: Target,
    trust,  # pipvet.installer.trust_store.TrustStore
    *,
    index_url: str,
    allow_sdist: Iterable[str] = (),
    verify_hashes: bool = True,
    build_dependency: bool = False,
) -> InstallPlan:
    """Choose a file for every resolved pin; its expected hash is the index's (trust on first
    use), and a filename seen before with another hash is refused as the red flag."""
    allowed = {canonicalize_name(n) for n in allow_sdist}
    planned: list[PlannedFile] = []
    mismatches: list[HashMismatch] = []
    problems: list[str] = []
    no_hash: list[str] = []
    for raw_name, version in pins:
        name = canonicalize_name(raw_name)
        listed = version_files(listings.get(name, []), name, version)
        cands = candidates(listed, name, version, target, allow_sdist=name in allowed)
        if not cands:
            problems.append(_no_file_error(name, version, listed, target))
            continue
        pick = cands[0]
        if not verify_hashes:
            planned.append(
                PlannedFile(
                    name, version, pick, (), "not checked", build_dependency=build_dependency
                )
            )
            continue
        strong = []
        for h in pick.hashes:
            try:
                strong.append(FileHash(check_algorithm(h.algorithm), h.digest))
            except (WeakHashError, InputError, PolicyRefusal):
                continue
            except Exception:  # unknown algorithm names from an index: ignore them
                continue
        trusted = trust.get(pick.filename)
        listed_sha = next((h.digest for h in strong if h.algorithm == "sha256"), None)
        if trusted is not None and listed_sha and listed_sha != trusted.sha256:
            other_index = bool(trusted.index_url) and (
                trusted.index_url.rstrip("/") != index_url.rstrip("/")
            )
            mismatches.append(
                HashMismatch(
                    requirement=f"{name}=={version}",
                    filename=pick.filename,
                    url=pick.url,
                    expected=(FileHash("sha256", trusted.sha256),),
                    actual=FileHash("sha256", listed_sha),
                    expected_from=trust.describe(trusted),
                    cause=MismatchCause.OTHER_INDEX if other_index else MismatchCause.CHANGED_BYTES,
                    listed_only=True,
                )
            )
            continue
        known: tuple[DistFile, ...] = ()
        if trusted is not None:
            expected = (FileHash("sha256", trusted.sha256),)
            origin = trust.describe(trusted)
            # the trust store knows this filename: other bytes under it are the red flag
            known = (DistFile(pick.filename, pick.url, hashes=expected),)
        elif strong:
            expected = tuple(strong)
            origin = f"index listing {index_url} (trust on first use)"
        else:
            no_hash.append(f"{name}=={version} ({pick.filename})")
            planned.append(
                PlannedFile(
                    name,
                    version,
                    pick,
                    (),
                    "nothing: the index listed no sha256 (recorded on first use)",
                    index_files=tuple(listed),
                    build_dependency=build_dependency,
                    tofu=True,
                    unhashed=True,
                )
            )
            continue
        planned.append(
            PlannedFile(
                name,
                version,
                pick,
                expected,
                origin,
                locked_files=known,
                index_files=tuple(listed),
                build_dependency=build_dependency,
                tofu=trusted is None,
            )
        )
    _raise_problems(problems, mismatches)
    warnings: tuple[str, ...] = ()
    if no_hash:
        more = f" and {len(no_hash) - 10} more" if len(no_hash) > 10 else ""
        warnings = (
            "the index lists no sha256 for: " + ", ".join(no_hash[:10]) + more + ".\n"
            "  pipvet records the sha256 of what it downloads now (trust on first use), so later "
            "changes are caught,\n  but nothing proves these bytes are the ones published. "
            "To do, simplest first:\n"
            "  1) install from an index that lists hashes (--index-url https://pypi.org/simple/);\n"
            "  2) lock with hashes the project publishes and install with --lock.",
        )
    return InstallPlan(
        target=target,
        index_url=index_url,
        files=tuple(planned),
        verify_hashes=verify_hashes,
        allow_sdist=frozenset(allowed),
        warnings=warnings,
    )
