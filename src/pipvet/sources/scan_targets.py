"""Expand what the user asked to scan into inputs to read.

A target is an artifact file, a folder of them (recursive; a folder that looks like an unpacked
source tree is read as one), ``NAME==VERSION`` or ``NAME`` (downloaded from the index and checked
against its sha256), an installed distribution (its RECORD files), or every package of a lock or
requirements file (checked against the lock's hashes). Nothing is unpacked, built or imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, sys_tags
from packaging.utils import (
    canonicalize_name,
)
from packaging.version import Version

from pipvet.core.errors import InputError, PolicyRefusal, UsageError
from pipvet.core.filenames import (
    file_version,
    is_pure_wheel,
    parse_filename,
    sdist_preference,
    wheel_rank,
)
from pipvet.core.models import DEFAULT_INDEX_URL as DEFAULT_INDEX
from pipvet.core.models import DistFile, FileHash
from pipvet.core.reports.scan import ScanInput
from pipvet.sources.requirements import exact_pin

ARTIFACT_SUFFIXES = (".whl", ".zip", ".egg", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
TREE_MARKERS = ("setup.py", "pyproject.toml", "PKG-INFO", "setup.cfg")


@dataclass
class Expansion:
    """The inputs to scan, plus notes for the user (skipped lines, empty folders)."""

    inputs: list[ScanInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- local paths -------------------------------------------------------------------------------


def is_tree(folder: Path) -> bool:
    return any((folder / m).is_file() for m in TREE_MARKERS)


def _is_artifact_name(name: str) -> bool:
    return name.lower().endswith(ARTIFACT_SUFFIXES)


def expand_path(path: Path, out: Expansion) -> None:
    """A file, a source tree, or a folder searched recursively for artifacts and trees."""
    if path.is_file():
        out.inputs.append(ScanInput(path, str(path)))
        return
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder")
    if is_tree(path):
        out.inputs.append(ScanInput(path, str(path), kind="tree"))
        return
    found = 0
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if sub.is_symlink() or d.startswith("."):
                continue
            if is_tree(sub):
                out.inputs.append(ScanInput(sub, str(sub), kind="tree"))
                found += 1
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            f = here / name
            if _is_artifact_name(name) and not f.is_symlink() and f.is_file():
                out.inputs.append(ScanInput(f, str(f)))
                found += 1
    if not found:
        out.inputs.append(ScanInput(path, str(path), kind="tree"))
        out.notes.append(f"{path}: no artifacts found; read as a source tree")


# -- choosing files from an index --------------------------------------------------------------


def _wheel_rank(filename: str, priority: dict[Tag, int]) -> int:
    """Wheels this interpreter supports by its tag priority; then pure wheels, then the rest."""
    if parse_filename(filename) is None:
        return len(priority) + 2
    rank = wheel_rank(filename, priority)
    if rank is not None:
        return rank
    return len(priority) + (0 if is_pure_wheel(filename) else 1)


def choose_files(files: Sequence[DistFile], version: Version | None) -> list[DistFile]:
    """The sdist and the best wheel for this platform of ``version`` (default: the newest
    non-yanked final release that has files)."""
    by_version: dict[Version, list[DistFile]] = {}
    for f in files:
        v = file_version(f.filename)
        if v is not None:
            by_version.setdefault(v, []).append(f)
    if version is None:
        candidates = [
            v
            for v, fs in by_version.items()
            if not v.is_prerelease and any(not f.yanked for f in fs)
        ] or [v for v, fs in by_version.items() if any(not f.yanked for f in fs)]
        if not candidates:
            return []
        version = max(candidates)
    chosen = by_version.get(version, [])
    if not chosen:
        return []
    priority = {t: i for i, t in enumerate(sys_tags())}
    sdists = [f for f in chosen if not f.is_wheel]
    wheels = sorted(
        (f for f in chosen if f.is_wheel),
        key=lambda f: (_wheel_rank(f.filename, priority), f.filename),
    )
    picked = sorted(sdists, key=lambda f: sdist_preference(f.filename))[:1]
    return picked + wheels[:1]


def fetch_verified(
    index, file: DistFile, dest: Path, accepted: Sequence[FileHash], what: str
) -> Path:
    """Download ``file`` and check its sha256 against ``accepted``; refuse on mismatch."""
    from pipvet.sources.index import download_with_digest

    want = {h.digest.lower() for h in accepted if h.algorithm == "sha256"}
    if not want:
        raise PolicyRefusal(
            f"{file.filename}: {what} gives no sha256 for this file, so it cannot be verified"
        )
    result = download_with_digest(file, dest, timeout=getattr(index, "timeout", 60))
    if result.sha256 not in want:
        result.path.unlink(missing_ok=True)
        raise PolicyRefusal(
            f"{file.filename}: sha256 does not match {what}; not scanned",
            hint=f"expected {sorted(want)[0]}, got {result.sha256}",
        )
    return result.path


def _index(url: str):
    from pipvet.sources.index import SimpleIndex

    return SimpleIndex(url)


def expand_requirement(text: str, index_url: str, dest: Path, out: Expansion) -> None:
    """``NAME==VERSION`` or ``NAME``: download the sdist and best wheel, checked against the
    index's sha256."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(f"{text!r} is neither a file nor a requirement: {exc}") from None
    version = exact_pin(req)
    if version is None and str(req.specifier):
        raise UsageError(f"{text}: give an exact version (NAME==VERSION) or just NAME")
    index = _index(index_url)
    files = index.project_files(req.name)
    chosen = choose_files(files, version)
    if not chosen:
        where = f"version {version}" if version else "any release"
        raise InputError(f"{req.name}: the index has no files for {where}")
    for f in chosen:
        path = fetch_verified(index, f, dest, f.hashes, "the index")
        out.inputs.append(ScanInput(path, f"{canonicalize_name(req.name)}: {f.filename}"))


