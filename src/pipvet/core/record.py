"""RECORD files (the installed-files list of a wheel install) and checking files against them.

pip writes RECORD when it installs a wheel but never checks it afterwards (pip#4705): this module
does. Each RECORD row is ``path,algorithm=urlsafe-b64-digest,size``; RECORD itself and generated
``.pyc`` files have an empty hash and size. Paths are relative to the site directory and may
climb out of it with ``..`` (console scripts in ``bin/``); such a path is read only when it
resolves inside the environment's prefix, and is reported otherwise.

Only local files are read; nothing is imported or executed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipvet.core.hashes import STRONG_ALGORITHMS, WEAK_ALGORITHMS


@dataclass(frozen=True)
class RecordEntry:
    """One RECORD row. ``digest`` is the urlsafe-base64 digest without padding, as written."""

    path: str
    algorithm: str | None
    digest: str | None
    size: int | None


def parse_record(text: str) -> list[RecordEntry]:
    """Parse the text of a RECORD file (CSV); blank rows are skipped, bad fields kept as None."""
    entries: list[RecordEntry] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        path = row[0]
        algorithm = digest = None
        if len(row) > 1 and "=" in row[1]:
            alg, _, dig = row[1].partition("=")
            algorithm, digest = alg.strip().lower(), dig.strip()
        size = None
        if len(row) > 2 and row[2].strip():
            try:
                size = int(row[2])
            except ValueError:
                size = None
        entries.append(RecordEntry(path, algorithm, digest, size))
    return entries


def record_digest(data_or_path: bytes | str | os.PathLike[str], algorithm: str) -> str:
    """The RECORD spelling of a digest: urlsafe base64 without ``=`` padding."""
    h = hashlib.new(algorithm)
    if isinstance(data_or_path, bytes):
        h.update(data_or_path)
    else:
        with open(data_or_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii")


class Problem(Enum):
    MODIFIED = "modified"  # hash or size differs from RECORD
    MISSING = "missing"  # listed in RECORD, absent on disk
    UNRECORDED = "unrecorded"  # on disk inside the package's folders, not in RECORD
    OUTSIDE = "outside"  # RECORD path resolves outside the environment: not read
    WEAK_HASH = "weak-hash"  # RECORD uses md5/sha1/sha224 or an unknown algorithm: not trusted
    NO_RECORD = "no-record"  # a .dist-info without RECORD


@dataclass(frozen=True)
class FileProblem:
    """One problem with one installed file of one distribution."""

    problem: Problem
    path: str  # as written in RECORD (or relative to the site directory for unrecorded files)
    detail: str = ""


@dataclass(frozen=True)
class DistCheck:
    """The result of checking one installed distribution against its RECORD."""

    name: str
    version: str
    dist_info: str
    checked: int  # files whose hash was compared
    unhashed: int  # RECORD rows without a hash (RECORD itself, .pyc files...)
    ignored_pycache: int  # interpreter-generated __pycache__/*.pyc not in RECORD, ignored
    problems: tuple[FileProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _is_generated_pyc(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith(".pyc")


def check_dist(
    *,
    name: str,
    version: str,
    dist_info: str | os.PathLike[str],
    site_dir: str | os.PathLike[str],
    prefix: str | os.PathLike[str],
    recorded_elsewhere: frozenset[Path] = frozenset(),
) -> DistCheck:
    """Check every file a distribution's RECORD lists, and look for files it does not list.

    Unrecorded files are searched for in the top-level folders the RECORD names inside the site
    directory (the package's own folders); files that ``recorded_elsewhere`` (other distributions'
    RECORDs, see ``recorded_paths``) lists are not blamed on this one (namespace packages).
    ``__pycache__/*.pyc`` files the interpreter wrote are ignored (and counted) when RECORD does
    not list them.
    """
    dist_info = Path(dist_info)
    site = Path(os.path.realpath(site_dir))
    root = Path(os.path.realpath(prefix))
    record_path = dist_info / "RECORD"
    try:
        text = record_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        problem = FileProblem(Problem.NO_RECORD, f"{dist_info.name}/RECORD", "cannot verify")
        return DistCheck(name, version, str(dist_info), 0, 0, 0, (problem,))
    problems: list[FileProblem] = []
    checked = unhashed = 0
    recorded: set[Path] = set()
    top_dirs: set[str] = set()
    for entry in parse_record(text):
        target = Path(os.path.normpath(site / entry.path))
        if not _inside(target, site if ".." not in Path(entry.path).parts else root):
            problems.append(
                FileProblem(Problem.OUTSIDE, entry.path, "points outside the environment; not read")
            )
            continue
        real = Path(os.path.realpath(target))
        if not _inside(real, root) and not _inside(real, site):
            problems.append(
                FileProblem(Problem.OUTSIDE, entry.path, "resolves outside the environment")
            )
            continue
        recorded.add(target)
        if _inside(target, site):
            rel_parts = target.relative_to(site).parts
            if len(rel_parts) > 1:
                top_dirs.add(rel_parts[0])
        if not target.is_file():
            problems.append(FileProblem(Problem.MISSING, entry.path))
            continue
        if entry.algorithm is None or not entry.digest:
            unhashed += 1
            continue
        if entry.algorithm not in STRONG_ALGORITHMS:
            weak = "weak" if entry.algorithm in WEAK_ALGORITHMS else "unknown"
            problems.append(
                FileProblem(Problem.WEAK_HASH, entry.path, f"{weak} algorithm {entry.algorithm}")
            )
            continue
        checked += 1
        size = target.stat().st_size
        if entry.size is not None and size != entry.size:
            problems.append(
                FileProblem(Problem.MODIFIED, entry.path, f"size {size}, recorded {entry.size}")
            )
            continue
        if record_digest(target, entry.algorithm) != entry.digest.rstrip("="):
            problems.append(FileProblem(Problem.MODIFIED, entry.path, "content differs"))
    ignored = 0
    for unrecorded in _walk(site, sorted(top_dirs), recorded | recorded_elsewhere):
        rel = unrecorded.relative_to(site).as_posix()
        if _is_generated_pyc(rel):
            ignored += 1
            continue
        problems.append(FileProblem(Problem.UNRECORDED, rel))
    return DistCheck(name, version, str(dist_info), checked, unhashed, ignored, tuple(problems))


def recorded_paths(
    dist_info: str | os.PathLike[str], site_dir: str | os.PathLike[str]
) -> set[Path]:
    """The normalised absolute paths a distribution's RECORD lists (empty without RECORD)."""
    site = Path(os.path.realpath(site_dir))
    try:
        text = (Path(dist_info) / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {Path(os.path.normpath(site / e.path)) for e in parse_record(text)}


def _walk(site: Path, top_dirs: Iterable[str], recorded: set[Path]) -> Iterable[Path]:
    for top in top_dirs:
        base = site / top
        if not base.is_dir() or base.is_symlink():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for fn in sorted(filenames):
                p = Path(dirpath) / fn
                if p not in recorded:
                    yield p