# -- locks and requirements files --------------------------------------------------------------


def expand_lock(path: Path, index_url: str, dest: Path, out: Expansion, *, jobs: int = 8) -> None:
    """Every package of a lock: sdist and best wheel among the files whose hashes it records."""
    from pipvet.core.lockfile_io import read_lock

    lock = read_lock(path)
    url = lock.index_url or index_url
    index = _index(url)
    work: list[tuple[str, Version, tuple[FileHash, ...], tuple[DistFile, ...]]] = [
        (p.name, p.version, p.hashes, p.files) for p in lock.packages
    ]
    _fetch_pinned(index, work, dest, out, f"the lock {path.name}", jobs)


def expand_requirements(
    path: Path, index_url: str, dest: Path, out: Expansion, *, jobs: int = 8
) -> None:
    """Pinned lines (``name==version``) of a requirements file, read by the one requirements reader
    (``-r``/``-c`` includes, ``${VAR}``, options); unpinned lines are skipped with a note. Lines
    with ``--hash`` are checked against those hashes, others against the index's."""
    from pipvet.sources.requirements import read_requirements

    read = read_requirements(path, keep_editables=True)
    out.notes += [
        f"{where}: option line skipped (-e: nothing to download)" for where in read.editables
    ]
    work = []
    for line in read.requirements:
        where = f"{line.source}:{line.lineno}"
        version = exact_pin(line.requirement)
        if line.requirement.url or version is None:
            out.notes.append(f"{where}: {line.requirement.name} is not pinned with ==, skipped")
            continue
        work.append((canonicalize_name(line.requirement.name), version, line.hashes, ()))
    _fetch_pinned(_index(read.index_url or index_url), work, dest, out, f"{path.name}", jobs)


def open_index(url: str):
    """The package index at ``url`` (one object to share between fetches)."""
    return _index(url)


def fetch_pinned(index, work, dest: Path, what: str, *, jobs: int = 8) -> Expansion:
    """Download and hash-check pinned packages: ``work`` holds (name, version, hashes, files)
    tuples as a lock records them (no hashes: the index's are used)."""
    out = Expansion()
    _fetch_pinned(index, work, dest, out, what, jobs)
    return out


def _fetch_pinned(index, work, dest: Path, out: Expansion, what: str, jobs: int) -> None:
    def one(item) -> list[ScanInput]:
        name, version, hashes, files = item
        listed = list(files) if any(f.url for f in files) else index.project_files(name)
        if hashes:
            digests = {h.digest for h in hashes if h.algorithm == "sha256"}
            locked_names = {x.filename for x in files}
            matching = [f for f in listed if f.sha256 in digests]
            # a locked filename the index now lists with another hash is still fetched: the
            # download is then refused by its hash, with the file named (pip#3996, #11692)
            listed = matching or [f for f in listed if f.filename in locked_names]
        chosen = choose_files(listed, version)
        if not chosen and hashes:
            raise PolicyRefusal(
                f"{name}=={version}: no file on the index has a sha256 that {what} records",
                hint="the index changed its files since the lock was made, or it is another index",
            )
        if not chosen:
            raise InputError(f"{name}=={version}: the index has no files for this version")
        results = []
        for f in chosen:
            accepted = hashes or f.hashes
            source = what if hashes else "the index"
            p = fetch_verified(index, f, dest / str(name), accepted, source)
            results.append(ScanInput(p, f"{name}=={version}: {f.filename}"))
        return results

    from pipvet.sources.index import concurrent_map

    for items in concurrent_map(one, work, jobs):
        out.inputs.extend(items)


# -- installed distributions -------------------------------------------------------------------


def expand_installed(name: str, out: Expansion, *, python: str | None = None) -> None:
    """An installed distribution: the files its RECORD lists, read where they are."""
    from pipvet.core.record import parse_record
    from pipvet.sources.environment import default_python, installed_distributions

    want = canonicalize_name(name)
    dists = [d for d in installed_distributions(python) if d.name == want]
    if not dists:
        raise InputError(f"{name} is not installed in {default_python(python)}")
    dist = dists[0]
    site = Path(dist.site_dir)
    record = Path(dist.dist_info) / "RECORD"
    try:
        entries = parse_record(record.read_text(encoding="utf-8", errors="replace"))
        files = tuple(e.path for e in entries)
    except OSError:
        files = tuple(
            str(p.relative_to(site)) for p in Path(dist.dist_info).iterdir() if p.is_file()
        )
        out.notes.append(f"{name}: no RECORD; only its metadata folder was read")
    prefix = site.parents[2] if site.parent.name.startswith("python") else site
    out.inputs.append(
        ScanInput(
            site,
            f"{dist.display_name}-{dist.version} [installed]",
            kind="installed",
            files=files,
            allowed_root=prefix,
        )
    )


# -- everything --------------------------------------------------------------------------------


def looks_like_path(target: str) -> bool:
    return (
        os.sep in target
        or "/" in target
        or target.startswith(".")
        or _is_artifact_name(target)
        or target.endswith((".py", ".txt", ".toml"))
    )


def expand_targets(
    targets: Sequence[str],
    *,
    installed: Sequence[str] = (),
    python: str | None = None,
    locks: Sequence[Path] = (),
    requirements: Sequence[Path] = (),
    index_url: str = DEFAULT_INDEX,
    download_dir: Path,
    jobs: int = 8,
    on_download: Callable[[str], None] | None = None,
) -> Expansion:
    """Turn every target into inputs; downloads land in ``download_dir`` (the caller's temp dir).

    ``installed`` names distributions of the environment of ``python`` (default: the active venv,
    else pipvet's own: ``pipvet.sources.environment.default_python``).
    """
    out = Expansion()
    for i, t in enumerate(targets):
        p = Path(t)
        try:
            exists = p.exists()
        except OSError as exc:  # a folder on the way cannot be searched
            raise InputError(f"cannot read {t}: {exc.strerror or exc}") from None
        if exists:
            expand_path(p, out)
        elif looks_like_path(t):
            raise InputError(f"{t}: no such file or folder")
        else:
            if on_download:
                on_download(t)
            expand_requirement(t, index_url, download_dir / f"target-{i}", out)
    for name in installed:
        expand_installed(name, out, python=python)
    for lock in locks:
        expand_lock(Path(lock), index_url, download_dir, out, jobs=jobs)
    for req in requirements:
        expand_requirements(Path(req), index_url, download_dir, out, jobs=jobs)
    return out
